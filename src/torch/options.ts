/**
 * trainModel()'s options: the one place with defaults and validation. Defaults
 * are the notebook's: batch 128, 25 epochs; the CNN with SGD(0.01) and
 * EarlyStopping(val_loss, patience 10); the ResNet with Adam(1e-3). A model of the
 * layers API ({ layers: [...] }, see src/models) trains with Adam(1e-3), no EarlyStopping.
 */
import { availableParallelism } from 'node:os';

import { described, describeValue, InvalidOptionError } from '../errors.js';
import { resolveAugment, type AugmentOptions } from './augment.js';
import { resolveCallbacks, type Callback, type EarlyStoppingOptions } from './callbacks.js';
import { TRAIN_DEFAULTS } from './defaults.js';
import { parseDevice, type Device } from './device.js';
import { resolveDistributed, type DistributedOptions, type ResolvedDistributed } from './distributed.js';
import type { DataFormat, ImagesInput, LabelsInput } from './inputs.js';
import { resolveModelChoice, type ModelChoiceResolved } from '../models/describe.js';
import type { ModelSpec } from '../models/layers.js';
import type { KernelChoice, NativeTrainConfig } from './native.js';
import type { BatchLog, EpochLog, TrainControl } from './types.js';
import type { Model } from './model.js';
import { resolveDataOptions, type ResolvedDataOptions } from './data-options.js';
import type { ClassWeight, SampleWeights } from './sample-weights.js';
import type { TrainWarning } from './warnings.js';

/** 'cnn', 'resnet', { kind: 'resnet', depth } or your own { layers: [...] } (see the layers API). */
export type ModelChoice = ModelSpec;

export type OptimizerName = 'sgd' | 'adam';
export interface OptimizerOptions {
  name: OptimizerName;
  learningRate?: number;
  /** SGD only (Keras semantics). Default 0. */
  momentum?: number;
  nesterov?: boolean;
  /** Adam only. Defaults 0.9, 0.999, 1e-7 (Keras). */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export type { EarlyStoppingOptions } from './callbacks.js';

/** (epoch 0-based, base learning rate) -> learning rate, or the notebook's lr_schedule. */
export type LearningRateSchedule = 'notebook' | ((epoch: number, learningRate: number) => number);

export interface TrainOptions {
  model: ModelSpec;
  train: { x: ImagesInput; y: LabelsInput };
  validation?: { x: ImagesInput; y: LabelsInput };
  /** Layout of 4-D images (train and validation); default: read from the shape (see resolveLayout). */
  dataFormat?: DataFormat;
  /** Random transforms of the training batches (never of validation data); see AugmentOptions. */
  augment?: AugmentOptions;
  /** Default: the one-hot width of train.y, else its largest label + 1. */
  numClasses?: number;
  epochs?: number;
  batchSize?: number;
  /** Batch size for validation, evaluation and prediction (results do not depend on it). Default 1024. */
  evalBatchSize?: number;
  optimizer?: OptimizerName | OptimizerOptions;
  lrSchedule?: LearningRateSchedule;
  /**
   * true: Keras's defaults with the notebook's patience 10; false: none. Default: on for the CNN when
   * validation data is given (and callbacks holds no earlyStopping()). It runs after the callbacks list.
   */
  earlyStopping?: boolean | EarlyStoppingOptions;
  /** Keras's callbacks as data, run at each epoch end in this order: earlyStopping(), modelCheckpoint(), reduceLROnPlateau(), csvLogger(). */
  callbacks?: Callback[];
  /**
   * Keras's initial_epoch: train epochs initialEpoch+1 .. epochs (1-based), epochs then being the last
   * epoch's number. With `resume`, the shuffles and lrSchedule continue as one uninterrupted run would.
   * Default: the resumed model's last epoch (and `epochs` counts the epochs to add), else 0.
   */
  initialEpoch?: number;
  /** Stop after the batch that passes this many milliseconds of training, keeping the model (as control.stop()). */
  timeLimitMs?: number;
  seed?: number;
  shuffle?: boolean;
  device?: Device;
  /** Intra-op CPU threads. Default: the machine's cores. */
  threads?: number;
  /**
   * 'fused' (default): on CPU, torchfit's own kernels for the CNN's first block and the 1-channel 3x3
   * convolutions (same maths as libtorch's ops, to float32 rounding, fewer passes over memory);
   * 'plain': libtorch's ops only. CUDA always runs libtorch's ops. The choice stays with the model.
   */
  kernels?: KernelChoice;
  signal?: AbortSignal;
  /** After each epoch (and its callbacks); control.stop() ends the run here, keeping the model. */
  onEpochEnd?: (log: EpochLog, control: TrainControl) => void;
  /** Every batchProgressIntervalMs; control.stop() ends the epoch at this batch (it gets its log) and the run. */
  onBatchEnd?: (log: BatchLog, control: TrainControl) => void;
  /** Minimum milliseconds between onBatchEnd calls. Default 100. */
  batchProgressIntervalMs?: number;
  /** 0 silent (default), 1 a progress bar on a TTY (epoch lines otherwise), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Continue training this model (its weights and optimizer state) instead of a new one. */
  resume?: Model;
  /**
   * Data-parallel training with other processes over c10d (see DistributedOptions); 'env'
   * (or true) reads RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT as torchrun sets them.
   * batchSize is then per rank: the global batch is batchSize * worldSize.
   */
  distributed?: DistributedOptions | 'env' | true;
  /**
   * Keras's validation_split: this last fraction of train (taken before any shuffling) becomes the
   * validation data; 0 < validationSplit < 1, not together with `validation`.
   */
  validationSplit?: number;
  /** Loss weight per class index (training only), multiplied with sampleWeight; see docs/training-data.md. */
  classWeight?: ClassWeight;
  /** Loss weight per training image (before validationSplit: the split-off part weights val_loss, as in Keras). */
  sampleWeight?: SampleWeights;
  /** 'cnn' and ResNet: every BatchNorm's momentum, Keras's terms. Default 0.99 (a resumed model: its own). */
  batchNormMomentum?: number;
  /** Called with each warning (1-based labels, a reduced batch, BatchNorm lag); verbose also prints them to stderr. */
  onWarning?: (warning: TrainWarning) => void;
}

export interface ResolvedOptions {
  /** Layers models are resolved in trainModel, once the input shape and classes are known. */
  model: ModelChoiceResolved;
  config: Omit<NativeTrainConfig, 'device' | 'distributed'> & { device: Device };
  /** Chosen backend still 'auto' here: it depends on the device. */
  distributed?: ResolvedDistributed;
  verbose: 0 | 1 | 2;
  data: ResolvedDataOptions;
}

const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isPositive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

const KNOWN_OPTIONS = new Set([
  'model', 'train', 'validation', 'numClasses', 'epochs', 'batchSize', 'evalBatchSize', 'optimizer', 'lrSchedule',
  'earlyStopping', 'seed', 'shuffle', 'device', 'threads', 'signal', 'onEpochEnd', 'onBatchEnd',
  'batchProgressIntervalMs', 'verbose', 'resume', 'distributed', 'kernels',
  'dataFormat', 'augment',
  'callbacks', 'initialEpoch', 'timeLimitMs',
  'validationSplit', 'classWeight', 'sampleWeight', 'batchNormMomentum', 'onWarning',
]);

/** Resolves the model choice; ResNet depth must be 6n+2. */
export function resolveModel(choice: unknown): ModelChoiceResolved {
  return resolveModelChoice(choice);
}

function resolveOptimizer(value: unknown, kind: ModelChoiceResolved['kind']): NativeTrainConfig['optimizer'] {
  const given: Partial<OptimizerOptions> =
    value === undefined ? { name: kind === 'cnn' ? TRAIN_DEFAULTS.optimizer.cnn : TRAIN_DEFAULTS.optimizer.other } : typeof value === 'string' ? { name: value as OptimizerName } : (value as OptimizerOptions);
  if (typeof given !== 'object' || given === null || (given.name !== 'sgd' && given.name !== 'adam')) {
    throw new InvalidOptionError('optimizer', "'sgd', 'adam' or { name: 'sgd' | 'adam', learningRate?, ... }", value);
  }
  const out = {
    name: given.name,
    learningRate: given.learningRate ?? TRAIN_DEFAULTS.learningRate[given.name],
    momentum: given.momentum ?? 0,
    nesterov: given.nesterov ?? false,
    beta1: given.beta1 ?? 0.9,
    beta2: given.beta2 ?? 0.999,
    epsilon: given.epsilon ?? 1e-7,
  };
  if (!isPositive(out.learningRate)) throw new InvalidOptionError('optimizer.learningRate', 'a positive number', out.learningRate);
  if (typeof out.momentum !== 'number' || !(out.momentum >= 0 && out.momentum < 1)) {
    throw new InvalidOptionError('optimizer.momentum', 'a number in [0, 1)', out.momentum);
  }
  if (typeof out.nesterov !== 'boolean') throw new InvalidOptionError('optimizer.nesterov', 'a boolean', out.nesterov);
  for (const key of ['beta1', 'beta2'] as const) {
    if (typeof out[key] !== 'number' || !(out[key] >= 0 && out[key] < 1)) {
      throw new InvalidOptionError(`optimizer.${key}`, 'a number in [0, 1)', out[key]);
    }
  }
  if (!isPositive(out.epsilon)) throw new InvalidOptionError('optimizer.epsilon', 'a positive number', out.epsilon);
  return out;
}

/**
 * Keras's epochs and initial_epoch. Without initialEpoch a resumed model goes on from its last
 * epoch and `epochs` counts the epochs to add (its meaning before initialEpoch existed).
 */
function resolveEpochs(options: TrainOptions): { initialEpoch: number; epochs: number } {
  const given = options.epochs ?? TRAIN_DEFAULTS.epochs;
  if (options.initialEpoch !== undefined) {
    const initialEpoch = options.initialEpoch;
    if (!isInt(initialEpoch, 0, 999_999)) throw new InvalidOptionError('initialEpoch', 'an integer >= 0', initialEpoch);
    if (!isInt(given, initialEpoch + 1, 1_000_000)) {
      throw new InvalidOptionError('epochs', `an integer > initialEpoch (${initialEpoch}): with initialEpoch, epochs is the last epoch's number, as in Keras`, given);
    }
    return { initialEpoch, epochs: given };
  }
  if (!isInt(given, 1, 1_000_000)) throw new InvalidOptionError('epochs', 'an integer >= 1', given);
  const done = (options.resume as { metadata?: { history?: { epoch?: unknown } } } | undefined)?.metadata?.history?.epoch;
  const last = Array.isArray(done) ? done.at(-1) : undefined;
  const initialEpoch = isInt(last, 0, 999_999) ? last : 0;
  return { initialEpoch, epochs: initialEpoch + given };
}

function resolveTimeLimit(value: unknown): number {
  if (value === undefined) return 0;
  if (!isPositive(value)) throw new InvalidOptionError('timeLimitMs', 'a positive number of milliseconds', value);
  return value;
}

/** The notebook's lr_schedule (defined there, never attached): 1e-3 scaled down after epochs 80, 120, 160, 180. */
export function notebookLearningRate(epoch: number): number {
  let lr = 1e-3;
  if (epoch > 180) lr *= 0.5e-3;
  else if (epoch > 160) lr *= 1e-3;
  else if (epoch > 120) lr *= 1e-2;
  else if (epoch > 80) lr *= 1e-1;
  return lr;
}

function scheduleRates(schedule: unknown, epochs: number, base: number): number[] {
  if (schedule === undefined) return [];
  const fn = schedule === 'notebook' ? (epoch: number) => notebookLearningRate(epoch) : schedule;
  if (typeof fn !== 'function') throw new InvalidOptionError('lrSchedule', "'notebook' or a function (epoch, learningRate) => number", schedule);
  const rates: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const lr = (fn as (e: number, lr: number) => unknown)(epoch, base);
    if (!isPositive(lr)) throw new InvalidOptionError('lrSchedule', `a positive learning rate for epoch ${epoch}`, lr);
    rates.push(lr);
  }
  return rates;
}

/** Validates every scalar option and fills the defaults (data is checked in inputs.ts). */
export function resolveOptions(options: TrainOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new InvalidOptionError(key, `one of the known options (${[...KNOWN_OPTIONS].join(', ')})`, described(`unknown option '${key}'`));
  }
  const model = resolveModel(options.model);
  const { initialEpoch, epochs } = resolveEpochs(options);
  const batchSize = options.batchSize ?? TRAIN_DEFAULTS.batchSize;
  if (!isInt(batchSize, 1, 1 << 24)) throw new InvalidOptionError('batchSize', 'an integer >= 1', batchSize);
  const evalBatchSize = options.evalBatchSize ?? TRAIN_DEFAULTS.evalBatchSize;
  if (!isInt(evalBatchSize, 1, 1 << 24)) throw new InvalidOptionError('evalBatchSize', 'an integer >= 1', evalBatchSize);
  const optimizer = resolveOptimizer(options.optimizer, model.kind);
  const data = resolveDataOptions(options, model.kind);
  const hasValidation = options.validation !== undefined || data.validationSplit > 0;
  const callbacks = resolveCallbacks(options.callbacks, options.earlyStopping, model.kind, hasValidation);
  const seed = options.seed ?? TRAIN_DEFAULTS.seed;
  if (!isInt(seed, 0, 2 ** 53 - 1)) throw new InvalidOptionError('seed', 'an integer >= 0', seed);
  const shuffle = options.shuffle ?? TRAIN_DEFAULTS.shuffle;
  if (typeof shuffle !== 'boolean') throw new InvalidOptionError('shuffle', 'a boolean', shuffle);
  const device = parseDevice(options.device ?? TRAIN_DEFAULTS.device);
  const threads = options.threads ?? availableParallelism();
  if (!isInt(threads, 1, 4096)) throw new InvalidOptionError('threads', 'an integer >= 1', threads);
  const kernels = options.kernels ?? TRAIN_DEFAULTS.kernels;
  if (kernels !== 'fused' && kernels !== 'plain') throw new InvalidOptionError('kernels', "'fused' or 'plain'", kernels);
  const batchProgressIntervalMs = options.batchProgressIntervalMs ?? TRAIN_DEFAULTS.batchProgressIntervalMs;
  if (typeof batchProgressIntervalMs !== 'number' || !(batchProgressIntervalMs >= 0)) {
    throw new InvalidOptionError('batchProgressIntervalMs', 'a number >= 0', batchProgressIntervalMs);
  }
  const verbose = options.verbose ?? TRAIN_DEFAULTS.verbose;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw new InvalidOptionError('verbose', '0, 1 or 2', verbose);
  for (const key of ['onEpochEnd', 'onBatchEnd'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') throw new InvalidOptionError(key, 'a function', options[key]);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new InvalidOptionError('signal', 'an AbortSignal', options.signal);
  }
  if (options.numClasses !== undefined && !isInt(options.numClasses, 2, 100_000)) {
    throw new InvalidOptionError('numClasses', 'an integer >= 2', options.numClasses);
  }
  const distributed = resolveDistributed(options.distributed);
  return {
    model,
    config: {
      epochs,
      batchSize,
      evalBatchSize,
      optimizer,
      epochLearningRates: scheduleRates(options.lrSchedule, epochs, optimizer.learningRate),
      seed,
      shuffle,
      device,
      threads,
      kernels,
      batchProgressIntervalMs,
      augment: resolveAugment(options.augment),
      initialEpoch,
      callbacks,
      timeLimitMs: resolveTimeLimit(options.timeLimitMs),
      // Filled in trainModel once the data is known (sample-weights.ts).
      validationSplitAt: 0,
      classWeights: [],
    },
    ...(distributed ? { distributed } : {}),
    verbose,
    data,
  };
}

/** 'auto' picks the first CUDA device when libtorch has CUDA and a GPU is visible. */
export { describeValue };
