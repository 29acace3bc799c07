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
