/** The words the report uses for why a run stopped before its last epoch (trainModel's stopReason). */
import type { StopReason } from '../torch/types.js';

const LABELS: Record<StopReason, string> = {
  earlyStopping: 'early stop',
  stop: 'stopped by a callback',
  timeLimit: 'time limit reached',
};

/** Whether `value` is one of trainModel's stop reasons. */
export function isStopReason(value: unknown): value is StopReason {
  return typeof value === 'string' && Object.hasOwn(LABELS, value);
}

/** A short label; a stop without a reason is an early stop, as before stopReason existed. */
export function stopLabel(reason: StopReason | undefined): string {
  return LABELS[reason ?? 'earlyStopping'];
}
