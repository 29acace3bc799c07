/**
 * The two built-in models written as layers: what describeModel('cnn') and
 * describeModel({ kind: 'resnet', depth }) return. Training them by name keeps
 * their own native classes (and state_dict names); these descriptions have the
 * same architecture, initialisers and parameter counts.
 */
import { InvalidOptionError } from '../errors.js';
import type { LayerSpec } from './layers.js';

/** The notebook's model_cnn5: 33,989 parameters at 28x28x1 with 5 classes. */
export function cnnLayers(numClasses: number): LayerSpec[] {
  return [
    { type: 'conv2d', filters: 32, kernelSize: 3, activation: 'sigmoid' },
    { type: 'batchNormalization' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'batchNormalization' },
    { type: 'conv2d', filters: 64, kernelSize: 3, activation: 'sigmoid' },
    { type: 'batchNormalization' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'batchNormalization' },
    { type: 'flatten' },
    { type: 'batchNormalization' },
    { type: 'dense', units: numClasses, activation: 'softmax' },
  ];
}

/** The largest ResNet depth accepted anywhere (options, checkpoints, the CLI). */
export const MAX_RESNET_DEPTH = 1000;

/** What every depth check says it expected. */
export const RESNET_DEPTH_EXPECTED = 'a ResNet v1 depth 6n+2 (2, 8, 14, 20, 32, 44, ...)';

/**
 * The one rule for ResNet v1 depths: 6n+2 (n residual blocks per stack, three stacks), 2 to 1000.
 * Options, checkpoints and the CLI each word the refusal in their own error type.
 */
export function isResNetDepth(depth: unknown): depth is number {
  return typeof depth === 'number' && Number.isInteger(depth) && depth >= 2 && depth <= MAX_RESNET_DEPTH && (depth - 2) % 6 === 0;
}

/** Residual blocks per stack of a valid depth: (depth - 2) / 6. */
export function resnetBlocks(depth: number): number {
  return (depth - 2) / 6;
}

/** Checks a ResNet v1 depth option: 6n+2. */
export function checkResNetDepth(depth: unknown, option = 'model.depth'): number {
  if (!isResNetDepth(depth)) throw new InvalidOptionError(option, RESNET_DEPTH_EXPECTED, depth);
  return depth;
}

/**
 * ResNet v1 as the notebook builds it (resnet_layer with conv_first=False: BatchNorm ->
 * activation -> conv 'same', he_normal, l2(1e-4)); 3 stacks of (depth-2)/6 blocks with
 * 16, 32, 64 filters; a strided 1x1 conv shortcut where a stack starts; Flatten -> Dense.
 */
export function resnetLayers(depth: number, numClasses: number): LayerSpec[] {
  const blocks = resnetBlocks(checkResNetDepth(depth));
  const conv = (filters: number, kernelSize: number, strides: number): LayerSpec => ({
    type: 'conv2d', filters, kernelSize, strides, padding: 'same', kernelInitializer: 'heNormal', kernelRegularizer: { l2: 1e-4 },
  });
  const layers: LayerSpec[] = [{ type: 'batchNormalization' }, { type: 'activation', activation: 'relu' }, conv(16, 3, 1)];
  let channels = 16;
  for (let stack = 0; stack < 3; stack++) {
    const filters = 16 << stack;
    for (let b = 0; b < blocks; b++) {
      const strides = stack > 0 && b === 0 ? 2 : 1;
      layers.push({
        type: 'residual',
        layers: [
          { type: 'batchNormalization' }, { type: 'activation', activation: 'relu' }, conv(filters, 3, strides),
          { type: 'batchNormalization' }, conv(filters, 3, 1),
        ],
        shortcut: strides !== 1 || channels !== filters ? [conv(filters, 1, strides)] : [],
        activation: 'relu',
      });
      channels = filters;
    }
  }
  layers.push({ type: 'flatten' }, { type: 'dense', units: numClasses, activation: 'softmax', kernelInitializer: 'heNormal' });
  return layers;
}
