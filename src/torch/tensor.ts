/**
 * Tensors owned by the native addon. Data is copied in once; training and
 * evaluation then use it without another copy from JavaScript.
 */
import { described, InvalidOptionError, TorchfitError } from '../errors.js';
import { deviceRuntime, parseDevice, selectDevice, type Device } from './device.js';
import { native, type NativeTensor } from './native.js';

/** Tensor dtypes the addon stores. */
export type TensorDType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'bool';

/** The typed arrays a Tensor is made from and read back as. */
export type TensorData = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Int32Array | BigInt64Array;

const DEFAULT_DTYPE = new Map<Function, TensorDType>([
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
  [Int16Array, 'int16'],
  [Int32Array, 'int32'],
  [BigInt64Array, 'int64'],
]);

const registry = new FinalizationRegistry<NativeTensor>((handle) => {
  // GC fallback for tensors the caller forgot to dispose.
  if (!handle.disposed) handle.dispose();
});

/**
 * A tensor held by libtorch, on the CPU or a CUDA device.
 *
 * @example
 * const t = Tensor.from(new Float32Array([1, 2, 3, 4]), [2, 2]);
 * t.shape; // [2, 2]
 * t.dispose();
 */
export class Tensor {
  /** @internal */
  readonly handle: NativeTensor;

  private constructor(handle: NativeTensor) {
    this.handle = handle;
    registry.register(this, handle, this);
  }

  /**
   * Copies a typed array into a new tensor of the given shape.
   *
   * @example
   * const images = Tensor.from(pixels, [n, 1, 28, 28], { device: 'cpu' });
   */
  static from(data: TensorData, shape: readonly number[], options: { dtype?: TensorDType; device?: Device } = {}): Tensor {
    const defaultDtype = DEFAULT_DTYPE.get(data?.constructor);
    if (!ArrayBuffer.isView(data) || defaultDtype === undefined) {
      throw new InvalidOptionError('data', 'a Float32Array, Float64Array, Int8Array, Uint8Array, Int16Array, Int32Array or BigInt64Array', data);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new InvalidOptionError('shape', 'an array of non-negative integers', shape);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw new InvalidOptionError('shape', `dimensions whose product is the data length ${data.length}`, described(`[${shape.join(', ')}] (${size} elements)`));
    }
    const dtype = options.dtype ?? defaultDtype;
    if (![...DEFAULT_DTYPE.values(), 'bool'].includes(dtype)) {
      throw new InvalidOptionError('dtype', "'float32', 'float64', 'int8', 'uint8', 'int16', 'int32', 'int64' or 'bool'", dtype);
    }
    const wanted = parseDevice(options.device ?? 'cpu');
    const binding = native();
    const device = selectDevice(wanted, deviceRuntime(() => binding.info()));
    try {
      return new Tensor(binding.NativeTensor.fromTypedArray(data, [...shape], dtype, device));
    } catch (error) {
      throw asTorchfitError(error);
    }
  }

  get shape(): number[] {
    return this.live().shape;
  }
  get dtype(): TensorDType {
    return this.live().dtype as TensorDType;
  }
  get device(): string {
    return this.live().device;
  }
  get disposed(): boolean {
    return this.handle.disposed;
  }

  /** Copies the data back into a new typed array (bool as Uint8Array). */
  toTypedArray(): TensorData {
    return this.live().toTypedArray();
  }

  /** Frees the native memory now; later use throws ERR_DISPOSED. */
  dispose(): void {
    registry.unregister(this);
    this.handle.dispose();
  }

  private live(): NativeTensor {
    if (this.handle.disposed) throw new TorchfitError('ERR_DISPOSED', 'the Tensor was disposed');
    return this.handle;
  }
}

/** Native errors carry a code; give them our class so callers can rely on instanceof. */
export function asTorchfitError(error: unknown): unknown {
  if (error instanceof TorchfitError) return error;
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    return new TorchfitError((error as unknown as { code: string }).code, error.message);
  }
  return error;
}
