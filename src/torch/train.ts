/**
 * trainModel(): Keras's Model.fit for the notebook's models, on a worker thread.
 */
import { described, InvalidOptionError } from '../errors.js';
import { chooseBackend } from './distributed.js';
import type { NativeCallback } from './callbacks.js';
import { CsvLoggerRun } from './csv-logger.js';
import { checkImageSizeFor, layersImageSizeError } from './image-size.js';
import { checkDataFormat, checkLabelRange, prepareImages, prepareLabels } from './inputs.js';
import { runJob } from './job.js';
import { Model } from './model.js';
import { native, type NativeDataSpec, type NativeModelSpec, type NativeTrainJob } from './native.js';
import { kerasMomentum, nativeModelSpec, type NativeLayer } from '../models/native-spec.js';
import { selectDevice } from './device.js';
import { resolveOptions, type TrainOptions } from './options.js';
import { progressPrinter } from './progress.js';
import { classWeightTable, sampleWeightArray, validationSplitIndex } from './sample-weights.js';
import { batchNormLagWarning, batchSizeReducedWarning, oneBasedLabelsWarning, WarningSink, type TrainWarning } from './warnings.js';
import type { EpochLog, History, StopReason, TrainControl } from './types.js';

export type { TrainOptions } from './options.js';

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
  const resolved = resolveOptions(options);
  const binding = native();
  const runtime = binding.info();
  // Before any data is read: a CUDA request on a machine without one fails at once.
  const device = selectDevice(resolved.config.device, runtime);
  const sink = new WarningSink(resolved.data.onWarning, resolved.verbose);
  if (typeof options.train !== 'object' || options.train === null) {
    throw new InvalidOptionError('train', '{ x, y } with images and labels', options.train);
  }
  const dataFormat = checkDataFormat(options.dataFormat);
  const trainX = prepareImages(options.train.x, 'train.x', dataFormat);
  const trainY = prepareLabels(options.train.y, trainX.shape[0], 'train.y');
  const given = trainX.shape[0];
  if (given < 2) throw new InvalidOptionError('train.x', 'at least 2 images', described(`${given}`));
  // validationSplit: Keras's last fraction of the rows as given; the addon splits them off.
  const splitAt = resolved.data.validationSplit > 0 ? validationSplitIndex(given, resolved.data.validationSplit) : 0;
  const samples = splitAt > 0 ? splitAt : given;
  const worldSize = resolved.distributed?.worldSize ?? 1;
  // Each rank trains on ceil(samples / worldSize) images (DistributedSampler's shard).
  const perRank = Math.ceil(samples / worldSize);
  if (perRank < 2) throw new InvalidOptionError('train.x', `at least 2 images per rank (${2 * worldSize - 1} or more for ${worldSize} ranks)`, described(`${samples}`));
  // A batch larger than the data shrinks to it (as in Keras and PyTorch), with a warning below.
  const batchSize = Math.min(resolved.config.batchSize, perRank);
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
  if (options.numClasses === undefined && trainY.oneBasedMax !== undefined) sink.emit(oneBasedLabelsWarning('train.y', trainY.oneBasedMax));
  checkLabelRange(trainY, numClasses, 'train.y');
  if (batchSize < resolved.config.batchSize) sink.emit(batchSizeReducedWarning(resolved.config.batchSize, perRank, worldSize));
  const classWeights = classWeightTable(options.classWeight, numClasses);
  const sampleWeights = sampleWeightArray(options.sampleWeight, given);
  // A layers model's shapes are checked layer by layer when it is resolved just below.
  if (resolved.model.kind !== 'layers') checkImageSizeFor({ kind: resolved.model.kind, depth: resolved.model.depth }, trainX.shape[2], trainX.shape[3], 'train.x.shape');

  const resume = options.resume;
  const batchNormMomentum = presetMomentum(resolved, resume);
  const modelSpec = specWithSizeHint(resolved.model, numClasses, trainX.shape, batchNormMomentum);
  const distributed = resolved.distributed ? chooseBackend(resolved.distributed, device, runtime) : undefined;

  if (resume !== undefined) {
    if (!(resume instanceof Model)) throw new InvalidOptionError('resume', 'a Model', resume);
    const c = resume.config;
    if (c.kind !== resolved.model.kind || (c.kind === 'resnet' && c.depth !== resolved.model.depth) || c.numClasses !== numClasses ||
        (c.kind === 'layers' && JSON.stringify(c.layers) !== modelSpec.layersJson) ||
        c.height !== trainX.shape[2] || c.width !== trainX.shape[3] || c.channels !== trainX.shape[1]) {
      throw new InvalidOptionError('resume', `a Model of the same architecture (${resolved.model.kind}, ${numClasses} classes, ${trainX.shape[2]}x${trainX.shape[3]}x${trainX.shape[1]})`,
        `${c.kind}${c.kind === 'resnet' ? ` depth ${c.depth}` : ''}, ${c.numClasses} classes, ${c.height}x${c.width}x${c.channels}`);
    }
    // The model's tensors stay where they are: training goes on on their device.
    if (resume.device !== device) {
      throw new InvalidOptionError('resume', `a Model on the training device (${device}): pass device: '${resume.device}' to continue where it lives`, described(`a Model on ${resume.device}`));
    }
  }

  if (sink.callbackErrors.length > 0) throw sink.callbackErrors[0];
  const printer = resolved.verbose > 0 ? progressPrinter(resolved.verbose as 1 | 2) : undefined;
  // The earlier calls' epochs a resumed model brings, up to where this call starts.
  const before = resume?.metadata.history ? historyUpTo(resume.metadata.history, resolved.config.initialEpoch) : undefined;
  const runOptions = { ...describeOptions(resolved, numClasses, device, distributed), batchSize,
    ...describeDataOptions(resolved, splitAt, batchNormMomentum, classWeights, sampleWeights !== undefined) };
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
    ? resolved.config.callbacks.flatMap((c) => (c.type === 'csvLogger' ? [new CsvLoggerRun(c, validation !== undefined || splitAt > 0, fail)] : []))
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
            config: { ...resolved.config, batchSize, validationSplitAt: splitAt, classWeights, device, ...(distributed ? { distributed } : {}) },
            train: { x: trainX.data, shape: trainX.shape, y: trainY.data, channelsLast: trainX.channelsLast, ...(sampleWeights ? { w: sampleWeights } : {}) },
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
  const lag = batchNormLagOf(outcome.history, batchNormMomentum, modelSpec);
  if (lag) sink.emit(lag);
  if (callbackErrors.length > 0 || sink.callbackErrors.length > 0) {
    outcome.model.dispose();
    throw callbackErrors[0] ?? sink.callbackErrors[0];
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
    warnings: sink.warnings,
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
  const { layers: _layers, layersJson, bnMomentum, ...rest } = spec;
  return layersJson !== undefined ? { ...rest, layers: JSON.parse(layersJson) as unknown } : { ...rest, batchNormMomentum: kerasMomentum(bnMomentum ?? 0.01) };
}

/** The callbacks as the user gave them (a checkpoint path as written, not its parsed parts). */
function describeCallback(c: NativeCallback): Record<string, unknown> {
  if (c.type !== 'modelCheckpoint') return c;
  const { pathParts: _parts, ...rest } = c;
  return rest;
}

function describeOptions(resolved: ReturnType<typeof resolveOptions>, numClasses: number, device: string,
  distributed: { worldSize: number; backend: string } | undefined): Record<string, unknown> {
  const { epochLearningRates, callbacks, validationSplitAt: _split, classWeights: _weights, ...config } = resolved.config;
  return {
    model: resolved.model.kind === 'layers' ? { kind: 'layers' } : resolved.model, numClasses, ...config, callbacks: callbacks.map(describeCallback),
    device, lrSchedule: epochLearningRates.length > 0 ? epochLearningRates : undefined,
    // The training setting (not the rank or the address): the same in every rank's model.
    ...(distributed ? { distributed: { worldSize: distributed.worldSize, backend: distributed.backend } } : {}),
  };
}

/**
 * Checks trainModel's options that do not depend on the data (everything resolveOptions
 * checks, and the device), so that a caller about to load a large data set fails first.
 * @internal
 */
export function checkTrainOptions(options: Omit<TrainOptions, 'train'>): void {
  const resolved = resolveOptions(options as TrainOptions);
  selectDevice(resolved.config.device, native().info());
}

/** The presets' BatchNorm momentum (Keras's terms): the option, a resumed model's own, or 0.99. */
function presetMomentum(resolved: ReturnType<typeof resolveOptions>, resume: unknown): number {
  const given = resolved.data.batchNormMomentum;
  const own = resume instanceof Model && !resume.disposed ? resume.config.batchNormMomentum : undefined;
  if (given !== undefined && own !== undefined && given !== own) {
    throw new InvalidOptionError('batchNormMomentum', `the resumed model's own (${own}), or leave it out`, given);
  }
  return given ?? own ?? 0.99;
}

/** The BatchNorm-lag warning for this run's last epoch, if it applies (warnings.ts). */
function batchNormLagOf(records: EpochLog[], presetMomentum: number, spec: NativeModelSpec): TrainWarning | undefined {
  const last = records[records.length - 1];
  if (!last) return undefined;
  const momentum = spec.kind === 'layers' ? largestLayerMomentum(spec.layers ?? []) : presetMomentum;
  if (momentum === undefined) return undefined;
  return batchNormLagWarning({
    trainAccuracy: last.accuracy, valAccuracy: last.valAccuracy, steps: records.reduce((n, r) => n + r.steps, 0),
    momentum, preset: spec.kind !== 'layers',
  });
}

// The slowest BatchNorm of a layers model (Keras's terms), residual bodies included; undefined without one.
function largestLayerMomentum(layers: readonly NativeLayer[]): number | undefined {
  let largest: number | undefined;
  for (const layer of layers) {
    const inner = [...((layer.layers as NativeLayer[] | undefined) ?? []), ...((layer.shortcut as NativeLayer[] | undefined) ?? [])];
    const candidates = [layer.type === 'batchNormalization' ? kerasMomentum(layer.torchMomentum as number) : undefined, largestLayerMomentum(inner)];
    for (const m of candidates) if (m !== undefined && (largest === undefined || m > largest)) largest = m;
  }
  return largest;
}

function describeDataOptions(resolved: ReturnType<typeof resolveOptions>, splitAt: number, batchNormMomentum: number,
  classWeights: number[], sampleWeighted: boolean): Record<string, unknown> {
  return {
    ...(splitAt > 0 ? { validationSplit: resolved.data.validationSplit } : {}),
    ...(classWeights.length > 0 ? { classWeight: classWeights } : {}),
    ...(sampleWeighted ? { sampleWeight: 'per image' } : {}),
    ...(resolved.model.kind !== 'layers' ? { batchNormMomentum } : {}),
  };
}

/** The native model spec; a layers model refused at a too-small image names the smallest size it takes. */
function specWithSizeHint(model: ReturnType<typeof resolveOptions>['model'], numClasses: number, shape: number[], batchNormMomentum: number): NativeModelSpec {
  const [, channels, height, width] = shape as [number, number, number, number];
  try {
    return nativeModelSpec(model, numClasses, [channels, height, width], batchNormMomentum);
  } catch (error) {
    if (model.kind !== 'layers') throw error;
    throw layersImageSizeError(error, (h, w) => nativeModelSpec(model, numClasses, [channels, h, w]), height, width, 'train.x.shape');
  }
}
