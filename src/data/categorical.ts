/**
 * Label helpers: Keras' `to_categorical` one-hot encoding, and conversions
 * between the dataset's 1-based labels (1..5) and the 0-based class indices
 * training and metrics use.
 */
import { InvalidOptionError } from '../errors.js';
import { isNdArray, type NdArray, type TypedArray } from './ndarray.js';

/** Labels as the helpers accept them: an NdArray, a typed array or a plain array of numbers. */
export type LabelsInput = NdArray | TypedArray | ArrayLike<number | bigint>;

/**
 * One-hot encodes integer class indices as Keras' `to_categorical` does:
 * float32, shape `inputShape + [numClasses]` where a trailing axis of size 1 is
 * dropped first (so (N,) and (N, 1) both give (N, C)). `numClasses` defaults to
 * max(labels) + 1. Labels must be integers in [0, numClasses).
 *
 * @example
 * toCategorical([0, 2, 1]).data; // Float32Array [1,0,0, 0,0,1, 0,1,0], shape [3, 3]
 */
export function toCategorical(labels: LabelsInput, numClasses?: number): NdArray {
  const { values, shape } = readLabels(labels, 'labels');
  let c = numClasses;
  if (c === undefined) {
    if (values.length === 0) throw new InvalidOptionError('numClasses', 'a positive integer (labels is empty, so it cannot be inferred)', c);
    c = 0;
    for (const v of values) if (v + 1 > c) c = v + 1;
  } else if (!Number.isInteger(c) || c < 1) {
    throw new InvalidOptionError('numClasses', 'a positive integer', c);
  }
  let outShape = shape;
  if (shape.length > 1 && shape[shape.length - 1] === 1) outShape = shape.slice(0, -1);
  const n = values.length;
  if (n * c > 2 ** 31) throw new InvalidOptionError('numClasses', `a value that keeps ${n} x numClasses below 2^31 elements`, c);
  const data = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v < 0 || v >= c) throw new InvalidOptionError(`labels[${i}]`, `an integer in [0, ${c - 1}]`, v);
    data[i * c + v] = 1;
  }
  return { dtype: 'float32', shape: [...outShape, c], data };
}

/**
 * Converts 1-based labels (the dataset's `target`, 1..5, usually float64) to
 * 0-based class indices, as the notebook's `target - 1`.
 *
 * @example
 * labelsToZeroBased(dataset.target); // Int32Array of 0..4
 */
export function labelsToZeroBased(labels: LabelsInput): Int32Array {
  return shifted(labels, -1, 1);
}

/**
 * Converts 0-based class indices back to the dataset's 1-based labels.
 *
 * @example
 * labelsToOneBased(Int32Array.from([0, 4])); // Int32Array [1, 5]
 */
export function labelsToOneBased(labels: LabelsInput): Int32Array {
  return shifted(labels, 1, 0);
}

function shifted(labels: LabelsInput, delta: number, min: number): Int32Array {
  const { values } = readLabels(labels, 'labels');
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) throw new InvalidOptionError(`labels[${i}]`, `an integer >= ${min}`, v);
    out[i] = v + delta;
  }
  return out;
}

/** Reads labels as integer values (refusing fractions, NaN and anything beyond int32). */
function readLabels(labels: LabelsInput, option: string): { values: Int32Array; shape: number[] } {
  let src: ArrayLike<number | bigint>;
  let shape: number[];
  if (isNdArray(labels)) {
    if (labels.dtype === 'float16') throw new InvalidOptionError(`${option}.dtype`, 'a dtype other than float16 (raw bits)', labels.dtype);
    src = labels.data;
    shape = labels.shape.slice();
  } else if (ArrayBuffer.isView(labels) || Array.isArray(labels) || (typeof labels === 'object' && labels !== null && 'length' in labels)) {
    src = labels as ArrayLike<number | bigint>;
    shape = [src.length];
  } else {
    throw new InvalidOptionError(option, 'an NdArray, typed array or array of integers', labels);
  }
  const values = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const raw = src[i];
    const v = typeof raw === 'bigint' ? Number(raw) : raw;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new InvalidOptionError(`${option}[${i}]`, 'an integer', raw);
    }
    values[i] = v;
  }
  return { values, shape };
}
