/**
 * Tests only, not exported from the package: one all-reduced training step of a small
 * BatchNorm-free network (native/core/tools/probe.h), so that a test can compare
 * the averaged gradients of several ranks with one process's gradient of the combined batch.
 */
import { resolveDistributed, type DistributedOptions } from './distributed.js';
import { runJob } from './job.js';
import { native, type NativeProbeResult } from './native.js';

export interface ProbeSpec {
  /** (N, C, H, W) */
  x: Float32Array;
  shape: number[];
  y: Int32Array;
  numClasses: number;
  /** Initial weights; with `distributed`, rank 0's are broadcast to all. */
  seed: number;
  distributed?: DistributedOptions;
}

export async function _dataParallelProbe(spec: ProbeSpec): Promise<NativeProbeResult> {
  const resolved = resolveDistributed(spec.distributed);
  const distributed = resolved ? { ...resolved, backend: 'gloo' as const } : undefined;
  const { distributed: _, ...rest } = spec;
  return runJob(() => native()._dataParallelProbe({ ...rest, ...(distributed ? { distributed } : {}) }));
}
