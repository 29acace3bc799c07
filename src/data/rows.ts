/**
 * Selecting rows (first-axis entries) of an NdArray by index, to turn split
 * indices into training and validation arrays.
 */
import { InvalidOptionError } from '../errors.js';
import { DTYPES } from './dtype.js';
import type { NdArray } from './ndarray.js';

/**
 * `array[indices]` along the first axis, as numpy fancy indexing does (a copy,
 * in the order of `indices`).
 *
 * @example
 * const { train } = notebookSplit(features.shape[0]);
 * const xTrain = takeRows(features, train); // shape [54000, 28, 28]
 */
export function takeRows(array: NdArray, indices: ArrayLike<number>): NdArray {
  if (array.shape.length === 0) throw new InvalidOptionError('array', 'an NdArray with at least one axis', array);
  const rows = array.shape[0]!;
  let row = 1;
  for (const d of array.shape.slice(1)) row *= d;
  const info = DTYPES[array.dtype];
  const out = new info.ctor(indices.length * row);
  const src = array.data;
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    if (!Number.isInteger(r) || r < 0 || r >= rows) throw new InvalidOptionError(`indices[${i}]`, `an integer in [0, ${rows - 1}]`, r);
    // subarray + set copies a whole row at memcpy speed, whatever the dtype.
    (out as Float32Array).set((src as Float32Array).subarray(r * row, (r + 1) * row), i * row);
  }
  return { dtype: array.dtype, shape: [indices.length, ...array.shape.slice(1)], data: out };
}
