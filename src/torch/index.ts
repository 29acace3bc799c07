export { trainModel, historyFrom, type TrainResult, type TrainOptions } from './train.js';
export { Model, summarize, type ModelConfig, type LoadOptions, type ModelMetadata, type PredictOptions } from './model.js';
export { Tensor, type TensorDType } from './tensor.js';
export { info, liveTensors, type RuntimeInfo } from './info.js';
export { distributedFromEnv, type DistributedOptions } from './distributed.js';
export { notebookLearningRate, resolveModel, type EarlyStoppingOptions, type LearningRateSchedule, type ModelChoice, type OptimizerOptions } from './options.js';
export type { ImagesInput, LabelsInput as TrainingLabels } from './inputs.js';
export type { BatchLog, EpochLog, History, LayerSummary, ModelSummary } from './types.js';
export { progressPrinter } from './progress.js';
