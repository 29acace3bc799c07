/** The dtypes an NdArray can hold, named as numpy names them. */
export type DType =
  | 'float16' | 'float32' | 'float64'
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'bool';

/** The typed array behind each dtype (float16 is kept as raw Uint16 bits, bool as Uint8 0/1). */
export type TypedArray =
  | Float32Array | Float64Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

/**
 * An n-dimensional array: C order, native byte order. `data.length` equals the
 * product of `shape` (1 for a 0-d array).
 */
export interface NdArray {
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

/**
 * A numpy object array (dtype `O`) that was not a 0-d wrapper: its elements in
 * C order. Only the unpickler produces these.
 */
export interface ObjectArray {
  dtype: 'object';
  shape: number[];
  data: unknown[];
}

/**
 * Number of elements of a shape (1 for `[]`).
 *
 * @example
 * shapeSize([2, 3]); // 6
 */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * True when `value` looks like an NdArray of a known dtype (the data's length
 * is not checked here; writers check it).
 *
 * @example
 * isNdArray({ dtype: 'uint8', shape: [2], data: new Uint8Array(2) }); // true
 */
export function isNdArray(value: unknown): value is NdArray {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<NdArray>;
  return typeof v.dtype === 'string' && v.dtype !== ('object' as string) && Array.isArray(v.shape) && ArrayBuffer.isView(v.data);
}
