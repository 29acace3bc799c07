/**
 * trainModel(): Keras's Model.fit for the notebook's models, on a worker thread.
 */
import { described, InvalidOptionError } from '../errors.js';
import { chooseBackend } from './distributed.js';
import type { NativeCallback } from './callbacks.js';
import { CsvLoggerRun } from './csv-logger.js';
import { checkImageSizeFor } from './image-size.js';
import { checkDataFormat, checkLabelRange, prepareImages, prepareLabels } from './inputs.js';
import { runJob } from './job.js';
import { Model } from './model.js';
import { native, type NativeDataSpec, type NativeModelSpec, type NativeTrainJob } from './native.js';
import { nativeModelSpec } from '../models/native-spec.js';
import { selectDevice } from './device.js';
import { resolveOptions, type TrainOptions } from './options.js';
import { progressPrinter } from './progress.js';
import type { EpochLog, History, TrainControl } from './types.js';

export type { TrainOptions } from './options.js';

export interface TrainResult {
  model: Model;
  history: History;
  /** The 1-based epoch after which the run stopped early (absent when it ran every epoch); see stopReason. */
  stoppedEpoch?: number;
  /** Why it stopped early: an EarlyStopping, control.stop() or timeLimitMs. */
  stopReason?: 'earlyStopping' | 'stop' | 'timeLimit';
  /** The 1-based epoch with the best monitored value, when EarlyStopping was on. */
  bestEpoch?: number;
  restoredBestWeights: boolean;
  /** Where it trained: 'cpu' or 'cuda:N'. */
  device: string;
  /** Wall time of the whole call. */
  seconds: number;
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
  const resolved = resolveOptions(options);
  if (typeof options.train !== 'object' || options.train === null) {
    throw new InvalidOptionError('train', '{ x, y } with images and labels', options.train);
  }
  const dataFormat = checkDataFormat(options.dataFormat);
  const trainX = prepareImages(options.train.x, 'train.x', dataFormat);
  const trainY = prepareLabels(options.train.y, trainX.shape[0], 'train.y');
  const samples = trainX.shape[0];
  if (samples < 2) throw new InvalidOptionError('train.x', 'at least 2 images', described(`${samples}`));
  const worldSize = resolved.distributed?.worldSize ?? 1;
  // Each rank trains on ceil(samples / worldSize) images (DistributedSampler's shard).
  const perRank = Math.ceil(samples / worldSize);
  if (perRank < 2) throw new InvalidOptionError('train.x', `at least 2 images per rank (${2 * worldSize - 1} or more for ${worldSize} ranks)`, described(`${samples}`));
  if (resolved.config.batchSize > perRank) {
    throw new InvalidOptionError('batchSize', worldSize > 1
      ? `at most the training images per rank (${perRank}: ${samples} images over ${worldSize} ranks; batchSize is per rank)`
      : `at most the number of training images (${samples})`, resolved.config.batchSize);
  }
  let validation: NativeDataSpec | undefined;
  let valImpliedClasses: number | undefined;
  if (options.validation !== undefined) {
    if (typeof options.validation !== 'object' || options.validation === null) {
      throw new InvalidOptionError('validation', '{ x, y } with images and labels', options.validation);
    }
    const valX = prepareImages(options.validation.x, 'validation.x', dataFormat);
    if (valX.shape[1] !== trainX.shape[1] || valX.shape[2] !== trainX.shape[2] || valX.shape[3] !== trainX.shape[3]) {
      throw new InvalidOptionError('validation.x.shape', `images of the training size and channels (${trainX.shape.slice(2).join('x')}, ${trainX.shape[1]} channel(s))`,
        described(`${valX.shape.slice(2).join('x')}, ${valX.shape[1]} channel(s)`));
    }
    const valY = prepareLabels(options.validation.y, valX.shape[0], 'validation.y');
    valImpliedClasses = valY.impliedClasses;
    validation = { x: valX.data, shape: valX.shape, y: valY.data, channelsLast: valX.channelsLast };
    checkLabelRange(valY, options.numClasses ?? trainY.impliedClasses ?? Number.MAX_SAFE_INTEGER, 'validation.y');
  }
  const numClasses = options.numClasses ?? trainY.impliedClasses ?? valImpliedClasses;
  if (numClasses === undefined) {
    throw new InvalidOptionError('numClasses', 'a number of classes (it cannot be inferred from Tensor labels)', undefined);
  }
  checkLabelRange(trainY, numClasses, 'train.y');
  // A layers model's shapes are checked layer by layer when it is resolved just below.
  if (resolved.model.kind !== 'layers') checkImageSizeFor({ kind: resolved.model.kind, depth: resolved.model.depth }, trainX.shape[2], trainX.shape[3], 'train.x.shape');

  const modelSpec = nativeModelSpec(resolved.model, numClasses, [trainX.shape[1]!, trainX.shape[2]!, trainX.shape[3]!]);
  const binding = native();
  const runtime = binding.info();
  const device = selectDevice(resolved.config.device, runtime);
  const distributed = resolved.distributed ? chooseBackend(resolved.distributed, device, runtime) : undefined;

  const resume = options.resume;
  if (resume !== undefined) {
    if (!(resume instanceof Model)) throw new InvalidOptionError('resume', 'a Model', resume);
    const c = resume.config;
    if (c.kind !== resolved.model.kind || (c.kind === 'resnet' && c.depth !== resolved.model.depth) || c.numClasses !== numClasses ||
        (c.kind === 'layers' && JSON.stringify(c.layers) !== modelSpec.layersJson) ||
        c.height !== trainX.shape[2] || c.width !== trainX.shape[3] || c.channels !== trainX.shape[1]) {
      throw new InvalidOptionError('resume', `a Model of the same architecture (${resolved.model.kind}, ${numClasses} classes, ${trainX.shape[2]}x${trainX.shape[3]}x${trainX.shape[1]})`,
        `${c.kind}${c.kind === 'resnet' ? ` depth ${c.depth}` : ''}, ${c.numClasses} classes, ${c.height}x${c.width}x${c.channels}`);
    }
  }

  const printer = resolved.verbose > 0 ? progressPrinter(resolved.verbose as 1 | 2) : undefined;
  // The earlier calls' epochs a resumed model brings, up to where this call starts.
  const before = resume?.metadata.history ? historyUpTo(resume.metadata.history, resolved.config.initialEpoch) : undefined;
  const runOptions = describeOptions(resolved, numClasses, device, distributed);
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
    ? resolved.config.callbacks.flatMap((c) => (c.type === 'csvLogger' ? [new CsvLoggerRun(c, validation !== undefined, fail)] : []))
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
        job = binding.train(
          {
            model: modelSpec,
            config: { ...resolved.config, device, ...(distributed ? { distributed } : {}) },
            train: { x: trainX.data, shape: trainX.shape, y: trainY.data, channelsLast: trainX.channelsLast },
            ...(validation ? { validation } : {}),
            ...(resume ? { resume: resume.handle } : {}),
            awaitCallbacks: { epoch: options.onEpochEnd !== undefined, batch: options.onBatchEnd !== undefined },
            ...(checkpoints ? {
              checkpointMetadata: {
                configJson: JSON.stringify(resume ? resume.config : configOf(modelSpec)),
                optionsJson: JSON.stringify(runOptions),
                ...(before ? { historyBefore: before } : {}),
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
  if (callbackErrors.length > 0) {
    outcome.model.dispose();
    throw callbackErrors[0];
  }
  const stoppedEpoch = outcome.stoppedEpoch >= 0 ? outcome.stoppedEpoch + 1 : undefined;
  const stopReason = outcome.stopReason || undefined;
  if (stoppedEpoch !== undefined && stopReason === 'earlyStopping') printer?.onEarlyStop(stoppedEpoch);
  const own = historyFrom(outcome.history);
  const history = before ? concatHistory(before, own) : own;
  let model: Model;
  if (resume) {
    // Same native model, trained further: keep the caller's handle, extend its metadata.
    outcome.model.dispose();
    model = resume;
  } else {
    model = Model.fromNative(outcome.model);
  }
  model.metadata = {
    ...model.metadata,
    history,
    options: runOptions,
  };
  return {
    model,
    history,
    ...(stoppedEpoch !== undefined ? { stoppedEpoch, stopReason } : {}),
    ...(outcome.bestEpoch >= 0 ? { bestEpoch: outcome.bestEpoch + 1 } : {}),
    restoredBestWeights: outcome.restoredBestWeights,
    device: outcome.device,
    seconds: (performance.now() - started) / 1000,
    ...(distributed ? { distributed: { rank: distributed.rank, worldSize: distributed.worldSize, backend: distributed.backend } } : {}),
  };
}

function concatHistory(a: History, b: History): History {
  const out = {} as History;
  for (const key of Object.keys(b) as (keyof History)[]) out[key] = [...(a[key] ?? []), ...b[key]];
  return out;
}

/** The epochs of a resumed model's history up to (and with) `epoch`, every column alike. */
function historyUpTo(history: History, epoch: number): History {
  const keep = history.epoch.map((e) => e <= epoch);
  const out = {} as History;
  for (const key of Object.keys(history) as (keyof History)[]) out[key] = history[key].filter((_v, i) => keep[i]);
  return out;
}

/** What Model.config reports for the model this call builds (checkpoints store it). */
function configOf(spec: NativeModelSpec): Record<string, unknown> {
  const { layers: _layers, layersJson, ...rest } = spec;
  return layersJson !== undefined ? { ...rest, layers: JSON.parse(layersJson) as unknown } : rest;
}

/** The callbacks as the user gave them (a checkpoint path as written, not its parsed parts). */
function describeCallback(c: NativeCallback): Record<string, unknown> {
  if (c.type !== 'modelCheckpoint') return c;
  const { pathParts: _parts, ...rest } = c;
  return rest;
}

function describeOptions(resolved: ReturnType<typeof resolveOptions>, numClasses: number, device: string,
  distributed: { worldSize: number; backend: string } | undefined): Record<string, unknown> {
  const { epochLearningRates, callbacks, ...config } = resolved.config;
  return {
    model: resolved.model.kind === 'layers' ? { kind: 'layers' } : resolved.model, numClasses, ...config, callbacks: callbacks.map(describeCallback),
    device, lrSchedule: epochLearningRates.length > 0 ? epochLearningRates : undefined,
    // The training setting (not the rank or the address): the same in every rank's model.
    ...(distributed ? { distributed: { worldSize: distributed.worldSize, backend: distributed.backend } } : {}),
  };
}
