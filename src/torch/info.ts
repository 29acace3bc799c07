/** Facts about the libtorch we run on. */
import { availableParallelism } from 'node:os';

import { addonSource, native } from './native.js';

/** What info() reports: the libtorch in use, its devices, and what this build of the addon carries. */
export interface RuntimeInfo {
  /** The libtorch the addon runs on, e.g. '1.13.0'. */
  libtorchVersion: string;
  /** Whether this libtorch was built with CUDA. */
  cudaCompiled: boolean;
  /** Whether a CUDA GPU is visible now. */
  cudaAvailable: boolean;
  /** Visible CUDA devices ('cuda:0' to 'cuda:<deviceCount - 1>'). */
  deviceCount: number;
  /** The first GPU's name, when there is one. */
  deviceName?: string;
  /** The thread count trainModel() uses by default (the machine's cores). */
  threads: number;
  /** libtorch's own default on this thread (Debian's is 1). */
  libtorchDefaultThreads: number;
  /** Where the build found libtorch, e.g. 'system (Debian libtorch-dev)'. */
  buildTorchSource: string;
  /** Which c10d backends this build carries (distributed training). */
  distributed: { gloo: boolean; nccl: boolean };
  /** Which build of the fused CPU kernels this CPU runs: 'avx2' (AVX2 + FMA) or 'generic'. */
  cpuKernels: 'avx2' | 'generic';
  /** The convolution engine in use, e.g. 'onednn 2.6.3 avx512_core (nChw16c)', or 'off: <why>'. */
  convEngine: string;
  /** The addon file in use: 'prebuilt' (shipped in the package), 'source' (compiled here, build/Release) or 'env' (TORCHFIT_ADDON). */
  addon: { kind: 'prebuilt' | 'source' | 'env'; path: string };
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
    addon: { ...addonSource()! },
  };
}

/**
 * Tensors currently held by the addon (tensor handles, model parameters and
 * buffers, training data in flight). Compare before and after to find leaks.
 */
export function liveTensors(): number {
  return native().liveTensors();
}
