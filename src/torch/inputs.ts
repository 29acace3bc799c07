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
/**
 * Labels: class indices 0..C-1 (any integer or float typed array with integral values, a number[],
 * a 1-D NdArray or a Tensor) or one-hot rows (N, C) as Keras takes them.
 */
export type LabelsInput = NdArray | LabelArray | readonly number[] | Tensor;
/** Typed arrays taken as class indices (float ones must hold integral values). */
export type LabelArray = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array |
  Float32Array | Float64Array | BigInt64Array | BigUint64Array;

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
  /** Class indices (not one-hot) without a 0 that use every label 1..max: max (they look 1-based). */
  oneBasedMax?: number;
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
  if (Array.isArray(y)) return indices(y as ArrayLike<number>, samples, name);
  if (ArrayBuffer.isView(y) && !(y instanceof DataView)) return indices(numbersOf(y as LabelArray), samples, name);
  if (typeof y !== 'object' || y === null || !Array.isArray((y as NdArray).shape) || !ArrayBuffer.isView((y as NdArray).data)) {
    throw new InvalidOptionError(name, 'class indices (NdArray, Int32Array, number[] or Tensor) or a one-hot NdArray (N, C)', y);
  }
  const nd = y as NdArray;
  const values = numbersOf(nd.data as LabelArray);
  if (nd.shape.length === 1 || (nd.shape.length === 2 && nd.shape[1] === 1)) {
    return indices(values, samples, name);
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

// 64-bit integer labels as numbers (exact up to 2^53, far beyond any label allowed).
function numbersOf(data: LabelArray): ArrayLike<number> {
  return data instanceof BigInt64Array || data instanceof BigUint64Array ? Float64Array.from(data as ArrayLike<bigint>, (v) => Number(v)) : data;
}

function indices(values: ArrayLike<number>, samples: number, name: string): PreparedLabels {
  if (values.length !== samples) {
    throw new InvalidOptionError(name, `${samples} labels (one per image)`, described(`${values.length} labels`));
  }
  const out = new Int32Array(values.length);
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 1_000_000) {
      throw new InvalidOptionError(`${name}[${i}]`, 'an integral class index 0..C-1 (shift labels 1..C with labelsToZeroBased)', v);
    }
    out[i] = v;
    if (v > max) max = v;
  }
  return { data: out, impliedClasses: Math.max(2, max + 1), ...(looksOneBased(out, max) ? { oneBasedMax: max } : {}) };
}

// No 0, and every label from 1 to max present: the notebook's 1..5 style.
function looksOneBased(labels: Int32Array, max: number): boolean {
  if (max < 2) return false;
  const seen = new Uint8Array(max + 1);
  for (let i = 0; i < labels.length; i++) seen[labels[i]!] = 1;
  if (seen[0]) return false;
  for (let c = 1; c <= max; c++) if (!seen[c]) return false;
  return true;
}

/** Checks that every label is below numClasses (labels from Tensors are not scanned). */
export function checkLabelRange(labels: PreparedLabels, numClasses: number, name: string): void {
  if (!(labels.data instanceof Int32Array)) return;
  const data = labels.data;
  for (let i = 0; i < data.length; i++) {
    if (data[i]! >= numClasses) {
      const hint = labels.oneBasedMax === numClasses ? ' (these labels look 1-based: shift them with labelsToZeroBased)' : '';
      throw new InvalidOptionError(`${name}[${i}]`, `a class index 0..${numClasses - 1}${hint}`, data[i]);
    }
  }
}
