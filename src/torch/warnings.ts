/**
 * Warnings of a training run: things that do not stop it but that a user would want to
 * know (Keras logs such things). Each has a stable code and a message that says what
 * happened, why it matters and what to do. trainModel hands them to `onWarning`, prints
 * them to stderr when `verbose` is on, and returns them in `TrainResult.warnings`.
 */

/** Stable identifiers of the warnings trainModel can give. */
export type TrainWarningCode = 'WARN_LABELS_ONE_BASED' | 'WARN_BATCH_SIZE_REDUCED' | 'WARN_BATCH_NORM_LAG';

/** One warning: `code` to switch on, `message` to show. */
export interface TrainWarning {
  code: TrainWarningCode;
  message: string;
}

/**
 * Labels without a 0 that run 1..max, used without numClasses: the model would get max + 1
 * classes, class 0 never seen (a 1-based labelling, as the notebook's 1..5).
 *
 * @example
 * oneBasedLabelsWarning('train.y', 10).message;
 * // 'train.y looks 1-based: no label is 0 and the labels run from 1 to 10, so the model gets 11 classes ...'
 */
export function oneBasedLabelsWarning(option: string, max: number): TrainWarning {
  return {
    code: 'WARN_LABELS_ONE_BASED',
    message: `${option} looks 1-based: no label is 0 and the labels run from 1 to ${max}, so the model gets ${max + 1} classes ` +
      `and class 0 is never seen. Shift the labels to 0..${max - 1} with labelsToZeroBased(y); if class 0 is meant to be ` +
      `empty, pass numClasses: ${max + 1} to say so.`,
  };
}

/** batchSize above the training images: one smaller batch per epoch, as Keras and PyTorch do. */
export function batchSizeReducedWarning(batchSize: number, images: number, ranks = 1): TrainWarning {
  const what = ranks > 1 ? `the ${images} training images of each of the ${ranks} ranks (batchSize is per rank)` : `the ${images} training images`;
  return {
    code: 'WARN_BATCH_SIZE_REDUCED',
    message: `batchSize ${batchSize} is larger than ${what}: training uses batches of ${images}, one step per epoch, ` +
      'as Keras and PyTorch do with a short data set.',
  };
}

/**
 * How far below training accuracy the last validation accuracy must be (a fraction) before
 * the BatchNorm lag is suspected.
 */
export const BATCH_NORM_LAG_GAP = 0.3;

/**
 * Steps the moving statistics need, for Keras's momentum m: they average over about
 * 1 / (1 - m) steps, and the starting values (mean 0, variance 1) still weigh m^k after k
 * steps; 10 / (1 - m) steps brings that under e^-10 and leaves the averages about a tenth
 * of their length behind the last weights (1,000 steps for 0.99, 100 for 0.9). Measured
 * with the CNN: see docs/training-data.md.
 */
export function batchNormSettlingSteps(momentum: number): number {
  return Math.ceil(10 / (1 - momentum) - 1e-9);
}

export interface BatchNormLagInput {
  trainAccuracy: number;
  valAccuracy: number;
  /** Optimizer steps of the run. */
  steps: number;
  /** The largest BatchNorm momentum of the model, Keras's terms. */
  momentum: number;
  /** A preset (batchNormMomentum applies) or a layers model (momentum per layer). */
  preset: boolean;
}

/**
 * The warning after training when validation accuracy is far below training accuracy and
 * the run was too short for BatchNorm's moving statistics (which validation and prediction
 * use) to settle; undefined when that is not the case.
 */
export function batchNormLagWarning(run: BatchNormLagInput): TrainWarning | undefined {
  const { trainAccuracy, valAccuracy, steps, momentum } = run;
  if (!Number.isFinite(trainAccuracy) || !Number.isFinite(valAccuracy)) return undefined;
  const needed = batchNormSettlingSteps(momentum);
  if (!(trainAccuracy - valAccuracy > BATCH_NORM_LAG_GAP) || steps >= needed) return undefined;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const count = (n: number) => n.toLocaleString('en-US');
  // A lower momentum to suggest: the first of these below the one used.
  const suggestion = [0.9, 0.8, 0.5].find((m) => m < momentum);
  const what = run.preset ? 'batchNormMomentum' : "the batchNormalization layers' momentum";
  const lower = suggestion === undefined ? '' : `, or lower ${what} (${suggestion} settles within about ${count(batchNormSettlingSteps(suggestion))} steps)`;
  return {
    code: 'WARN_BATCH_NORM_LAG',
    message: `Validation accuracy ${pct(valAccuracy)} is far below training accuracy ${pct(trainAccuracy)} after only ${count(steps)} ` +
      `optimizer steps. BatchNorm's moving statistics, which validation and prediction use, follow the batches with ` +
      `momentum ${momentum} and need about ${count(needed)} steps to settle; until then the model predicts poorly on new images ` +
      `although it has learned. Train longer (more epochs or images)${lower}.`,
  };
}

/** Collects warnings, passes each to `onWarning` and prints it to stderr when verbose. */
export class WarningSink {
  readonly warnings: TrainWarning[] = [];
  /** Errors thrown by onWarning, reported as trainModel's rejection. */
  readonly callbackErrors: unknown[] = [];

  constructor(
    private readonly onWarning: ((warning: TrainWarning) => void) | undefined,
    private readonly verbose: number,
    private readonly stream: { write(text: string): unknown } = process.stderr,
  ) {}

  emit(warning: TrainWarning): void {
    this.warnings.push(warning);
    if (this.verbose > 0) this.stream.write(`torchfit warning [${warning.code}]: ${warning.message}\n`);
    if (!this.onWarning) return;
    try {
      this.onWarning(warning);
    } catch (error) {
      this.callbackErrors.push(error);
    }
  }
}
