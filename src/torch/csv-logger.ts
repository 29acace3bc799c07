/**
 * csvLogger(): Keras's CSVLogger file, written from TypeScript at each epoch end. The file
 * is replaced atomically every epoch (old rows and the new one), so a reader never sees
 * half a row; with `append` the rows follow what the file held when training started.
 *
 * Keras's layout: a header 'epoch' then the log's keys sorted (accuracy, loss, lr when a
 * reduceLROnPlateau comes before the logger, val_accuracy, val_loss; without validation
 * data Keras adds the val_ columns anyway, filled with NA), epoch 0-based, floats as
 * Python prints them, Python's csv quoting and '\r\n' line ends.
 */
import { readFile } from 'node:fs/promises';

import { writeFileAtomic } from '../data/atomic-write.js';
import { TorchfitError } from '../errors.js';
import type { NativeCsvLogger } from './callbacks.js';
import type { EpochLog } from './types.js';

/** Python's repr() of a float: '0.5', '1.0', '1e-05', 'nan', 'inf'. */
export function pythonRepr(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  if (Object.is(value, -0)) return '-0.0';
  const exp = Number(value.toExponential().split('e')[1]);
  return layout(value.toExponential(), exp < -4 || exp >= 16);
}

/**
 * numpy's str() of a float32 (how Keras's CSV writes the learning rate): the shortest digits
 * that give back the same float32, positional from 1e-4 up to 1e6, scientific outside.
 */
export function float32Repr(value: number): string {
  const f = Math.fround(value);
  if (!Number.isFinite(f) || f === 0) return pythonRepr(f);
  // Nine significant digits always give a float32 back; the loop ends there at the latest.
  let text = f.toPrecision(9);
  for (let p = 1; p <= 9; p++) {
    text = f.toPrecision(p);
    if (Math.fround(Number(text)) === f) break;
  }
  const magnitude = Math.abs(f);
  return layout(Number(text).toExponential(), magnitude !== 0 && (magnitude < 1e-4 || magnitude >= 1e6));
}

// From JavaScript's shortest exponential form ('-1.25e-7') to Python's layout, in scientific
// notation ('-1.25e-07') or positional ('0.5', '3.0').
function layout(exponential: string, scientific: boolean): string {
  const [mantissa, exp] = exponential.split('e') as [string, string];
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const e = Number(exp);
  const sign = negative ? '-' : '';
  if (scientific) {
    const rest = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0]}${rest}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  const whole = e + 1;
  if (digits.length <= whole) return `${sign}${digits}${'0'.repeat(whole - digits.length)}.0`;
  return `${sign}${digits.slice(0, whole)}.${digits.slice(whole)}`;
}

/** Python's csv.writer (excel dialect, QUOTE_MINIMAL) on one field. */
function quote(field: string, separator: string): string {
  return field.includes(separator) || /["\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/** One run's logger: begin() before training, onEpoch() per epoch, finish() at the end. */
export class CsvLoggerRun {
  private content = '';
  private keys: string[] | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;

  /** onFailure: told of the first failed write during training (the run then aborts). */
  constructor(private readonly options: NativeCsvLogger, private readonly hasValidation: boolean,
    private readonly onFailure: (error: unknown) => void = () => {}) {}

  /** Keras opens the file at train begin: append keeps it, otherwise it starts empty now. */
  async begin(): Promise<void> {
    if (this.options.append) {
      try {
        this.content = await readFile(this.options.path, 'latin1');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.error(error);
      }
    }
    await this.write();
  }

  /** Queues the epoch's row; a failure goes to onFailure and finish(). */
  onEpoch(log: EpochLog): void {
    if (this.keys === undefined) {
      const keys = ['accuracy', 'loss', ...(this.hasValidation ? ['val_accuracy', 'val_loss'] : []), ...(this.options.lrColumn ? ['lr'] : [])].sort();
      // Keras adds the val_ columns when the first epoch has none.
      if (!keys.some((k) => k.startsWith('val_'))) keys.push(...keys.map((k) => `val_${k}`));
      this.keys = keys;
      // The header only when the file holds no first line (Keras's append check).
      if (!this.content.split('\n', 1)[0]) this.content += this.row(['epoch', ...keys]);
    }
    const values: Record<string, string> = {
      accuracy: pythonRepr(log.accuracy),
      loss: pythonRepr(log.loss),
      lr: float32Repr(log.learningRate),
      ...(this.hasValidation ? { val_accuracy: pythonRepr(log.valAccuracy), val_loss: pythonRepr(log.valLoss) } : {}),
    };
    this.content += this.row([String(log.epoch - 1), ...this.keys.map((k) => values[k] ?? 'NA')]);
    this.write().catch((error: unknown) => this.onFailure(error));
  }

  /** Waits for the last write; throws the first failure. */
  async finish(): Promise<void> {
    await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }

  private row(fields: string[]): string {
    return `${fields.map((f) => quote(f, this.options.separator)).join(this.options.separator)}\r\n`;
  }

  private write(): Promise<void> {
    const bytes = Buffer.from(this.content, 'latin1');
    this.writing = this.writing.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await writeFileAtomic(this.options.path, [bytes]);
      } catch (error) {
        this.failure = this.error(error);
      }
    });
    return this.writing.then(() => {
      if (this.failure !== undefined) throw this.failure;
    });
  }

  private error(cause: unknown): TorchfitError {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'its folder does not exist' : cause instanceof Error ? cause.message : String(cause);
    return new TorchfitError('ERR_CSV_LOGGER', `csvLogger: cannot write ${this.options.path}: ${reason}`, { cause });
  }
}
