/**
 * Keras-style progress output for verbose 1 and 2: a live bar on a TTY, one
 * line per epoch otherwise, and EarlyStopping's message.
 */
import type { BatchLog, EpochLog } from './types.js';

export interface ProgressPrinter {
  onBatch(log: BatchLog): void;
  onEpoch(log: EpochLog): void;
  onEarlyStop(epoch: number): void;
}

const BAR_WIDTH = 30;

function metrics(log: { loss: number; accuracy: number; valLoss?: number; valAccuracy?: number }): string {
  let text = ` - loss: ${log.loss.toFixed(4)} - accuracy: ${log.accuracy.toFixed(4)}`;
  if (log.valLoss !== undefined && Number.isFinite(log.valLoss)) {
    text += ` - val_loss: ${log.valLoss.toFixed(4)} - val_accuracy: ${log.valAccuracy!.toFixed(4)}`;
  }
  return text;
}

// Keras's bar: '=' for done steps, '>' at the head while running, '.' for the rest.
function bar(step: number, steps: number): string {
  const filled = Math.min(BAR_WIDTH, Math.floor((BAR_WIDTH * step) / steps));
  const done = filled > 0 ? '='.repeat(filled - 1) + (step < steps ? '>' : '=') : '';
  return done + '.'.repeat(BAR_WIDTH - filled);
}

function formatMs(ms: number): string {
  return ms >= 1 ? `${Math.round(ms)}ms` : `${Math.round(ms * 1000)}us`;
}

/** A printer writing to `stream` (process.stdout by default). */
export function progressPrinter(verbose: 1 | 2, stream: NodeJS.WriteStream = process.stdout): ProgressPrinter {
  const live = verbose === 1 && stream.isTTY === true;
  let headerFor = 0;
  const header = (epoch: number, epochs: number) => {
    if (headerFor === epoch) return;
    headerFor = epoch;
    stream.write(`Epoch ${epoch}/${epochs}\n`);
  };
  let epochs = 0;
  // The epoch's planned steps (from its batch records): a stopped epoch prints "5/16" as Keras does.
  let planned = { epoch: 0, steps: 0 };
  return {
    onBatch(log) {
      planned = { epoch: log.epoch, steps: log.steps };
      if (!live) return;
      header(log.epoch, epochs || log.epoch);
      const width = String(log.steps).length;
      const eta = log.step > 0 ? (log.elapsedSeconds / log.step) * (log.steps - log.step) : 0;
      stream.write(`\r${String(log.step).padStart(width)}/${log.steps} [${bar(log.step, log.steps)}] - ETA: ${Math.round(eta)}s${metrics(log)}\x1b[K`);
    },
    onEpoch(log) {
      epochs = log.epochs;
      header(log.epoch, log.epochs);
      const steps = planned.epoch === log.epoch ? planned.steps : log.steps;
      const line = `${log.steps}/${steps}` + (live ? ` [${bar(log.steps, steps).replace('>', '=')}]` : '') +
        ` - ${Math.round(log.seconds)}s ${formatMs(log.msPerStep)}/step${metrics(log)}`;
      stream.write(live ? `\r${line}\x1b[K\n` : `${line}\n`);
    },
    onEarlyStop(epoch) {
      stream.write(`Epoch ${String(epoch).padStart(5, '0')}: early stopping\n`);
    },
  };
}
