/** Facts about the libtorch we run on. */
import { availableParallelism } from 'node:os';

import { native, type NativeRuntimeInfo } from './native.js';

/** The addon's facts, with `threads` meaning the default trainModel() uses. */
export interface RuntimeInfo extends Omit<NativeRuntimeInfo, 'threads' | 'buildLibtorchVersion'> {
  /** The thread count trainModel() uses by default (the machine's cores). */
  threads: number;
  /** libtorch's own default on this thread (Debian's is 1). */
  libtorchDefaultThreads: number;
}

/**
 * What libtorch we run on and which devices it sees.
 *
 * @example
 * info(); // { libtorchVersion: '1.13.0', cudaAvailable: false, threads: 2, distributed: { gloo: true, nccl: false }, cpuKernels: 'avx2', convEngine: 'onednn 2.6.3 avx2 (nChw8c)', ... }
 */
export function info(): RuntimeInfo {
  const raw = native().info();
  return {
    libtorchVersion: raw.libtorchVersion,
    cudaCompiled: raw.cudaCompiled,
    cudaAvailable: raw.cudaAvailable,
    deviceCount: raw.deviceCount,
    ...(raw.deviceName ? { deviceName: raw.deviceName } : {}),
    threads: availableParallelism(),
    libtorchDefaultThreads: raw.threads,
    buildTorchSource: raw.buildTorchSource,
    distributed: { ...raw.distributed },
    cpuKernels: raw.cpuKernels,
    convEngine: raw.convEngine,
  };
}

/**
 * Tensors currently held by the addon (tensor handles, model parameters and
 * buffers, training data in flight). Compare before and after to find leaks.
 */
export function liveTensors(): number {
  return native().liveTensors();
}
