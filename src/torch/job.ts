/** Runs a native job with an optional AbortSignal and turns native errors into ours. */
import { AbortError, DistributedError, TrainingError } from '../errors.js';
import type { NativeJob } from './native.js';

/**
 * Awaits a native job. Abort raises the job's cancel flag (checked every batch);
 * the job then rejects with ABORT_ERR, which becomes an AbortError here. The
 * error is created here, so its stack is the caller's.
 */
export async function runJob<T>(start: () => NativeJob<T>, signal?: AbortSignal): Promise<T> {
  if (signal?.aborted) throw new AbortError(abortMessage(signal));
  const job = start();
  const onAbort = () => job.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await job.promise;
  } catch (error) {
    throw fromNative(error, signal);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

function abortMessage(signal: AbortSignal): string {
  const reason = signal.reason as unknown;
  return reason instanceof Error ? `The operation was aborted: ${reason.message}` : 'The operation was aborted';
}

function fromNative(error: unknown, signal?: AbortSignal): Error {
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'ERR_NATIVE';
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ABORT_ERR') return new AbortError(signal ? abortMessage(signal) : message);
  if (code.startsWith('ERR_DISTRIBUTED')) return new DistributedError(code, message);
  return new TrainingError(code, message);
}
