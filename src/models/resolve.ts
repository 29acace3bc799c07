/**
 * The one resolver of a layers model: validates every field (messages name the
 * option path, e.g. `model.layers[5].layers[1].filters`), fills Keras's defaults,
 * walks the shapes from the input and counts parameters as Keras does, all
 * before any native work.
 */
import { described, InvalidOptionError } from '../errors.js';
import {
  ACTIVATIONS, INITIALIZERS, LAYER_TYPES,
  type ActivationName, type KernelRegularizer, type LayerType, type PaddingName, type ResolvedLayer,
} from './layers.js';

/** One resolved layer with its shapes (channels first: (C, H, W) or (F)) and Keras's parameter counts. */
export interface ResolvedNode {
  layer: ResolvedLayer;
  /** The option path of this layer, e.g. 'model.layers[3]'. */
  path: string;
  inputShape: number[];
  outputShape: number[];
  /** All parameters (BatchNorm's moving statistics included, as Keras counts them). */
  params: number;
  trainableParams: number;
  /** Residual blocks only. */
  body?: ResolvedNode[];
  shortcut?: ResolvedNode[];
}

export interface ResolvedModel {
  /** Every layer with every field filled: a valid description on its own. */
  layers: ResolvedLayer[];
  nodes: ResolvedNode[];
  /** (C, H, W) */
  inputShape: [number, number, number];
  numClasses: number;
  totalParams: number;
  trainableParams: number;
}

const MAX_LAYERS = 10_000;
const MAX_NESTING = 16;
const MAX_SIZE = 1 << 16;
// No layer may ask for more than this many values per image or weights in all (2^31 floats, 8 GB).
const MAX_ELEMENTS = 2 ** 31;

const FIELDS: Record<LayerType, readonly string[]> = {
  conv2d: ['filters', 'kernelSize', 'strides', 'padding', 'activation', 'useBias', 'kernelInitializer', 'kernelRegularizer'],
  dense: ['units', 'activation', 'useBias', 'kernelInitializer', 'kernelRegularizer'],
  batchNormalization: ['momentum', 'epsilon'],
  activation: ['activation'],
  maxPooling2d: ['poolSize', 'strides', 'padding'],
  averagePooling2d: ['poolSize', 'strides', 'padding'],
  globalAveragePooling2d: [],
  flatten: [],
  dropout: ['rate'],
  residual: ['layers', 'shortcut', 'activation'],
};

const quoted = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');

/** A shape as users read it: Keras's channels-last order, e.g. '26x26x32' or '1600'. */
export function shapeText(shape: readonly number[]): string {
  return (shape.length === 3 ? [shape[1], shape[2], shape[0]] : shape).join('x');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function positiveInt(v: unknown, at: string, max = MAX_SIZE): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new InvalidOptionError(at, `an integer from 1 to ${max}`, v);
  return v;
}

function size2(v: unknown, at: string): [number, number] {
  if (Array.isArray(v)) {
    if (v.length !== 2) throw new InvalidOptionError(at, 'a positive integer or [height, width]', v);
    return [positiveInt(v[0], `${at}[0]`), positiveInt(v[1], `${at}[1]`)];
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_SIZE) {
    throw new InvalidOptionError(at, 'a positive integer or [height, width]', v);
  }
  return [v, v];
}

function oneOf<T extends string>(v: unknown, at: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new InvalidOptionError(at, `one of ${quoted(allowed)}`, v);
  return v as T;
}

function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') throw new InvalidOptionError(at, 'a boolean', v);
  return v;
}

function regularizer(v: unknown, at: string): KernelRegularizer | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw new InvalidOptionError(at, '{ l2: number } or null', v);
  for (const key of Object.keys(v)) {
    if (key !== 'l2') throw new InvalidOptionError(`${at}.${key}`, "the field 'l2' (the only regulariser)", described(`unknown field '${key}'`));
  }
  if (typeof v.l2 !== 'number' || !Number.isFinite(v.l2) || v.l2 < 0) throw new InvalidOptionError(`${at}.l2`, 'a finite number >= 0', v.l2);
  return v.l2 === 0 ? null : { l2: v.l2 };
}

/** Output size of a 'valid' or 'same' window along one axis (TensorFlow's rule). */
export function windowOutput(input: number, kernel: number, stride: number, padding: PaddingName): number {
  return padding === 'same' ? Math.ceil(input / stride) : Math.floor((input - kernel) / stride) + 1;
}

interface Walk {
  /** Paths of the layers using softmax, to refuse all but the model's last. */
  softmax: string[];
  depth: number;
}

function need3d(shape: number[], at: string, what: string): [number, number, number] {
  if (shape.length !== 3) {
    throw new InvalidOptionError(at, `an image input (height, width, channels) for ${what}`, described(`a flat input of ${shape[0]} values (after flatten, dense or globalAveragePooling2d)`));
  }
  return shape as [number, number, number];
}

function spatial(shape: [number, number, number], at: string, field: string, window: [number, number], strides: [number, number],
  padding: PaddingName, what: string): [number, number] {
  const out: [number, number] = [
    windowOutput(shape[1], window[0], strides[0], padding),
    windowOutput(shape[2], window[1], strides[1], padding),
  ];
  if (out[0] < 1 || out[1] < 1) {
    throw new InvalidOptionError(`${at}.${field}`,
      `a ${what} no larger than its ${shape[1]}x${shape[2]} input with 'valid' padding (the output would have no pixels; use padding 'same' or a smaller window)`,
      described(`${window[0]}x${window[1]}`));
  }
  return out;
}

function count(n: number, at: string): number {
  if (n > MAX_ELEMENTS) throw new InvalidOptionError(at, `a layer of at most ${MAX_ELEMENTS} values or weights`, described(`${n}`));
  return n;
}

function resolveOne(raw: unknown, at: string, input: number[], walk: Walk): ResolvedNode {
  if (!isObject(raw)) throw new InvalidOptionError(at, "a layer object { type: 'conv2d' | 'dense' | ... }", raw);
  const type = raw.type;
  if (typeof type !== 'string' || !(LAYER_TYPES as readonly string[]).includes(type)) {
    throw new InvalidOptionError(`${at}.type`, `a layer type: one of ${quoted(LAYER_TYPES)}`, type);
  }
  const t = type as LayerType;
  for (const key of Object.keys(raw)) {
    if (key !== 'type' && !FIELDS[t].includes(key)) {
      throw new InvalidOptionError(`${at}.${key}`, FIELDS[t].length > 0 ? `a field of ${t}: ${quoted(FIELDS[t])}` : `no other field than 'type' for ${t}`,
        described(`unknown field '${key}'`));
    }
  }
  const activation = (name: string, fallback?: ActivationName): ActivationName => {
    const value = raw[name] === undefined && fallback !== undefined ? fallback : oneOf(raw[name], `${at}.${name}`, ACTIVATIONS);
    if (value === 'softmax') walk.softmax.push(`${at}.${name}`);
    return value;
  };
  const node = (layer: ResolvedLayer, outputShape: number[], params = 0, trainableParams = params): ResolvedNode => {
    count(outputShape.reduce((a, b) => a * b, 1), at);
    return { layer, path: at, inputShape: input, outputShape, params: count(params, at), trainableParams };
  };
  switch (t) {
    case 'conv2d': {
      const filters = positiveInt(raw.filters, `${at}.filters`);
      const kernelSize = size2(raw.kernelSize, `${at}.kernelSize`);
      const strides = raw.strides === undefined ? [1, 1] as [number, number] : size2(raw.strides, `${at}.strides`);
      const padding = raw.padding === undefined ? 'valid' : oneOf(raw.padding, `${at}.padding`, ['valid', 'same'] as const);
      const act = activation('activation', 'linear');
      const useBias = raw.useBias === undefined ? true : bool(raw.useBias, `${at}.useBias`);
      const kernelInitializer = raw.kernelInitializer === undefined ? 'glorotUniform' : oneOf(raw.kernelInitializer, `${at}.kernelInitializer`, INITIALIZERS);
      const kernelRegularizer = regularizer(raw.kernelRegularizer, `${at}.kernelRegularizer`);
      const shape = need3d(input, at, 'conv2d');
      const [h, w] = spatial(shape, at, 'kernelSize', kernelSize, strides, padding, 'kernel');
      const params = kernelSize[0] * kernelSize[1] * shape[0] * filters + (useBias ? filters : 0);
      return node({ type: t, filters, kernelSize, strides, padding, activation: act, useBias, kernelInitializer, kernelRegularizer }, [filters, h, w], params);
    }
    case 'dense': {
      const units = positiveInt(raw.units, `${at}.units`, 1 << 24);
      const act = activation('activation', 'linear');
      const useBias = raw.useBias === undefined ? true : bool(raw.useBias, `${at}.useBias`);
      const kernelInitializer = raw.kernelInitializer === undefined ? 'glorotUniform' : oneOf(raw.kernelInitializer, `${at}.kernelInitializer`, INITIALIZERS);
      const kernelRegularizer = regularizer(raw.kernelRegularizer, `${at}.kernelRegularizer`);
      if (input.length !== 1) {
        throw new InvalidOptionError(at, 'a flat input for dense (add a flatten or globalAveragePooling2d layer before it)',
          described(`an image input ${shapeText(input)}`));
      }
      const params = input[0]! * units + (useBias ? units : 0);
      return node({ type: t, units, activation: act, useBias, kernelInitializer, kernelRegularizer }, [units], params);
    }
    case 'batchNormalization': {
      const momentum = raw.momentum ?? 0.99;
      if (typeof momentum !== 'number' || !(momentum >= 0 && momentum < 1)) throw new InvalidOptionError(`${at}.momentum`, 'a number in [0, 1)', momentum);
      const epsilon = raw.epsilon ?? 1e-3;
      if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || !(epsilon > 0)) throw new InvalidOptionError(`${at}.epsilon`, 'a positive number', epsilon);
      const channels = input[0]!;
      return node({ type: t, momentum, epsilon }, input, 4 * channels, 2 * channels);
    }
    case 'activation':
      return node({ type: t, activation: activation('activation') }, input);
    case 'maxPooling2d':
    case 'averagePooling2d': {
      const poolSize = raw.poolSize === undefined ? [2, 2] as [number, number] : size2(raw.poolSize, `${at}.poolSize`);
      const strides = raw.strides === undefined ? poolSize : size2(raw.strides, `${at}.strides`);
      const padding = raw.padding === undefined ? 'valid' : oneOf(raw.padding, `${at}.padding`, ['valid', 'same'] as const);
      const shape = need3d(input, at, t);
      const [h, w] = spatial(shape, at, 'poolSize', poolSize, strides, padding, 'pool');
      return node({ type: t, poolSize, strides: [strides[0], strides[1]], padding }, [shape[0], h, w]);
    }
    case 'globalAveragePooling2d': {
      const shape = need3d(input, at, t);
      return node({ type: t }, [shape[0]]);
    }
    case 'flatten':
      return node({ type: t }, [input.reduce((a, b) => a * b, 1)]);
    case 'dropout': {
      const rate = raw.rate;
      if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new InvalidOptionError(`${at}.rate`, 'a number in [0, 1)', rate);
      return node({ type: t, rate }, input);
    }
    case 'residual': {
      if (walk.depth >= MAX_NESTING) throw new InvalidOptionError(at, `residual blocks nested at most ${MAX_NESTING} deep`, described('a deeper nesting'));
      walk.depth++;
      const body = resolveList(raw.layers, `${at}.layers`, input, walk, false);
      const shortcut = raw.shortcut === undefined ? [] : resolveList(raw.shortcut, `${at}.shortcut`, input, walk, true);
      walk.depth--;
      const act = activation('activation', 'linear');
      const out = body[body.length - 1]!.outputShape;
      const side = shortcut.length > 0 ? shortcut[shortcut.length - 1]!.outputShape : input;
      if (side.join() !== out.join()) {
        throw new InvalidOptionError(`${at}.shortcut`,
          `a shortcut whose output is the body's ${shapeText(out)} (the two branches are added; e.g. a 1x1 conv2d with the body's filters and strides)`,
          described(shortcut.length > 0 ? `an output of ${shapeText(side)}` : `the identity of the ${shapeText(input)} input (no shortcut given)`));
      }
      const layer: ResolvedLayer = { type: t, layers: body.map((n) => n.layer), shortcut: shortcut.map((n) => n.layer), activation: act };
      const all = [...body, ...shortcut];
      const result = node(layer, out, all.reduce((s, n) => s + n.params, 0), all.reduce((s, n) => s + n.trainableParams, 0));
      return { ...result, body, shortcut };
    }
  }
}

function resolveList(raw: unknown, at: string, input: number[], walk: Walk, allowEmpty: boolean): ResolvedNode[] {
  if (!Array.isArray(raw) || (!allowEmpty && raw.length === 0) || raw.length > MAX_LAYERS) {
    throw new InvalidOptionError(at, `an array of ${allowEmpty ? '' : 'at least one and '}at most ${MAX_LAYERS} layers`, raw);
  }
  const out: ResolvedNode[] = [];
  let shape = input;
  raw.forEach((layer, i) => {
    const n = resolveOne(layer, `${at}[${i}]`, shape, walk);
    out.push(n);
    shape = n.outputShape;
  });
  return out;
}

/**
 * Validates and fills a layers model for images of `inputShape` (C, H, W) and
 * `numClasses` classes: the last output must be one score per class, and
 * softmax may only be the last layer's activation.
 *
 * @example
 * const m = resolveLayers([{ type: 'flatten' }, { type: 'dense', units: 5, activation: 'softmax' }], [1, 28, 28], 5);
 * m.totalParams; // 3925
 */
export function resolveLayers(layers: unknown, inputShape: [number, number, number], numClasses: number, path = 'model.layers'): ResolvedModel {
  const walk: Walk = { softmax: [], depth: 0 };
  const nodes = resolveList(layers, path, inputShape, walk, false);
  const lastIndex = nodes.length - 1;
  const last = nodes[lastIndex]!;
  const lastPath = `${path}[${lastIndex}]`;
  const misplaced = walk.softmax.find((p) => p !== `${lastPath}.activation`);
  if (misplaced !== undefined) {
    throw new InvalidOptionError(misplaced, "an activation other than 'softmax' (softmax turns scores into class probabilities: only the last layer may use it)", 'softmax');
  }
  const lastActivation = 'activation' in last.layer ? last.layer.activation : 'linear';
  if (lastActivation !== 'softmax' && lastActivation !== 'linear') {
    throw new InvalidOptionError(`${lastPath}.activation`, "'softmax' or 'linear' on the last layer (its outputs are the class scores)", lastActivation);
  }
  const out = last.outputShape;
  if (out.length !== 1 || out[0] !== numClasses) {
    const dense = last.layer.type === 'dense' && out.length === 1;
    throw new InvalidOptionError(dense ? `${lastPath}.units` : lastPath,
      `a last layer with one score per class: ${numClasses} outputs (e.g. { type: 'dense', units: ${numClasses}, activation: 'softmax' })`,
      dense ? out[0] : described(`an output of ${shapeText(out)}`));
  }
  const totalParams = count(nodes.reduce((s, n) => s + n.params, 0), path);
  return {
    layers: nodes.map((n) => n.layer),
    nodes,
    inputShape,
    numClasses,
    totalParams,
    trainableParams: nodes.reduce((s, n) => s + n.trainableParams, 0),
  };
}
