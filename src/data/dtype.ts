/**
 * The dtype table shared by the .npy reader and writer and the pickle layer:
 * numpy's type codes, item sizes and the typed array each dtype maps to.
 */
import { endianness } from 'node:os';
import type { DType, TypedArray } from './ndarray.js';

/** A constructor of one of the typed arrays an NdArray can hold. */
export interface TypedArrayConstructor {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
}

/** What the readers and writers need to know about one dtype. */
export interface DTypeInfo {
  readonly dtype: DType;
  /** numpy's kind + size code without byte order, e.g. `f4` (what `np.dtype(code)` takes). */
  readonly code: string;
  readonly itemsize: number;
  readonly ctor: TypedArrayConstructor;
}

const table: readonly DTypeInfo[] = [
  { dtype: 'bool', code: 'b1', itemsize: 1, ctor: Uint8Array },
  { dtype: 'int8', code: 'i1', itemsize: 1, ctor: Int8Array },
  { dtype: 'uint8', code: 'u1', itemsize: 1, ctor: Uint8Array },
  { dtype: 'int16', code: 'i2', itemsize: 2, ctor: Int16Array },
  { dtype: 'uint16', code: 'u2', itemsize: 2, ctor: Uint16Array },
  { dtype: 'int32', code: 'i4', itemsize: 4, ctor: Int32Array },
  { dtype: 'uint32', code: 'u4', itemsize: 4, ctor: Uint32Array },
  { dtype: 'int64', code: 'i8', itemsize: 8, ctor: BigInt64Array },
  { dtype: 'uint64', code: 'u8', itemsize: 8, ctor: BigUint64Array },
  // float16 has no JS typed array: the raw IEEE half bits are kept.
  { dtype: 'float16', code: 'f2', itemsize: 2, ctor: Uint16Array },
  { dtype: 'float32', code: 'f4', itemsize: 4, ctor: Float32Array },
  { dtype: 'float64', code: 'f8', itemsize: 8, ctor: Float64Array },
] as const;

/** Every supported dtype, keyed by its name. */
export const DTYPES: Readonly<Record<DType, DTypeInfo>> = Object.fromEntries(table.map((t) => [t.dtype, t])) as Record<DType, DTypeInfo>;

const byCode = new Map<string, DTypeInfo>(table.map((t) => [t.code, t]));
// Aliases numpy accepts in descr strings and still writes in some old files.
byCode.set('?', DTYPES.bool);

/** True on little-endian hosts (every platform Node ships for today, but we do not assume it). */
export const NATIVE_LITTLE_ENDIAN = endianness() === 'LE';

/** The byte order a file declares: little, big, or "not applicable / native". */
export type ByteOrder = '<' | '>' | '|';

/** A parsed numpy type string such as `<f4`, `|u1` or `|O`. */
export type ParsedDescr =
  | { kind: 'numeric'; info: DTypeInfo; order: ByteOrder }
  | { kind: 'object' }
  | { kind: 'unsupported'; reason: string };

/**
 * Parses numpy's type string (the `descr` of a .npy header, or the code given to
 * `numpy.dtype` in a pickle). `=` means native and is normalised to `<`/`>`.
 *
 * @example
 * parseDescr('>i8'); // { kind: 'numeric', info: DTYPES.int64, order: '>' }
 */
export function parseDescr(descr: string): ParsedDescr {
  let order: string = '';
  let code = descr;
  if (code.length > 0 && '<>|='.includes(code[0]!)) {
    order = code[0]!;
    code = code.slice(1);
  }
  if (code === 'O' || code === 'O8' || code === 'O4') return { kind: 'object' };
  const info = byCode.get(code);
  if (info === undefined) {
    const kind = code[0];
    const what = kind === 'c' ? 'complex numbers' : kind === 'U' || kind === 'S' || kind === 'a' ? 'strings'
      : kind === 'V' ? 'void/structured records' : kind === 'M' || kind === 'm' ? 'datetimes' : 'this type';
    return { kind: 'unsupported', reason: `dtype '${descr}' (${what}) is not supported; supported: bool, int8..int64, uint8..uint64, float16, float32, float64` };
  }
  let resolved: ByteOrder;
  if (order === '<' || order === '>') resolved = order;
  else if (order === '|' && info.itemsize === 1) resolved = '|';
  else resolved = NATIVE_LITTLE_ENDIAN ? '<' : '>';
  return { kind: 'numeric', info, order: info.itemsize === 1 ? '|' : resolved };
}

/**
 * The .npy `descr` numpy writes for an array of this dtype in native order.
 *
 * @example
 * descrOf('float32'); // '<f4' on little-endian hosts
 */
export function descrOf(dtype: DType): string {
  const info = DTYPES[dtype];
  return `${info.itemsize === 1 ? '|' : NATIVE_LITTLE_ENDIAN ? '<' : '>'}${info.code}`;
}

/** True when data in this byte order can be used without swapping. */
export function isNativeOrder(order: ByteOrder): boolean {
  return order === '|' || (order === '<') === NATIVE_LITTLE_ENDIAN;
}

/**
 * Converts raw IEEE 754 half-precision bits to a number (used for numpy float16 scalars).
 *
 * @example
 * halfToNumber(0x3c00); // 1
 */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
