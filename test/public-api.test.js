// The public entry (src/index.ts) lists its exports by name: these tests hold the list, check that
// every type the public declarations mention can be named by users (no internal type leaks out),
// and that @internal members are stripped from the published .d.ts.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

import * as torchfit from '../dist/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

const VALUES = [
  'AbortError', 'AddonLoadError', 'CheckpointError', 'DEFAULT_GROUPING', 'DatasetError', 'DistributedError', 'FASHION_MNIST_CLASSES',
  'ImageFolderError', 'InvalidOptionError', 'MissingDependencyError', 'Model', 'NpyFormatError', 'PickleSecurityError', 'Tensor',
  'TorchfitError', 'TrainingError', 'accuracyScore', 'buildDataset', 'classificationReport', 'cnnLayers', 'confusionMatrix',
  'describeModel', 'distributedFromEnv', 'encodeNpy', 'fontStatus', 'formatSummary', 'info', 'labelsToOneBased', 'labelsToZeroBased',
  'liveTensors', 'loadDataset', 'loadImageFolder', 'loadNpy', 'notebookLearningRate', 'notebookSplit', 'parseNpy', 'pytorchSource',
  'readReportInput', 'readTorchArchive', 'renderConfusionMatrix', 'renderImageGrid', 'renderModelDiagram', 'renderTrainingCurves',
  'resnetLayers', 'saveNpy', 'takeRows', 'toCategorical', 'trainModel', 'trainTestSplit', 'writeReport',
  'csvLogger', 'earlyStopping', 'modelCheckpoint', 'reduceLROnPlateau',
];

const TYPES = [
  'ActivationName', 'ActivationSpec', 'AugmentOptions', 'AverageMetrics', 'BatchLog', 'BatchNormalizationSpec', 'BuildDatasetOptions',
  'BuildDatasetResult', 'ClassGroup', 'ClassMetrics', 'ClassificationReport', 'ClassificationReportOptions', 'ConfusionMatrixOptions',
  'Conv2DSpec', 'CurveRun', 'DType', 'DataFormat', 'Dataset', 'DenseSpec', 'DescribeOptions', 'Device', 'DistributedOptions',
  'DropoutSpec', 'EarlyStoppingOptions', 'EpochLog', 'Figure', 'FigureOptions', 'FillMode', 'FlattenSpec', 'FontStatus',
  'FormatSummaryOptions', 'GlobalAveragePooling2DSpec', 'History', 'ImageFolder', 'ImageFolderOptions', 'ImageGridOptions',
  'ImagesInput', 'InitializerName', 'KernelChoice', 'KernelRegularizer', 'Labels', 'LabelsInput', 'LayerSpec', 'LayerSummary',
  'LayerType', 'LayersModelSpec', 'LearningRateSchedule', 'LoadOptions', 'LossAccuracy', 'ModelConfig', 'ModelDescription',
  'ModelDiagramOptions', 'ModelKind', 'ModelMetadata', 'ModelSpec', 'ModelSummary', 'NdArray', 'NotebookSplit', 'NpyReadOptions',
  'NpySaveValue', 'NpyValue', 'ObjectArray', 'OptimizerName', 'OptimizerOptions', 'PaddingName', 'PicklableValue', 'PickleDict',
  'PickleLimits', 'PickleValue', 'Pooling2DSpec', 'PredictOptions', 'PytorchSourceOptions', 'ReportDataset', 'ReportEnvironment',
  'ReportFiles', 'ReportInput', 'ReportPredictions', 'ReportRun', 'ReportTimings', 'ResidualSpec', 'ResolvedBatchNormalization',
  'ResolvedConv2D', 'ResolvedDense', 'ResolvedLayer', 'ResolvedPooling2D', 'ResolvedResidual', 'RuntimeInfo', 'Size2',
  'SplitIndices', 'StopReason', 'TensorDType', 'TensorData', 'TrainOptions', 'TrainResult', 'TrainTestSplitOptions', 'TrainingCurvesOptions',
  'TrainingLabels', 'TypedArray', 'ZeroDivision',
  'Callback', 'CsvLoggerCallback', 'EarlyStoppingCallback', 'ModelCheckpointCallback', 'ReduceLROnPlateauCallback', 'CsvLoggerOptions', 'ModelCheckpointOptions', 'Monitor', 'MonitorMode', 'ReduceLROnPlateauOptions', 'TrainControl',
  'TrainWarning', 'TrainWarningCode', 'ClassWeight', 'SampleWeights', 'LabelArray', 'ReportWarning',
];

// One program over the published declarations, shared by the tests below.
const entry = join(dist, 'index.d.ts');
const program = ts.createProgram([entry], {
  module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: ['node'], typeRoots: [join(root, 'node_modules', '@types')],
});
const checker = program.getTypeChecker();
const aliased = (s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)));

test('the entry exports exactly the listed values', (t) => {
  t.deepEqual(Object.keys(torchfit).sort(), [...VALUES].sort());
});

test('the declarations export exactly the listed values and types', (t) => {
  const values = exported.filter((s) => aliased(s).flags & ts.SymbolFlags.Value).map((s) => s.name).sort();
  const types = exported.filter((s) => !(aliased(s).flags & ts.SymbolFlags.Value)).map((s) => s.name).sort();
  t.deepEqual(values, [...VALUES].sort());
  t.deepEqual(types, [...TYPES].sort());
});

test('every type the public declarations mention is exported too (no internal type leaks)', (t) => {
  const publicSymbols = new Set(exported.map(aliased));
  const ours = (d) => d.getSourceFile().fileName.startsWith(dist);
  const seen = new Set();
  const leaks = [];
  const queue = [...publicSymbols];
  while (queue.length > 0) {
    const symbol = queue.pop();
    if (seen.has(symbol)) continue;
    seen.add(symbol);
    for (const declaration of (symbol.declarations ?? []).filter(ours)) {
      const visit = (node) => {
        if ((ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node)) &&
            ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Private) return;
        const name = ts.isTypeReferenceNode(node) ? node.typeName : ts.isExpressionWithTypeArguments(node) ? node.expression
          : ts.isTypeQueryNode(node) ? node.exprName : undefined;
        const target = name && checker.getSymbolAtLocation(name);
        if (target) {
          const s = aliased(target);
          if (!(s.flags & ts.SymbolFlags.TypeParameter) && (s.declarations ?? []).some(ours)) {
            if (!publicSymbols.has(s)) leaks.push(`${s.name} (mentioned by ${symbol.name})`);
            queue.push(s);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(declaration);
    }
  }
  t.deepEqual([...new Set(leaks)].sort(), []);
  t.true(seen.size > TYPES.length, 'the walk reached the exported declarations');
});

test('@internal members are stripped from the published declarations', (t) => {
  const model = readFileSync(join(dist, 'torch', 'model.d.ts'), 'utf8');
  const tensor = readFileSync(join(dist, 'torch', 'tensor.d.ts'), 'utf8');
  t.regex(model, /private constructor\(\);/);
  t.notRegex(model, /\bhandle\b|fromNative|NativeModel/);
  t.notRegex(tensor, /\bhandle\b|NativeTensor/);
  t.true(JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8').replace(/\/\/.*$/gm, '')).compilerOptions.stripInternal);
});
