/**
 * trainModel(): Keras's Model.fit for the notebook's models, on a worker thread.
 */
import { described, InvalidOptionError } from '../errors.js';
import { chooseBackend } from './distributed.js';
import { checkImageSizeFor, layersImageSizeError } from './image-size.js';
import { checkDataFormat, checkLabelRange, prepareImages, prepareLabels } from './inputs.js';
import { runJob } from './job.js';
import { Model } from './model.js';
import { native, type NativeDataSpec, type NativeModelSpec } from './native.js';
import { kerasMomentum, nativeModelSpec, type NativeLayer } from '../models/native-spec.js';
import { resolveDevice, resolveOptions, type TrainOptions } from './options.js';
import { progressPrinter } from './progress.js';
import { classWeightTable, sampleWeightArray, validationSplitIndex } from './sample-weights.js';
import { batchNormLagWarning, batchSizeReducedWarning, oneBasedLabelsWarning, WarningSink, type TrainWarning } from './warnings.js';
import type { EpochLog, History } from './types.js';

export type { TrainOptions } from './options.js';

export interface TrainResult {
  model: Model;
  history: History;
  /** The 1-based epoch after which EarlyStopping stopped the run (absent when it ran every epoch). */
  stoppedEpoch?: number;
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
  const device = checkedDevice(resolved.config.device, runtime);
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
  }

  if (sink.callbackErrors.length > 0) throw sink.callbackErrors[0];
  const printer = resolved.verbose > 0 ? progressPrinter(resolved.verbose as 1 | 2) : undefined;
  const records: EpochLog[] = [];
  const callbackErrors: unknown[] = [];
  const safely = <T>(fn: ((log: T) => void) | undefined, log: T) => {
    if (!fn) return;
    try {
      fn(log);
    } catch (error) {
      callbackErrors.push(error);
    }
  };
  const previous = resume?.metadata.history;
  const epochOffset = previous ? previous.epoch.length : 0;

  const outcome = await runJob(
    () =>
      binding.train(
        {
          model: modelSpec,
          config: { ...resolved.config, batchSize, validationSplitAt: splitAt, classWeights, device, ...(distributed ? { distributed } : {}) },
          train: { x: trainX.data, shape: trainX.shape, y: trainY.data, channelsLast: trainX.channelsLast, ...(sampleWeights ? { w: sampleWeights } : {}) },
          ...(validation ? { validation } : {}),
          ...(resume ? { resume: resume.handle } : {}),
        },
        (log) => {
          const shifted = { ...log, epoch: log.epoch + epochOffset, epochs: log.epochs + epochOffset };
          records.push(shifted);
          printer?.onEpoch(shifted);
          safely(options.onEpochEnd, shifted);
        },
        (log) => {
          const shifted = { ...log, epoch: log.epoch + epochOffset };
          printer?.onBatch(shifted);
          safely(options.onBatchEnd, shifted);
        },
      ),
    options.signal,
  );
  const lag = batchNormLagOf(records, batchNormMomentum, modelSpec);
  if (lag) sink.emit(lag);
  if (callbackErrors.length > 0 || sink.callbackErrors.length > 0) {
    outcome.model.dispose();
    throw callbackErrors[0] ?? sink.callbackErrors[0];
  }
  const stoppedEpoch = outcome.stoppedEpoch >= 0 ? outcome.stoppedEpoch + 1 + epochOffset : undefined;
  if (stoppedEpoch !== undefined) printer?.onEarlyStop(stoppedEpoch);
  const own = historyFrom(outcome.history.map((r) => ({ ...r, epoch: r.epoch + epochOffset, epochs: r.epochs + epochOffset })));
  const history = previous ? concatHistory(previous, own) : own;
  let model: Model;
  if (resume) {
    // Same native model, trained further: keep the caller's handle, extend its metadata.
    outcome.model.dispose();
    model = resume;
  } else {
    model = new Model(outcome.model);
  }
  model.metadata = {
    ...model.metadata,
    history,
    options: { ...describeOptions(resolved, numClasses, device, distributed), batchSize, ...describeDataOptions(resolved, splitAt, batchNormMomentum, classWeights, sampleWeights !== undefined) },
  };
  return {
    model,
    history,
    ...(stoppedEpoch !== undefined ? { stoppedEpoch } : {}),
    ...(outcome.bestEpoch >= 0 ? { bestEpoch: outcome.bestEpoch + 1 + epochOffset } : {}),
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

function describeOptions(resolved: ReturnType<typeof resolveOptions>, numClasses: number, device: string,
  distributed: { worldSize: number; backend: string } | undefined): Record<string, unknown> {
  const { epochLearningRates, validationSplitAt: _split, classWeights: _weights, ...config } = resolved.config;
  return {
    model: resolved.model.kind === 'layers' ? { kind: 'layers' } : resolved.model, numClasses, ...config, device, lrSchedule: epochLearningRates.length > 0 ? epochLearningRates : undefined,
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
  checkedDevice(resolved.config.device, native().info());
}

/** The device to train on, refused before any data is read when this machine cannot provide it. */
function checkedDevice(wanted: string, runtime: { cudaAvailable: boolean; cudaCompiled: boolean }): string {
  const device = resolveDevice(wanted, runtime.cudaAvailable);
  if (device.startsWith('cuda') && !runtime.cudaAvailable) {
    throw new InvalidOptionError('device', runtime.cudaCompiled ? "'cpu' (no CUDA GPU is visible)" : "'cpu' or 'auto' (this libtorch was built without CUDA)", device);
  }
  return device;
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
