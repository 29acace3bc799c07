/**
 * Reading .npy files: plain arrays of every numeric dtype (viewing the file's
 * bytes when aligned and native-endian), and object arrays whose payload is a
 * pickle, through the restricted unpickler.
 */
import { NpyFormatError, PickleSecurityError } from '../errors.js';
import { typedFromBytes } from './layout.js';
import type { NdArray, ObjectArray } from './ndarray.js';
import { readNpyHeader } from './npy-header.js';
import { unpickleTop, type PickleLimits, type PickleValue } from './pickle.js';
import { readNpyFile } from './read-file.js';

/** What loadNpy returns: an NdArray, or whatever a pickled object array held. */
export type NpyValue = NdArray | PickleValue;

/** Options for {@link parseNpy} and {@link loadNpy}. */
export interface NpyReadOptions {
  /**
   * Read object arrays through the restricted unpickler (default true: unlike
   * numpy's pickle, it cannot run code). False refuses them.
   */
  allowPickle?: boolean;
  /** Limits for the unpickler. */
  pickle?: PickleLimits;
}

/**
 * Parses a whole .npy file held in memory. Numeric arrays come back in C order
 * and native byte order, viewing `buffer` when the data offset is aligned for
 * the element size (numpy aligns data to 64 bytes, so usually); Fortran-order
 * or foreign-endian data is copied once. A 0-d object array returns its single
 * element (what `np.load(f, allow_pickle=True)[()]` gives), other object arrays
 * an ObjectArray. Throws NpyFormatError / PickleSecurityError naming `file` and
 * the byte offset.
 *
 * @example
 * const a = parseNpy(await readFile('x.npy'), 'x.npy');
 * if ('dtype' in a) console.log(a.shape);
 */
export function parseNpy(buffer: Uint8Array, file = '<buffer>', options: NpyReadOptions = {}): NpyValue {
  const h = readNpyHeader(buffer, file);
  const body = buffer.subarray(h.dataOffset);
  if (h.descr.kind === 'object') return readObjectArray(body, file, h.dataOffset, h.shape, options);
  if (h.descr.kind !== 'numeric') throw new NpyFormatError(file, 'unsupported dtype', h.dataOffset);
  const info = h.descr.info;
  // A zero-size array has no data whatever its other dimensions (numpy writes (2**60, 0) happily).
  let count = h.shape.includes(0) ? 0 : 1;
  for (const d of h.shape) {
    if (count === 0) break;
    count *= d;
    if (count * info.itemsize > Number.MAX_SAFE_INTEGER) {
      throw new NpyFormatError(file, `shape (${h.shape.join(', ')}) of ${h.descrText} overflows any possible file size`, h.dataOffset);
    }
  }
  const need = count * info.itemsize;
  if (need > body.length) {
    throw new NpyFormatError(file, `truncated data: shape (${h.shape.join(', ')}) of ${h.descrText} needs ${need} bytes, only ${body.length} follow the header`, buffer.length);
  }
  if (need < body.length) {
    throw new NpyFormatError(file, `header shape (${h.shape.join(', ')}) of ${h.descrText} accounts for ${need} data bytes, but ${body.length} follow the header`, h.dataOffset + need);
  }
  const data = typedFromBytes(body, info, h.descr.order, h.shape, h.fortranOrder);
  return { dtype: info.dtype, shape: h.shape, data };
}

/**
 * Reads a .npy file from disk into one Buffer (placed so its big array is
 * aligned) and parses it with {@link parseNpy}; large arrays are views of that
 * Buffer, so memory stays close to the file size.
 *
 * @example
 * const d = await loadNpy('data/fashion_mnist_dataset_train.npy');
 * // d is { features: NdArray, target: NdArray, class_names: string[] }
 */
export async function loadNpy(path: string, options: NpyReadOptions = {}): Promise<NpyValue> {
  return parseNpy(await readNpyFile(path), path, options);
}

function readObjectArray(body: Uint8Array, file: string, offset: number, shape: number[], options: NpyReadOptions): PickleValue {
  if (options.allowPickle === false) {
    throw new PickleSecurityError(file, 'object array (pickled payload) refused because allowPickle is false', 0);
  }
  if (body.length === 0) throw new NpyFormatError(file, 'truncated data: the object array has no pickle payload', offset);
  const { value, arrayShape } = unpickleTop(body, file, { ...options.pickle, baseOffset: offset });
  // numpy itself returns whatever the pickle held; we only insist that an array agrees with the header.
  if (arrayShape === undefined) return value;
  if (arrayShape.length !== shape.length || arrayShape.some((d, i) => d !== shape[i])) {
    throw new NpyFormatError(file, `header shape (${shape.join(', ')}) disagrees with the pickled array's shape (${arrayShape.join(', ')})`, offset);
  }
  const arr = value as NdArray | ObjectArray;
  if (arr.dtype === 'object' && arrayShape.length === 0) return arr.data[0] as PickleValue;
  return arr;
}
