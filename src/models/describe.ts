/**
 * describeModel(): any model spec ('cnn', { kind: 'resnet', depth }, { layers })
 * as its layer description, output shapes, Keras summary and parameter counts,
 * without building anything native.
 */
import { TRAIN_DEFAULTS } from '../torch/defaults.js';
import { described, InvalidOptionError } from '../errors.js';
import type { ModelSummary } from '../torch/types.js';
import type { ModelSpec, ResolvedLayer } from './layers.js';
import { checkResNetDepth, cnnLayers, resnetLayers } from './presets.js';
import { resolveLayers, type ResolvedModel } from './resolve.js';
import { kerasShape, summaryRows } from './summary.js';

export type ModelKind = 'cnn' | 'resnet' | 'layers';

/** A model spec after its first check: which model, and the layers of a layers model (not yet resolved). */
export interface ModelChoiceResolved {
  kind: ModelKind;
  /** ResNet only; 0 otherwise. */
  depth: number;
  /** Layers models only: the user's layers, resolved once the input shape and classes are known. */
  layers?: unknown;
}

/** Tells the model specs apart; ResNet depth must be 6n+2. */
export function resolveModelChoice(choice: unknown, option = 'model'): ModelChoiceResolved {
  const kind = typeof choice === 'string' ? choice : typeof choice === 'object' && choice !== null ? (choice as { kind?: unknown }).kind : undefined;
  if (kind === 'cnn') return { kind: 'cnn', depth: 0 };
  if (kind === 'resnet') {
    const depth = typeof choice === 'object' ? ((choice as { depth?: unknown }).depth ?? TRAIN_DEFAULTS.resnetDepth) : TRAIN_DEFAULTS.resnetDepth;
    return { kind: 'resnet', depth: checkResNetDepth(depth, `${option}.depth`) };
  }
  if (typeof choice === 'object' && choice !== null && (kind === undefined || kind === 'layers') && 'layers' in choice) {
    return { kind: 'layers', depth: 0, layers: (choice as { layers: unknown }).layers };
  }
  throw new InvalidOptionError(option, "'cnn', 'resnet', { kind: 'resnet', depth } or { layers: [...] }", choice);
}

/** The layers of a resolved choice: the presets' expansions, or the user's own. */
export function layersOf(choice: ModelChoiceResolved, numClasses: number): unknown {
  if (choice.kind === 'cnn') return cnnLayers(numClasses);
  if (choice.kind === 'resnet') return resnetLayers(choice.depth, numClasses);
  return choice.layers;
}

/** Model names as the summary shows them. */
export function modelName(kind: ModelKind, depth: number, layers: readonly ResolvedLayer[]): string {
  if (kind === 'cnn') return 'model_cnn5';
  if (kind === 'resnet') return `resnet_v1_depth${depth}`;
  return layers.some((l) => l.type === 'residual') ? 'model' : 'sequential';
}

export interface DescribeOptions {
  /** [height, width, channels] as Keras's input_shape. Default [28, 28, 1]. */
  inputShape?: [number, number, number];
  /** Default 5. */
  numClasses?: number;
}

/** What describeModel returns. */
export interface ModelDescription {
  kind: ModelKind;
  depth?: number;
  /** [height, width, channels] */
  inputShape: [number, number, number];
  numClasses: number;
  /** Every layer with every default filled: train it with `{ layers }`. */
  layers: ResolvedLayer[];
  /** Output shape of each entry of `layers`, channels last as Keras prints them. */
  outputShapes: number[][];
  /** Keras's model.summary() as data. */
  summary: ModelSummary;
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
}

function checkInput(options: DescribeOptions): { inputShape: [number, number, number]; numClasses: number } {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object', options);
  const inputShape = options.inputShape ?? [28, 28, 1];
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || !inputShape.every((v) => Number.isInteger(v) && v >= 1 && v <= 65536)) {
    throw new InvalidOptionError('inputShape', '[height, width, channels] of positive integers', inputShape);
  }
  const numClasses = options.numClasses ?? 5;
  if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses > 100_000) throw new InvalidOptionError('numClasses', 'an integer >= 2', numClasses);
  return { inputShape: [inputShape[0], inputShape[1], inputShape[2]], numClasses };
}

/** The summary of a resolved model. */
export function summaryOf(kind: ModelKind, depth: number, resolved: ResolvedModel): ModelSummary {
  const [c, h, w] = resolved.inputShape;
  return {
    kind,
    name: modelName(kind, depth, resolved.layers),
    ...(kind === 'resnet' ? { depth } : {}),
    inputShape: [h, w, c],
    numClasses: resolved.numClasses,
    layers: summaryRows(resolved),
    totalParams: resolved.totalParams,
    trainableParams: resolved.trainableParams,
    nonTrainableParams: resolved.totalParams - resolved.trainableParams,
  };
}

/**
 * Any model as layers, shapes and Keras's parameter counts, before training it.
 * The presets expand to the layers they are made of.
 *
 * @example
 * describeModel('cnn').totalParams;                                   // 33989
 * describeModel('resnet').depth;                                      // 2 (the default depth)
 * describeModel({ kind: 'resnet', depth: 20 }).summary.layers.length;
 * describeModel({ layers: [{ type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] },
 *   { inputShape: [32, 32, 3], numClasses: 10 }).totalParams;         // 30730
 */
export function describeModel(spec: ModelSpec, options: DescribeOptions = {}): ModelDescription {
  const { inputShape, numClasses } = checkInput(options);
  const choice = resolveModelChoice(spec);
  const chw: [number, number, number] = [inputShape[2], inputShape[0], inputShape[1]];
  let resolved: ResolvedModel;
  try {
    resolved = resolveLayers(layersOf(choice, numClasses), chw, numClasses);
  } catch (error) {
    // A preset's layers are fixed: only the input can be wrong.
    if (choice.kind === 'layers' || !(error instanceof InvalidOptionError)) throw error;
    throw new InvalidOptionError('inputShape', `an image the '${choice.kind}' preset can take (${error.message})`, described(inputShape.join('x')));
  }
  const summary = summaryOf(choice.kind, choice.depth, resolved);
  return {
    kind: choice.kind,
    ...(choice.kind === 'resnet' ? { depth: choice.depth } : {}),
    inputShape,
    numClasses,
    layers: resolved.layers,
    outputShapes: resolved.nodes.map((n) => kerasShape(n.outputShape)),
    summary,
    totalParams: summary.totalParams,
    trainableParams: summary.trainableParams,
    nonTrainableParams: summary.nonTrainableParams,
  };
}
