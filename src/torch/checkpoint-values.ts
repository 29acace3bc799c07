/**
 * Telling apart the values the restricted unpickler returns for a checkpoint:
 * dicts (plain objects) and tensors (NdArrays whose data is the typed array of
 * their dtype, as long as their shape says). A pickled dict that merely has
 * `dtype`, `shape` and `data` keys is not taken for a tensor.
 */
import { DTYPES } from '../data/dtype.js';
import { isNdArray, type NdArray } from '../data/ndarray.js';
import type { PickleValue } from '../data/pickle.js';

/** A Python dict with str keys (not a tensor, list, set or bytes). */
export function isDict(v: PickleValue | undefined): v is Record<string, PickleValue> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype && !isNdArray(v) &&
    (v as { dtype?: unknown }).dtype !== 'object';
}

/** The value as a tensor, or undefined when it is anything else. */
export function asTensor(v: PickleValue | undefined): NdArray | undefined {
  if (!isNdArray(v)) return undefined;
  if (!Object.hasOwn(DTYPES, v.dtype)) return undefined;
  const info = DTYPES[v.dtype];
  if (!(v.data instanceof info.ctor)) return undefined;
  const numel = v.shape.reduce((a, b) => a * b, 1);
  return Number.isSafeInteger(numel) && v.data.length === numel ? v : undefined;
}

/** The storage class torch.save names for a dtype, for messages ('torch.LongStorage'). */
export function storageName(dtype: string): string {
  const names: Record<string, string> = {
    float32: 'Float', float64: 'Double', float16: 'Half', int64: 'Long', int32: 'Int', int16: 'Short', int8: 'Char',
    uint8: 'Byte', bool: 'Bool',
  };
  return `torch.${names[dtype] ?? dtype}Storage`;
}
