/**
 * A resolved layers model as the addon takes it: each resolved layer with its
 * input and output shapes (channels first) and BatchNorm's momentum in PyTorch's
 * terms; residual children the same way. C++ builds the modules from these and
 * trusts them.
 */
import { TRAIN_DEFAULTS } from '../torch/defaults.js';
import type { NativeModelSpec } from '../torch/native.js';
import type { ModelChoiceResolved } from './describe.js';
import { resolveLayers, type ResolvedNode } from './resolve.js';

export interface NativeLayer {
  type: string;
  inputShape: number[];
  outputShape: number[];
  [field: string]: unknown;
}

/**
 * Keras's BatchNormalization momentum (the weight of the old statistics) as PyTorch's
 * (the weight of the new batch), rounded to 15 digits so that 0.99 gives exactly 0.01.
 */
export function torchMomentum(kerasMomentum: number): number {
  return Number((1 - kerasMomentum).toPrecision(15));
}

/** PyTorch's momentum back in Keras's terms (0.01 gives exactly 0.99). */
export function kerasMomentum(torchMomentum: number): number {
  return Number((1 - torchMomentum).toPrecision(15));
}

export function nativeLayers(nodes: ResolvedNode[]): NativeLayer[] {
  return nodes.map((n) => {
    const base = { ...n.layer, inputShape: n.inputShape, outputShape: n.outputShape } as NativeLayer;
    if (n.layer.type === 'batchNormalization') base.torchMomentum = torchMomentum(n.layer.momentum);
    if (n.layer.type === 'conv2d' || n.layer.type === 'dense') base.l2 = n.layer.kernelRegularizer?.l2 ?? 0;
    if (n.layer.type === 'residual') {
      base.layers = nativeLayers(n.body!);
      base.shortcut = nativeLayers(n.shortcut!);
    }
    return base;
  });
}

/**
 * The addon's model spec for a checked model choice and the training data's
 * shape: a layers model is resolved here (every message names model.layers[...]),
 * before any native work.
 */
export function nativeModelSpec(choice: ModelChoiceResolved, numClasses: number, [channels, height, width]: [number, number, number],
  batchNormMomentum: number = TRAIN_DEFAULTS.batchNormMomentum): NativeModelSpec {
  const base = { kind: choice.kind, depth: choice.depth, numClasses, channels, height, width };
  // The presets' BatchNorm momentum (trainModel's batchNormMomentum, Keras's terms); a layers model has its own per layer.
  if (choice.kind !== 'layers') return { ...base, bnMomentum: torchMomentum(batchNormMomentum) };
  const resolved = resolveLayers(choice.layers, [channels, height, width], numClasses);
  return { ...base, layers: nativeLayers(resolved.nodes), layersJson: JSON.stringify(resolved.layers) };
}
