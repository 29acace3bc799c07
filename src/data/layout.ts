/**
 * Turns raw array bytes (from a .npy body or a pickled ndarray) into a typed
 * array in C order and native byte order, viewing the input whenever it can.
 */
import { isNativeOrder, type ByteOrder, type DTypeInfo } from './dtype.js';
import { shapeSize, type TypedArray } from './ndarray.js';

/**
 * Called before every allocation the conversion makes, with its byte count, so
 * the caller can refuse files that would make us allocate far more than their
 * own size (the same bytes referenced many times from a pickle memo).
 */
export type ChargeFn = (bytes: number) => void;

/**
 * Builds the typed array for `shape` from `bytes` (exactly `product(shape) *
 * itemsize` long; the caller checks). Views `bytes` when the order is native,
 * the offset is aligned for the element size and no transpose is needed;
 * otherwise copies once (swap) and possibly once more (Fortran to C order).
 *
 * @example
 * const raw = new Uint8Array([0, 0, 128, 63]);
 * typedFromBytes(raw, DTYPES.float32, '<', [1], false); // Float32Array [1]
 */
export function typedFromBytes(
  bytes: Uint8Array, info: DTypeInfo, order: ByteOrder, shape: readonly number[], fortran: boolean, charge: ChargeFn = () => {},
): TypedArray {
  const count = shapeSize(shape);
  const size = info.itemsize;
  let data: TypedArray;
  if (isNativeOrder(order) && (bytes.byteOffset % size) === 0) {
    data = new info.ctor(bytes.buffer, bytes.byteOffset, count);
  } else {
    charge(bytes.byteLength);
    // Buffer.allocUnsafeSlow: an own ArrayBuffer at offset 0, so every element size is aligned.
    const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
    copy.set(bytes);
    if (!isNativeOrder(order)) {
      if (size === 2) copy.swap16();
      else if (size === 4) copy.swap32();
      else if (size === 8) copy.swap64();
    }
    data = new info.ctor(copy.buffer, copy.byteOffset, count);
  }
  if (fortran && shape.length > 1 && count > 1) {
    charge(bytes.byteLength);
    data = fortranToC(data, shape, info);
  }
  if (info.dtype === 'bool') data = normaliseBool(data as Uint8Array, charge);
  return data;
}

/** Reorders a column-major (Fortran) array into row-major (C) order. */
function fortranToC(src: TypedArray, fullShape: readonly number[], info: DTypeInfo): TypedArray {
  // Size-1 dimensions are laid out the same in both orders. Dropping them keeps the cost per element
  // proportional to the real dimensions (at most log2(count) of them), not to a hostile header's
  // hundreds of thousands of 1s, which made a 2 MB file take tens of minutes of CPU.
  const shape = fullShape.filter((d) => d !== 1);
  if (shape.length <= 1) return src;
  const ndim = shape.length;
  const count = src.length;
  const out = new info.ctor(count);
  const strides = new Array<number>(ndim);
  let s = 1;
  for (let j = 0; j < ndim; j++) { strides[j] = s; s *= shape[j]!; }
  const idx = new Array<number>(ndim).fill(0);
  const last = ndim - 1;
  const inner = shape[last]!;
  const innerStride = strides[last]!;
  const a = src as unknown as { [i: number]: number | bigint };
  const b = out as unknown as { [i: number]: number | bigint };
  let o = 0;
  while (o < count) {
    let base = 0;
    for (let j = 0; j < last; j++) base += idx[j]! * strides[j]!;
    for (let k = 0; k < inner; k++) b[o++] = a[base + k * innerStride]!;
    // Odometer over every axis but the last, last-but-one fastest (C order).
    for (let j = last - 1; j >= 0; j--) {
      if (++idx[j]! < shape[j]!) break;
      idx[j] = 0;
    }
  }
  return out;
}

/** numpy stores bool as any byte (non-zero is true); we promise 0/1, copying only when needed. */
function normaliseBool(data: Uint8Array, charge: ChargeFn): Uint8Array {
  let clean = true;
  for (let i = 0; i < data.length; i++) if (data[i]! > 1) { clean = false; break; }
  if (clean) return data;
  charge(data.length);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ? 1 : 0;
  return out;
}

/**
 * The bytes of a typed array, without copying (for writers).
 *
 * @example
 * bytesOf(new Float32Array([1])).length; // 4
 */
export function bytesOf(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
