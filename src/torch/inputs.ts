/**
 * Turns user data (NdArrays, typed arrays, Tensors) into what the addon takes:
 * images as (N, C, H, W) float32 and labels as class indices, checked here so
 * the native layer can trust them.
 */
import type { NdArray } from '../data/ndarray.js';
import { resolveLayout, type DataFormat } from '../data/image-layout.js';
import { described, InvalidOptionError } from '../errors.js';
import type { NativeArray } from './native.js';
import { Tensor } from './tensor.js';

/**
 * Images: (N, H, W), (N, H, W, C) or (N, C, H, W), any channel count; an NdArray of
 * numbers or a Tensor. See resolveLayout (data/image-layout.ts) for how a 4-D shape is read.
 */
export type ImagesInput = NdArray | Tensor;
export type { DataFormat } from '../data/image-layout.js';
/** Labels: class indices 0..C-1 (NdArray, Int32Array, number[] or Tensor) or one-hot (N, C) as Keras takes them. */
export type LabelsInput = NdArray | Int32Array | readonly number[] | Tensor;

export interface PreparedImages {
  data: NativeArray;
  /** (N, C, H, W) */
  shape: [number, number, number, number];
  /** The data is (N, H, W, C) with C > 1: the addon transposes it to (N, C, H, W) on its worker thread. */
  channelsLast: boolean;
}

export interface PreparedLabels {
  data: Int32Array | NativeArray;
  /** Number of classes the labels imply: one-hot width, else max + 1 (unknown for a Tensor). */
  impliedClasses: number | undefined;
}

/** Checks the dataFormat option (undefined: read from the shape). */
export function checkDataFormat(value: unknown, name = 'dataFormat'): DataFormat | undefined {
  if (value === undefined || value === 'channels_last' || value === 'channels_first') return value;
  throw new InvalidOptionError(name, "'channels_last' or 'channels_first' (or leave it out to read the layout from the shape)", value);
}

/** Checks and reshapes images; `name` is the option path used in error messages. */
export function prepareImages(x: ImagesInput, name: string, dataFormat?: DataFormat): PreparedImages {
  if (x instanceof Tensor) {
    const layout = resolveLayout(x.shape, name, dataFormat);
    return { data: x.handle, shape: layout.shape, channelsLast: layout.channelsLast };
  }
  if (typeof x !== 'object' || x === null || !Array.isArray((x as NdArray).shape) || !ArrayBuffer.isView((x as NdArray).data)) {
    throw new InvalidOptionError(name, 'an NdArray { dtype, shape, data } or a Tensor of images', x);
  }
  const { shape, channelsLast } = resolveLayout(x.shape, name, dataFormat);
  const expected = shape.reduce((a, b) => a * b, 1);
  if (x.data.length !== expected) {
    throw new InvalidOptionError(`${name}.data`, `${expected} values for shape [${x.shape.join(', ')}]`, described(`${x.data.length} values`));
  }
  let data: Float32Array;
  if (x.dtype === 'float32' && x.data instanceof Float32Array) {
    data = x.data;
  } else if (x.dtype === 'float64' || x.dtype === 'uint8' || x.dtype === 'int32' || x.dtype === 'int16' || x.dtype === 'int8' || x.dtype === 'uint16') {
    data = Float32Array.from(x.data as ArrayLike<number>);
  } else {
    throw new InvalidOptionError(`${name}.dtype`, "'float32' (or 'float64', 'uint8', integer types, converted to float32)", x.dtype);
  }
  const bad = firstNonFinite(data);
  if (bad >= 0) {
    throw new InvalidOptionError(name, 'finite pixel values', described(`${data[bad]} at flat index ${bad} (image ${Math.floor(bad / (expected / shape[0]))})`));
  }
  return { data, shape, channelsLast };
}

function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // v - v is NaN exactly for NaN and +-Infinity.
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Checks labels against the sample count; one-hot rows become the index of their first maximum. */
export function prepareLabels(y: LabelsInput, samples: number, name: string): PreparedLabels {
  if (y instanceof Tensor) {
    const shape = y.shape;
    if (shape.length !== 1 || shape[0] !== samples) {
      throw new InvalidOptionError(`${name}.shape`, `[${samples}] class indices`, described(`[${shape.join(', ')}]`));
    }
    return { data: y.handle, impliedClasses: undefined };
  }
  if (y instanceof Int32Array || Array.isArray(y)) {
    return indices(Int32Array.from(y as ArrayLike<number>), y as ArrayLike<number>, samples, name);
  }
  if (typeof y !== 'object' || y === null || !Array.isArray((y as NdArray).shape) || !ArrayBuffer.isView((y as NdArray).data)) {
    throw new InvalidOptionError(name, 'class indices (NdArray, Int32Array, number[] or Tensor) or a one-hot NdArray (N, C)', y);
  }
  const nd = y as NdArray;
  if (nd.data instanceof BigInt64Array || nd.data instanceof BigUint64Array) {
    const values = Array.from(nd.data as ArrayLike<bigint>, (v) => Number(v));
    return prepareLabels({ dtype: 'float64', shape: nd.shape, data: Float64Array.from(values) }, samples, name);
  }
  const values = nd.data as ArrayLike<number>;
  if (nd.shape.length === 1 || (nd.shape.length === 2 && nd.shape[1] === 1)) {
    return indices(new Int32Array(values.length), values, samples, name);
  }
  if (nd.shape.length === 2) {
    const [n, c] = nd.shape as [number, number];
    if (n !== samples) throw new InvalidOptionError(`${name}.shape`, `${samples} rows (one per image)`, described(`[${nd.shape.join(', ')}]`));
    if (c < 2) throw new InvalidOptionError(`${name}.shape`, 'at least 2 one-hot columns', described(`[${nd.shape.join(', ')}]`));
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < c; j++) if (values[i * c + j]! > values[i * c + best]!) best = j;
      out[i] = best;
    }
    return { data: out, impliedClasses: c };
  }
  throw new InvalidOptionError(`${name}.shape`, '(N) class indices or (N, C) one-hot rows', described(`[${nd.shape.join(', ')}]`));
}

function indices(out: Int32Array, values: ArrayLike<number>, samples: number, name: string): PreparedLabels {
  if (values.length !== samples) {
    throw new InvalidOptionError(name, `${samples} labels (one per image)`, described(`${values.length} labels`));
  }
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 1_000_000) {
      throw new InvalidOptionError(name, 'integral class indices 0..C-1 (shift labels 1..C with labelsToZeroBased)', described(`${v} at index ${i}`));
    }
    out[i] = v;
    if (v > max) max = v;
  }
  return { data: out, impliedClasses: Math.max(2, max + 1) };
}

/** Checks that every label is below numClasses (labels from Tensors are not scanned). */
export function checkLabelRange(labels: PreparedLabels, numClasses: number, name: string): void {
  if (!(labels.data instanceof Int32Array)) return;
  const data = labels.data;
  for (let i = 0; i < data.length; i++) {
    if (data[i]! >= numClasses) {
      throw new InvalidOptionError(name, `class indices 0..${numClasses - 1}`, described(`${data[i]} at index ${i}`));
    }
  }
}
