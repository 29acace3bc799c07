/**
 * Writing .npy files numpy reads back: plain NdArrays (byte-identical to
 * np.save's output) and dicts of arrays, strings, numbers and lists as a 0-d
 * object array holding a pickle, as np.save writes a dict.
 */
import { InvalidOptionError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { descrOf } from './dtype.js';
import { bytesOf } from './layout.js';
import { isNdArray, type NdArray } from './ndarray.js';
import { checkNdArray } from './ndarray-check.js';
import { formatNpyHeader } from './npy-header.js';
import { pickleChunks, type PicklableValue } from './pickle-write.js';

/** What saveNpy writes: an NdArray, or a plain object (a Python dict) of picklable values. */
export type NpySaveValue = NdArray | { [key: string]: PicklableValue };

/**
 * Encodes `value` as .npy bytes, as chunks to write in order (array payloads
 * are not copied: they are the caller's own memory).
 *
 * @example
 * const chunks = encodeNpyChunks({ dtype: 'uint8', shape: [2], data: new Uint8Array([1, 2]) });
 */
export function encodeNpyChunks(value: NpySaveValue): Uint8Array[] {
  if (isNdArray(value)) {
    checkNdArray(value, 'value');
    return [formatNpyHeader(descrOf(value.dtype), value.shape), bytesOf(value.data)];
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)
    || (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)) {
    throw new InvalidOptionError('value', 'an NdArray or a plain object (dict) of NdArrays, strings, numbers and lists', value);
  }
  const header = formatNpyHeader('|O', []);
  return [header, ...pickleChunks(value, { baseOffset: header.length, asObjectArray: true })];
}

/**
 * Encodes `value` as one .npy Buffer (convenient for small values and tests;
 * {@link saveNpy} streams chunks instead).
 *
 * @example
 * parseNpy(encodeNpy({ names: ['a', 'b'] })); // { names: ['a', 'b'] }
 */
export function encodeNpy(value: NpySaveValue): Buffer {
  return Buffer.concat(encodeNpyChunks(value));
}

/**
 * Writes `value` to `path` as .npy, atomically (temporary file in the same
 * folder, fsync, rename): an NdArray exactly as `np.save` would (format 1.0,
 * or 2.0 when the header needs it), or a dict as a 0-d object array with a
 * protocol 3 pickle that `np.load(path, allow_pickle=True)[()]` returns as the
 * same dict (integral numbers become Python ints, other numbers floats, arrays
 * of values lists, NdArrays ndarrays of the same dtype and shape).
 *
 * @example
 * await saveNpy('data/train.npy', { features, target, class_names: ['Tops', 'Bags'] });
 */
export async function saveNpy(path: string, value: NpySaveValue): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidOptionError('path', 'a non-empty file path', path);
  await writeFileAtomic(path, encodeNpyChunks(value));
}
