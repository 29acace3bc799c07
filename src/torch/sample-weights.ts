/**
 * trainModel's validationSplit, classWeight and sampleWeight, checked against the data.
 * The semantics are Keras's fit: the split takes the last fraction of the rows as given,
 * before any shuffling (their sampleWeight goes with them and weights val_loss); classWeight
 * weights the training rows only, multiplied with their sampleWeight; the loss is the sum of
 * the weighted per-sample losses over the batch size. Accuracy stays unweighted, as
 * Keras's `metrics: ['accuracy']` is.
 */
import { described, InvalidOptionError } from '../errors.js';
import type { NdArray } from '../data/ndarray.js';

/** Class index -> weight: an object ({ 0: 1, 1: 5 }) or an array ([1, 5]); every class needs one. */
export type ClassWeight = Readonly<Record<number, number>> | readonly number[];

/** One weight per training image: a typed array, a number[] or a 1-D NdArray. */
export type SampleWeights = Float32Array | Float64Array | readonly number[] | NdArray;

/**
 * Keras's split index: floor(n * (1 - fraction)) rows train, the rest validate (the same
 * float64 arithmetic as Keras's train_validation_split, so the same index).
 *
 * @example
 * validationSplitIndex(1000, 0.1); // 900
 */
export function validationSplitIndex(rows: number, fraction: number): number {
  const at = Math.floor(rows * (1.0 - fraction));
  if (at < 2 || at === rows) {
    // Keras refuses 0 or all rows; one training image is refused too (BatchNorm needs two).
    throw new InvalidOptionError('validationSplit', `a fraction that leaves at least 2 training images and 1 validation image of the ${rows} given`,
      described(`${fraction} (floor(${rows} * (1 - ${fraction})) = ${at} training images)`));
  }
  return at;
}

/** Checks validationSplit (0 or undefined: none) before the data is known. */
export function checkValidationSplit(value: unknown, hasValidation: boolean): number {
  if (value === undefined || value === 0) return 0;
  if (typeof value !== 'number' || !(value > 0 && value < 1)) {
    throw new InvalidOptionError('validationSplit', 'a number between 0 and 1 (exclusive): the fraction of the training data to validate on', value);
  }
  if (hasValidation) {
    throw new InvalidOptionError('validationSplit', 'no validationSplit when validation data is given (pass one or the other)', value);
  }
  return value;
}

/** classWeight as a table of numClasses weights (empty when not given). */
export function classWeightTable(value: unknown, numClasses: number): number[] {
  if (value === undefined) return [];
  const table: number[] = new Array<number>(numClasses).fill(Number.NaN);
  if (Array.isArray(value)) {
    if (value.length !== numClasses) {
      throw new InvalidOptionError('classWeight', `${numClasses} weights, one per class`, described(`${value.length} weights`));
    }
    value.forEach((w, i) => { table[i] = checkWeight(w, `classWeight[${i}]`); });
    return table;
  }
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) {
    throw new InvalidOptionError('classWeight', '{ classIndex: weight } or an array of one weight per class', value);
  }
  for (const [key, w] of Object.entries(value)) {
    const c = Number(key);
    if (!/^(0|[1-9]\d*)$/.test(key) || c >= numClasses) {
      throw new InvalidOptionError('classWeight', `class indices 0..${numClasses - 1} as keys`, described(`key '${key.length > 20 ? `${key.slice(0, 17)}...` : key}'`));
    }
    table[c] = checkWeight(w, `classWeight[${c}]`);
  }
  const missing = table.findIndex((w) => Number.isNaN(w));
  if (missing >= 0) {
    // Keras asks for every class from 0 to the largest too (keys 0..k-1).
    throw new InvalidOptionError('classWeight', `a weight for every class 0..${numClasses - 1}`, described(`none for class ${missing}`));
  }
  return table;
}

/** sampleWeight as float32, one finite weight >= 0 per given training image (before any split). */
export function sampleWeightArray(value: unknown, rows: number): Float32Array | undefined {
  if (value === undefined) return undefined;
  let data: ArrayLike<number>;
  if (Array.isArray(value) || value instanceof Float32Array || value instanceof Float64Array) {
    data = value as ArrayLike<number>;
  } else if (typeof value === 'object' && value !== null && Array.isArray((value as NdArray).shape) && ArrayBuffer.isView((value as NdArray).data) &&
      (value as NdArray).shape.length === 1 && !((value as NdArray).data instanceof BigInt64Array || (value as NdArray).data instanceof BigUint64Array)) {
    data = (value as NdArray).data as ArrayLike<number>;
  } else {
    throw new InvalidOptionError('sampleWeight', 'one weight per training image: a Float32Array, Float64Array, number[] or 1-D NdArray', value);
  }
  if (data.length !== rows) {
    throw new InvalidOptionError('sampleWeight', `${rows} weights (one per training image)`, described(`${data.length} weights`));
  }
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) out[i] = checkWeight(data[i], `sampleWeight[${i}]`);
  return out;
}

function checkWeight(w: unknown, option: string): number {
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new InvalidOptionError(option, 'a finite weight >= 0', w);
  return w;
}
