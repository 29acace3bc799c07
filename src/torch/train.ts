/**
 * trainModel(): Keras's Model.fit for the notebook's models, on a worker thread.
 * Plan (train-plan.ts checks every option and builds the native spec), run the job with
 * the callbacks, then shape the result.
 */
import { CsvLoggerRun } from './csv-logger.js';
import { runJob } from './job.js';
import { Model } from './model.js';
import { native, type NativeTrainJob } from './native.js';
import type { TrainOptions } from './options.js';
import { progressPrinter } from './progress.js';
import { planTraining } from './train-plan.js';
import { batchNormLagWarning, WarningSink, type TrainWarning } from './warnings.js';
import type { EpochLog, History, StopReason, TrainControl } from './types.js';

export type { TrainOptions } from './options.js';
/** @internal */
export { checkTrainOptions } from './train-plan.js';

export interface TrainResult {
  model: Model;
  history: History;
  /** The 1-based epoch after which the run stopped early (absent when it ran every epoch); see stopReason. */
  stoppedEpoch?: number;
  /** Why it stopped early: an EarlyStopping, control.stop() or timeLimitMs. */
  stopReason?: StopReason;
  /** The 1-based epoch with the best monitored value, when EarlyStopping was on. */
  bestEpoch?: number;
  restoredBestWeights: boolean;
  /** Where it trained: 'cpu' or 'cuda:N'. */
  device: string;
  /** Wall time of the whole call. */
  seconds: number;
  /** The warnings of the run, in order (also given to onWarning and, with verbose, printed to stderr). */
  warnings: TrainWarning[];
  /**
   * Present when it trained with other ranks: every rank gets the same history and weights,
   * so saving and reporting are usually left to rank 0.
   */
  distributed?: { rank: number; worldSize: number; backend: 'gloo' | 'nccl' };
}

/** Collects per-epoch records into Keras's History shape. */
export function historyFrom(records: EpochLog[]): History {
  return {
    epoch: records.map((r) => r.epoch),
    loss: records.map((r) => r.loss),
    accuracy: records.map((r) => r.accuracy),
    valLoss: records.map((r) => r.valLoss),
    valAccuracy: records.map((r) => r.valAccuracy),
    seconds: records.map((r) => r.seconds),
    msPerStep: records.map((r) => r.msPerStep),
    learningRate: records.map((r) => r.learningRate),
  };
}

/**
 * Trains the notebook's CNN or a ResNet v1 on a worker thread; the event loop
 * keeps running. Defaults follow the notebook (batch 128, 25 epochs, SGD 0.01
 * with EarlyStopping for the CNN, Adam 1e-3 for the ResNet).
 *
 * @example
 * const { model, history } = await trainModel({
 *   model: 'cnn',
 *   train: { x: xTrain, y: yTrain },          // (N, 28, 28) float32, labels 0..4 or one-hot
 *   validation: { x: xVal, y: yVal },
 *   epochs: 25,
 *   verbose: 1,
 * });
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  const plan = planTraining(options);
  const { resolved, spec } = plan;
  const sink = new WarningSink(resolved.data.onWarning, resolved.verbose);
  for (const warning of plan.warnings) sink.emit(warning);
  if (sink.callbackErrors.length > 0) throw sink.callbackErrors[0];
  const printer = resolved.verbose > 0 ? progressPrinter(resolved.verbose as 1 | 2) : undefined;
  const distributed = spec.config.distributed;
  // Only rank 0 writes files: the other ranks hold the same figures.
  const writesFiles = !distributed || distributed.rank === 0;
  let job: NativeTrainJob | undefined;
  const control: TrainControl = { stop: () => job?.stop() };
  const callbackErrors: unknown[] = [];
  // A callback that throws, or a log that cannot be written, aborts the run: it rejects with that error.
  const fail = (error: unknown) => {
    callbackErrors.push(error);
    job?.cancel();
  };
  const csvLoggers = writesFiles
    ? resolved.config.callbacks.flatMap((c) => (c.type === 'csvLogger' ? [new CsvLoggerRun(c, plan.hasValidation, fail)] : []))
    : [];
  for (const logger of csvLoggers) await logger.begin();
  const safely = <T>(fn: ((log: T, control: TrainControl) => void) | undefined, log: T) => {
    if (!fn) return;
    try {
      fn(log, control);
    } catch (error) {
      fail(error);
    }
  };
  const checkpoints = resolved.config.callbacks.some((c) => c.type === 'modelCheckpoint');

  let outcome;
  try {
    outcome = await runJob(
      () => {
        job = native().train(
          {
            ...spec,
            awaitCallbacks: { epoch: options.onEpochEnd !== undefined, batch: options.onBatchEnd !== undefined },
            ...(checkpoints ? {
              checkpointMetadata: {
                configJson: JSON.stringify(plan.modelConfig),
                optionsJson: JSON.stringify(plan.runOptions),
                ...(plan.historyBefore ? { historyBefore: plan.historyBefore } : {}),
              },
            } : {}),
          },
          (log) => {
            printer?.onEpoch(log);
            for (const logger of csvLoggers) logger.onEpoch(log);
            safely(options.onEpochEnd, log);
          },
          (log) => {
            printer?.onBatch(log);
            safely(options.onBatchEnd, log);
          },
        );
        return job;
      },
      options.signal,
    );
    for (const logger of csvLoggers) await logger.finish();
  } catch (error) {
    await Promise.allSettled(csvLoggers.map((logger) => logger.finish()));
    throw callbackErrors.length > 0 ? callbackErrors[0] : error;
  }
  const lag = batchNormLagOf(outcome.history, plan.batchNormMomentum, spec.model.kind !== 'layers');
  if (lag) sink.emit(lag);
  if (callbackErrors.length > 0 || sink.callbackErrors.length > 0) {
    outcome.model.dispose();
    throw callbackErrors[0] ?? sink.callbackErrors[0];
  }
  const stoppedEpoch = outcome.stoppedEpoch >= 0 ? outcome.stoppedEpoch + 1 : undefined;
  const stopReason = outcome.stopReason || undefined;
  if (stoppedEpoch !== undefined && stopReason === 'earlyStopping') printer?.onEarlyStop(stoppedEpoch);
  const own = historyFrom(outcome.history);
  const history = plan.historyBefore ? concatHistory(plan.historyBefore, own) : own;
  let model: Model;
  if (plan.resume) {
    // Same native model, trained further: keep the caller's handle, extend its metadata.
    outcome.model.dispose();
    model = plan.resume;
  } else {
    model = Model.fromNative(outcome.model);
  }
  model.metadata = {
    ...model.metadata,
    history,
    options: plan.runOptions,
  };
  return {
    model,
    history,
    ...(stoppedEpoch !== undefined ? { stoppedEpoch, stopReason } : {}),
    ...(outcome.bestEpoch >= 0 ? { bestEpoch: outcome.bestEpoch + 1 } : {}),
    restoredBestWeights: outcome.restoredBestWeights,
    device: outcome.device,
    seconds: (performance.now() - started) / 1000,
    warnings: sink.warnings,
    ...(distributed ? { distributed: { rank: distributed.rank, worldSize: distributed.worldSize, backend: distributed.backend } } : {}),
  };
}

function concatHistory(a: History, b: History): History {
  const out = {} as History;
  for (const key of Object.keys(b) as (keyof History)[]) out[key] = [...(a[key] ?? []), ...b[key]];
  return out;
}

/** The BatchNorm-lag warning for this run's last epoch, if it applies (warnings.ts). */
function batchNormLagOf(records: EpochLog[], momentum: number | undefined, preset: boolean): TrainWarning | undefined {
  const last = records[records.length - 1];
  if (!last || momentum === undefined) return undefined;
  return batchNormLagWarning({
    trainAccuracy: last.accuracy, valAccuracy: last.valAccuracy, steps: records.reduce((n, r) => n + r.steps, 0),
    momentum, preset,
  });
}
