// Models: the presets and the layers API, described before training.
import { describeModel, cnnLayers, resnetLayers, pytorchSource, type LayerSpec, type ModelSpec, type ModelDescription, type ResolvedLayer } from 'torchfit';

const layers: LayerSpec[] = [
  { type: 'conv2d', filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelRegularizer: { l2: 1e-4 } },
  { type: 'batchNormalization', momentum: 0.9 },
  { type: 'maxPooling2d', poolSize: 2 },
  { type: 'residual', layers: [{ type: 'conv2d', filters: 16, kernelSize: 3, padding: 'same' }], activation: 'relu' },
  { type: 'globalAveragePooling2d' },
  { type: 'dropout', rate: 0.5 },
  { type: 'dense', units: 10, activation: 'softmax' },
];

// Every model spec trainModel takes, describeModel takes too.
const specs: ModelSpec[] = ['cnn', 'resnet', { kind: 'cnn' }, { kind: 'resnet' }, { kind: 'resnet', depth: 20 }, { layers }, { kind: 'layers', layers }];
for (const spec of specs) {
  const d: ModelDescription = describeModel(spec, { inputShape: [28, 28, 1], numClasses: 10 });
  const first: ResolvedLayer | undefined = d.layers[0];
  const params: number = d.totalParams;
  void [first, params, d.summary.layers.length];
}
describeModel('cnn');
describeModel('resnet');
describeModel({ kind: 'resnet', depth: 8 });
const preset: LayerSpec[] = [...cnnLayers(5), ...resnetLayers(2, 5)];
const source: string = pytorchSource(describeModel({ layers: preset }).layers);
void source;

// @ts-expect-error not a model
describeModel('mlp');
// @ts-expect-error depth belongs to the ResNet
describeModel({ kind: 'cnn', depth: 2 });
// @ts-expect-error inputShape is [height, width, channels]
describeModel('cnn', { inputShape: [28, 28] });
// @ts-expect-error conv2d needs its filters
const noFilters: LayerSpec = { type: 'conv2d', kernelSize: 3 };
// @ts-expect-error no such layer type
const lstm: LayerSpec = { type: 'lstm', units: 4 };
// @ts-expect-error activations are named as Keras names them
const swish: LayerSpec = { type: 'dense', units: 4, activation: 'swish' };
void [noFilters, lstm, swish];
