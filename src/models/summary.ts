/**
 * Keras's model.summary() rows for a resolved layers model: unique Keras names
 * (conv2d, conv2d_1, ...), class names, channels-last output shapes, parameter
 * counts, and the graph's links (a residual block lists its body, its shortcut,
 * an Add and its activation, as a Keras functional model does).
 */
import type { LayerSummary } from '../torch/types.js';
import type { ResolvedLayer } from './layers.js';
import type { ResolvedModel, ResolvedNode } from './resolve.js';

const KERAS: Record<ResolvedLayer['type'], [string, string]> = {
  conv2d: ['Conv2D', 'conv2d'],
  dense: ['Dense', 'dense'],
  batchNormalization: ['BatchNormalization', 'batch_normalization'],
  activation: ['Activation', 'activation'],
  maxPooling2d: ['MaxPooling2D', 'max_pooling2d'],
  averagePooling2d: ['AveragePooling2D', 'average_pooling2d'],
  globalAveragePooling2d: ['GlobalAveragePooling2D', 'global_average_pooling2d'],
  flatten: ['Flatten', 'flatten'],
  dropout: ['Dropout', 'dropout'],
  residual: ['Add', 'add'],
};

const SNAKE: Record<string, string> = {
  glorotUniform: 'glorot_uniform', glorotNormal: 'glorot_normal', heNormal: 'he_normal', heUniform: 'he_uniform', leakyRelu: 'leaky_relu',
};

/** Channels-last, as Keras prints shapes. */
export function kerasShape(shape: readonly number[]): number[] {
  return shape.length === 3 ? [shape[1]!, shape[2]!, shape[0]!] : [...shape];
}

/** The short settings text of a layer's row, e.g. '32 filters 3x3, valid, sigmoid'. */
export function layerConfigText(layer: ResolvedLayer): string {
  const act = (a: string) => SNAKE[a] ?? a;
  switch (layer.type) {
    case 'conv2d':
    case 'dense': {
      const parts = layer.type === 'conv2d'
        ? [`${layer.filters} filters ${layer.kernelSize[0]}x${layer.kernelSize[1]}`, layer.padding,
          ...(layer.strides[0] !== 1 || layer.strides[1] !== 1 ? [`strides ${layer.strides[0]}x${layer.strides[1]}`] : [])]
        : [`${layer.units} units`];
      parts.push(act(layer.activation));
      if (layer.kernelInitializer !== 'glorotUniform') parts.push(SNAKE[layer.kernelInitializer]!);
      if (layer.kernelRegularizer) parts.push(`l2(${layer.kernelRegularizer.l2})`);
      if (!layer.useBias) parts.push('no bias');
      return parts.join(', ');
    }
    case 'batchNormalization': return `momentum ${layer.momentum}, epsilon ${layer.epsilon}`;
    case 'activation': return act(layer.activation);
    case 'maxPooling2d':
    case 'averagePooling2d':
      return `${layer.poolSize[0]}x${layer.poolSize[1]}, strides ${layer.strides[0]}x${layer.strides[1]}, ${layer.padding}`;
    case 'dropout': return `rate ${layer.rate}`;
    default: return '';
  }
}

class Namer {
  private readonly counts = new Map<string, number>();
  next(base: string): string {
    const n = this.counts.get(base);
    this.counts.set(base, (n ?? -1) + 1);
    return n === undefined ? base : `${base}_${n + 1}`;
  }
}

/**
 * The summary rows of a resolved model, InputLayer first.
 *
 * @example
 * summaryRows(resolveLayers(cnnLayers(5), [1, 28, 28], 5)).length; // 12
 */
export function summaryRows(model: ResolvedModel): LayerSummary[] {
  const names = new Namer();
  const rows: LayerSummary[] = [];
  const add = (base: string, type: string, shape: number[], params: number, trainable: number, inbound: string[], config: string) => {
    const name = names.next(base);
    rows.push({ name, type, outputShape: kerasShape(shape), params, trainableParams: trainable, inbound, config });
    return name;
  };
  const walk = (nodes: ResolvedNode[], from: string): string => {
    let last = from;
    for (const n of nodes) {
      const [type, base] = KERAS[n.layer.type];
      if (n.layer.type !== 'residual') {
        last = add(base, type, n.outputShape, n.params, n.trainableParams, [last], layerConfigText(n.layer));
        continue;
      }
      const body = walk(n.body!, last);
      const skip = n.shortcut!.length > 0 ? walk(n.shortcut!, last) : last;
      last = add(base, type, n.outputShape, 0, 0, [skip, body], '');
      if (n.layer.activation !== 'linear') last = add('activation', 'Activation', n.outputShape, 0, 0, [last], layerConfigText({ type: 'activation', activation: n.layer.activation }));
    }
    return last;
  };
  const input = add('input_1', 'InputLayer', model.inputShape, 0, 0, [], '');
  walk(model.nodes, input);
  return rows;
}
