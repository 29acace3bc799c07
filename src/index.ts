/**
 * torchfit's public API: train image classifiers (the Fashion-MNIST notebook's CNN, ResNet v1
 * of any depth, or your own layers) from Node.js on libtorch, on CPU or CUDA, and report on them.
 *
 * This list is the whole public surface: everything else under src/ is internal and may change.
 * A new public name is added here, to its group, and to test/public-api.test.js.
 */

// ---- Data: arrays, .npy files, the data set, splits, labels, image folders ----
export type { DType, NdArray, ObjectArray, TypedArray } from './data/ndarray.js';
export { loadNpy, parseNpy, type NpyReadOptions, type NpyValue } from './data/npy-read.js';
export { encodeNpy, saveNpy, type NpySaveValue } from './data/npy-write.js';
export type { PickleDict, PickleLimits, PickleValue } from './data/pickle.js';
export { readTorchArchive } from './data/torch-file.js';
export type { PicklableValue } from './data/pickle-write.js';
export {
  buildDataset, loadDataset, DEFAULT_GROUPING, FASHION_MNIST_CLASSES,
  type BuildDatasetOptions, type BuildDatasetResult, type ClassGroup, type Dataset,
} from './data/dataset.js';
export { notebookSplit, trainTestSplit, type NotebookSplit, type SplitIndices, type TrainTestSplitOptions } from './data/split.js';
export { takeRows } from './data/rows.js';
export { labelsToOneBased, labelsToZeroBased, toCategorical, type LabelsInput } from './data/categorical.js';
export { loadImageFolder, type ImageFolder, type ImageFolderOptions } from './data/images.js';
export type { DataFormat } from './data/image-layout.js';

// ---- Models: the presets and the layers API ----
export { describeModel, type DescribeOptions, type ModelDescription, type ModelKind } from './models/describe.js';
export { cnnLayers, resnetLayers } from './models/presets.js';
export type {
  ModelSpec, LayersModelSpec, LayerSpec, LayerType,
  ResolvedLayer, ResolvedConv2D, ResolvedDense, ResolvedBatchNormalization, ResolvedPooling2D, ResolvedResidual,
  Conv2DSpec, DenseSpec, BatchNormalizationSpec, ActivationSpec, Pooling2DSpec, GlobalAveragePooling2DSpec,
  FlattenSpec, DropoutSpec, ResidualSpec, ActivationName, InitializerName, PaddingName, Size2, KernelRegularizer,
} from './models/layers.js';
export { pytorchSource, type PytorchSourceOptions } from './models/pytorch.js';

// ---- Training ----
export { trainModel, type TrainResult } from './torch/train.js';
export {
  notebookLearningRate,
  type TrainOptions, type OptimizerName, type OptimizerOptions, type EarlyStoppingOptions, type LearningRateSchedule,
} from './torch/options.js';
export type { ImagesInput, LabelsInput as TrainingLabels } from './torch/inputs.js';
export type { AugmentOptions, FillMode } from './torch/augment.js';
export type { KernelChoice } from './torch/native.js';
export type { Device } from './torch/device.js';
export type { BatchLog, EpochLog, History, StopReason } from './torch/types.js';
export { distributedFromEnv, type DistributedOptions } from './torch/distributed.js';
export { Tensor, type TensorData, type TensorDType } from './torch/tensor.js';

// ---- Trained models and checkpoints: evaluate, predict, summary, save, load ----
export { Model, type LoadOptions, type ModelConfig, type ModelMetadata, type PredictOptions } from './torch/model.js';
export type { LayerSummary, ModelSummary } from './torch/types.js';

// ---- Reporting: scikit-learn's metrics, figures, the Keras summary, the HTML report ----
export {
  accuracyScore, classificationReport, confusionMatrix,
  type AverageMetrics, type ClassificationReport, type ClassificationReportOptions, type ClassMetrics, type Labels, type ZeroDivision,
} from './report/metrics.js';
export { renderTrainingCurves, type CurveRun, type TrainingCurvesOptions } from './report/curves.js';
export { renderConfusionMatrix, type ConfusionMatrixOptions } from './report/confusion-plot.js';
export { renderImageGrid, type ImageGridOptions } from './report/image-grid.js';
export { renderModelDiagram, type ModelDiagramOptions } from './report/diagram.js';
export { fontStatus, type Figure, type FigureOptions, type FontStatus } from './report/render.js';
export { formatSummary, type FormatSummaryOptions } from './report/summary.js';
export { writeReport } from './report/report.js';
export { readReportInput } from './report/results.js';
export type {
  ReportInput, ReportRun, ReportDataset, ReportEnvironment, ReportPredictions, ReportTimings, LossAccuracy, ReportFiles,
} from './report/types.js';

// ---- Errors: every error thrown on purpose is a TorchfitError with a stable `code` ----
export {
  TorchfitError, InvalidOptionError, NpyFormatError, PickleSecurityError, DatasetError, ImageFolderError,
  CheckpointError, AddonLoadError, TrainingError, DistributedError, AbortError, MissingDependencyError,
} from './errors.js';

// ---- Runtime: the libtorch in use and the tensors it holds ----
export { info, liveTensors, type RuntimeInfo } from './torch/info.js';

// ---- Training control: Keras's callbacks as data, and control.stop() ----
export {
  csvLogger, earlyStopping, modelCheckpoint, reduceLROnPlateau,
  type Callback, type CsvLoggerOptions, type ModelCheckpointOptions, type Monitor, type MonitorMode, type ReduceLROnPlateauOptions,
  type CsvLoggerCallback, type EarlyStoppingCallback, type ModelCheckpointCallback, type ReduceLROnPlateauCallback,
} from './torch/callbacks.js';
export type { TrainControl } from './torch/types.js';

// ---- Training data: validationSplit, class and sample weights, labels, warnings ----
export type { TrainWarning, TrainWarningCode } from './torch/warnings.js';
export type { ClassWeight, SampleWeights } from './torch/sample-weights.js';
export type { LabelArray } from './torch/inputs.js';
export type { ReportWarning } from './report/types.js';
