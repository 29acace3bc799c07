/** The words the report uses for why a run stopped before its last epoch (trainModel's stopReason). */
import { InvalidOptionError } from '../errors.js';
import type { StopReason } from '../torch/types.js';

const LABELS: Record<StopReason, string> = {
  earlyStopping: 'early stop',
  stop: 'stopped by a callback',
  timeLimit: 'time limit reached',
};

/** Refuses anything but one of trainModel's stop reasons (undefined is allowed: no reason given). */
export function checkStopReason(option: string, value: unknown): void {
  if (value !== undefined && !(typeof value === 'string' && Object.hasOwn(LABELS, value))) {
    throw new InvalidOptionError(option, "'earlyStopping', 'stop' or 'timeLimit'", value);
  }
}

/** A short label; a stop without a reason is an early stop, as before stopReason existed. */
export function stopLabel(reason: StopReason | undefined): string {
  return LABELS[reason ?? 'earlyStopping'];
}
