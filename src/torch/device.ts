/**
 * Devices, checked one way for every entry point (trainModel, Model.load, Tensor.from):
 * the form first (no addon needed), then against what this libtorch can run on, so
 * an unknown name or a GPU that is not there is an InvalidOptionError before any
 * native call.
 */
import { InvalidOptionError } from '../errors.js';

/** Where tensors live: 'auto' (the first CUDA device when one is visible, else the CPU), 'cpu', 'cuda' (= 'cuda:0') or 'cuda:N'. */
export type Device = 'auto' | 'cpu' | 'cuda' | `cuda:${number}`;

/** What the runtime says about its GPUs (a subset of info()). */
export interface DeviceRuntime {
  cudaCompiled: boolean;
  cudaAvailable: boolean;
  deviceCount: number;
}

// Three digits: no machine has a thousand GPUs, and the index stays a small integer.
const DEVICE_FORM = /^(auto|cpu|cuda(:\d{1,3})?)$/;

/** True for the four forms a device option takes (the CLI's --device uses it too). */
export function isDevice(value: unknown): value is Device {
  return typeof value === 'string' && DEVICE_FORM.test(value);
}

/**
 * Checks the form of a device option.
 *
 * @example
 * parseDevice('cuda:1');        // 'cuda:1'
 * parseDevice('gpu', 'device'); // throws InvalidOptionError: expected 'auto', 'cpu', 'cuda' or 'cuda:N', received "gpu"
 */
export function parseDevice(value: unknown, option = 'device'): Device {
  if (!isDevice(value)) {
    throw new InvalidOptionError(option, "'auto', 'cpu', 'cuda' or 'cuda:N'", value);
  }
  return value;
}

/**
 * The concrete device ('cpu' or 'cuda:N') a checked device option means on this runtime;
 * a CUDA device it cannot reach is an InvalidOptionError saying what can be used instead.
 *
 * @example
 * selectDevice('auto', { cudaCompiled: false, cudaAvailable: false, deviceCount: 0 }); // 'cpu'
 * selectDevice('cuda', { cudaCompiled: true, cudaAvailable: true, deviceCount: 2 });   // 'cuda:0'
 */
export function selectDevice(device: Device, runtime: DeviceRuntime, option = 'device'): string {
  if (device === 'auto') return runtime.cudaAvailable ? 'cuda:0' : 'cpu';
  if (device === 'cpu') return 'cpu';
  const index = device === 'cuda' ? 0 : Number(device.slice(5));
  const concrete = `cuda:${index}`;
  if (!runtime.cudaAvailable) {
    throw new InvalidOptionError(option, runtime.cudaCompiled ? "'cpu' (no CUDA GPU is visible)" : "'cpu' or 'auto' (this libtorch was built without CUDA)", concrete);
  }
  if (index >= runtime.deviceCount) {
    const count = runtime.deviceCount;
    throw new InvalidOptionError(option, `'cpu', 'auto' or a CUDA device from 'cuda:0' to 'cuda:${count - 1}' (${count} visible)`, concrete);
  }
  return concrete;
}

let knownRuntime: DeviceRuntime | undefined;

/**
 * The runtime's GPUs, asked once per process (they do not change while it runs; on CUDA builds
 * asking reads the device properties, too slow for every Tensor.from).
 */
export function deviceRuntime(ask: () => DeviceRuntime): DeviceRuntime {
  if (!knownRuntime) {
    const { cudaCompiled, cudaAvailable, deviceCount } = ask();
    knownRuntime = { cudaCompiled, cudaAvailable, deviceCount };
  }
  return knownRuntime;
}
