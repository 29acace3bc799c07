/**
 * Validation of NdArrays handed to writers and helpers by callers, with
 * messages that name the option and what was wrong.
 */
import { InvalidOptionError } from '../errors.js';
import { DTYPES } from './dtype.js';
import type { NdArray } from './ndarray.js';

/**
 * Throws InvalidOptionError unless `value` is a well-formed NdArray: a known
 * dtype, a shape of non-negative integers, data of the dtype's typed array
 * whose length is the product of the shape.
 *
 * @example
 * checkNdArray({ dtype: 'float32', shape: [2], data: new Float32Array(2) }, 'value');
 */
export function checkNdArray(value: unknown, option: string): asserts value is NdArray {
  if (typeof value !== 'object' || value === null) throw new InvalidOptionError(option, 'an NdArray { dtype, shape, data }', value);
  const v = value as Partial<NdArray>;
  const info = typeof v.dtype === 'string' ? DTYPES[v.dtype as keyof typeof DTYPES] : undefined;
  if (info === undefined || !Object.hasOwn(DTYPES, v.dtype as string)) {
    throw new InvalidOptionError(`${option}.dtype`, `one of ${Object.keys(DTYPES).join(', ')}`, v.dtype);
  }
  if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InvalidOptionError(`${option}.shape`, 'an array of non-negative integers', v.shape);
  }
  if (!(v.data instanceof info.ctor)) {
    throw new InvalidOptionError(`${option}.data`, `a ${info.ctor.name} for dtype ${info.dtype}`, v.data);
  }
  let n = 1;
  for (const d of v.shape) n *= d;
  if (v.data.length !== n) {
    throw new InvalidOptionError(`${option}.data`, `${n} elements for shape [${v.shape.join(', ')}]`, v.data);
  }
}
