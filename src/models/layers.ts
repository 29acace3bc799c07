/**
 * The layers API: a model described as plain JSON data with Keras's layer names
 * and defaults. `type` tells the layers apart; every other field is optional
 * unless Keras requires it too (filters, kernelSize, units, rate, activation of
 * an activation layer, the layers of a residual block).
 */

/** Element-wise activations, Keras's names in camelCase. `linear` is none. */
export type ActivationName = 'relu' | 'sigmoid' | 'tanh' | 'softmax' | 'elu' | 'gelu' | 'leakyRelu' | 'linear';

/** Kernel initialisers (biases always start at zero, as in Keras). */
export type InitializerName = 'glorotUniform' | 'glorotNormal' | 'heNormal' | 'heUniform';

/** 'valid': no padding; 'same': TensorFlow's rule, the odd extra row/column at the bottom/right. */
export type PaddingName = 'valid' | 'same';

/** A size or stride: one number for both axes, or [height, width]. */
export type Size2 = number | [number, number];

/** Keras's `l2(factor)`: adds factor * sum(kernel^2) to the loss. */
export interface KernelRegularizer {
  l2: number;
}

/** Keras Conv2D. Defaults: strides 1, 'valid', 'linear', bias on, glorotUniform, no regulariser. */
export interface Conv2DSpec {
  type: 'conv2d';
  filters: number;
  kernelSize: Size2;
  strides?: Size2;
  padding?: PaddingName;
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: InitializerName;
  kernelRegularizer?: KernelRegularizer | null;
}

/** Keras Dense, on a 1-D input (flatten or pool first). Same defaults as conv2d. */
export interface DenseSpec {
  type: 'dense';
  units: number;
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: InitializerName;
  kernelRegularizer?: KernelRegularizer | null;
}

/** Keras BatchNormalization over channels (or features of a 1-D input). Defaults: momentum 0.99, epsilon 1e-3. */
export interface BatchNormalizationSpec {
  type: 'batchNormalization';
  momentum?: number;
  epsilon?: number;
}

export interface ActivationSpec {
  type: 'activation';
  activation: ActivationName;
}

/** Keras MaxPooling2D / AveragePooling2D. Defaults: poolSize 2, strides = poolSize, 'valid'. */
export interface Pooling2DSpec {
  type: 'maxPooling2d' | 'averagePooling2d';
  poolSize?: Size2;
  strides?: Size2;
  padding?: PaddingName;
}

/** Mean over height and width: (C, H, W) -> (C). */
export interface GlobalAveragePooling2DSpec {
  type: 'globalAveragePooling2d';
}

/** (C, H, W) -> (C*H*W), in PyTorch's channel-major order. */
export interface FlattenSpec {
  type: 'flatten';
}

/** Zeroes a fraction `rate` of the values while training (and scales the rest by 1/(1-rate)). */
export interface DropoutSpec {
  type: 'dropout';
  rate: number;
}

/**
 * A residual block: activation(body(x) + shortcut(x)). `shortcut` defaults to the
 * identity; `activation` to 'linear' (none).
 */
export interface ResidualSpec {
  type: 'residual';
  layers: LayerSpec[];
  shortcut?: LayerSpec[];
  activation?: ActivationName;
}

export type LayerSpec =
  | Conv2DSpec
  | DenseSpec
  | BatchNormalizationSpec
  | ActivationSpec
  | Pooling2DSpec
  | GlobalAveragePooling2DSpec
  | FlattenSpec
  | DropoutSpec
  | ResidualSpec;

export type LayerType = LayerSpec['type'];

/** A model of the layers API. */
export interface LayersModelSpec {
  kind?: 'layers';
  layers: LayerSpec[];
}

/** Every model trainModel takes: the presets, or your own layers. */
export type ModelSpec = 'cnn' | 'resnet' | { kind: 'cnn' } | { kind: 'resnet'; depth?: number } | LayersModelSpec;

// The resolved forms: every default filled, sizes as [height, width].

export interface ResolvedConv2D {
  type: 'conv2d';
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  padding: PaddingName;
  activation: ActivationName;
  useBias: boolean;
  kernelInitializer: InitializerName;
  kernelRegularizer: KernelRegularizer | null;
}

export interface ResolvedDense {
  type: 'dense';
  units: number;
  activation: ActivationName;
  useBias: boolean;
  kernelInitializer: InitializerName;
  kernelRegularizer: KernelRegularizer | null;
}

export interface ResolvedBatchNormalization {
  type: 'batchNormalization';
  momentum: number;
  epsilon: number;
}

export interface ResolvedPooling2D {
  type: 'maxPooling2d' | 'averagePooling2d';
  poolSize: [number, number];
  strides: [number, number];
  padding: PaddingName;
}

export interface ResolvedResidual {
  type: 'residual';
  layers: ResolvedLayer[];
  shortcut: ResolvedLayer[];
  activation: ActivationName;
}

export type ResolvedLayer =
  | ResolvedConv2D
  | ResolvedDense
  | ResolvedBatchNormalization
  | ActivationSpec
  | ResolvedPooling2D
  | GlobalAveragePooling2DSpec
  | FlattenSpec
  | DropoutSpec
  | ResolvedResidual;

export const ACTIVATIONS: readonly ActivationName[] = ['relu', 'sigmoid', 'tanh', 'softmax', 'elu', 'gelu', 'leakyRelu', 'linear'];
export const INITIALIZERS: readonly InitializerName[] = ['glorotUniform', 'glorotNormal', 'heNormal', 'heUniform'];
export const LAYER_TYPES: readonly LayerType[] = [
  'conv2d', 'dense', 'batchNormalization', 'activation', 'maxPooling2d', 'averagePooling2d', 'globalAveragePooling2d',
  'flatten', 'dropout', 'residual',
];

/** Keras's leaky_relu slope for negative inputs (tf.nn.leaky_relu's and Keras 3's default). */
export const LEAKY_RELU_SLOPE = 0.2;
