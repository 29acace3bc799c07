/**
 * trainModel's options in one pass: every check and default, the data's included, turning
 * TrainOptions into the complete native spec. Nothing here trains; train.ts runs the plan.
 * The helpers it calls (options.ts, inputs.ts, device.ts, distributed.ts, sample-weights.ts)
 * only look downward.
 */
import { described, InvalidOptionError } from '../errors.js';
import { kerasMomentum, nativeModelSpec, type NativeLayer } from '../models/native-spec.js';
import { selectDevice } from './device.js';
import { chooseBackend } from './distributed.js';
import { checkImageSizeFor, layersImageSizeError } from './image-size.js';
import { checkDataFormat, checkLabelRange, prepareImages, prepareLabels } from './inputs.js';
import { Model } from './model.js';
import { native, type NativeDataSpec, type NativeDistributedConfig, type NativeModelSpec, type NativeTrainSpec } from './native.js';
import { TRAIN_DEFAULTS } from './defaults.js';
import { resolveOptions, type ResolvedOptions, type TrainOptions } from './options.js';
import { classWeightTable, sampleWeightArray, validationSplitIndex } from './sample-weights.js';
import type { NativeCallback } from './callbacks.js';
import type { History } from './types.js';
import { batchSizeReducedWarning, oneBasedLabelsWarning, type TrainWarning } from './warnings.js';

/** Everything trainModel needs to run: the native spec and what the result and files record. */
export interface TrainPlan {
  resolved: ResolvedOptions;
  /** The spec for the addon, without the parts that depend on this call's callbacks. */
  spec: Omit<NativeTrainSpec, 'awaitCallbacks' | 'checkpointMetadata'>;
  /** Validation data given or split off: the epoch logs carry val_ figures. */
  hasValidation: boolean;
  /** The options as the model's metadata and the report record them. */
  runOptions: Record<string, unknown>;
  /** What Model.config reports for the model this call trains (checkpoint files store it). */
  modelConfig: object;
  /** The model `resume` names, checked: trained further in place. */
  resume?: Model;
  /** A resumed model's earlier epochs up to where this call starts. */
  historyBefore?: History;
  /** The presets' BatchNorm momentum in Keras's terms, or a layers model's slowest one; undefined without BatchNorm. */
  batchNormMomentum?: number;
  /** Warnings found while planning (1-based labels, a reduced batch), in order. */
  warnings: TrainWarning[];
}

/** Checks every option against the data and builds the native spec; throws InvalidOptionError. */
export function planTraining(options: TrainOptions): TrainPlan {
  const resolved = resolveOptions(options);
  const runtime = native().info();
  // Before any data is read: a CUDA request on a machine without one fails at once.
  const device = selectDevice(resolved.config.device, runtime);
  const warnings: TrainWarning[] = [];
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
  // A batch larger than the data shrinks to it (as in Keras and PyTorch), with a warning.
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
  if (options.numClasses === undefined && trainY.oneBasedMax !== undefined) warnings.push(oneBasedLabelsWarning('train.y', trainY.oneBasedMax));
  checkLabelRange(trainY, numClasses, 'train.y');
  if (batchSize < resolved.config.batchSize) warnings.push(batchSizeReducedWarning(resolved.config.batchSize, perRank, worldSize));
  const classWeights = classWeightTable(options.classWeight, numClasses);
  const sampleWeights = sampleWeightArray(options.sampleWeight, given);
  // A layers model's shapes are checked layer by layer when its spec is built just below.
  if (resolved.model.kind !== 'layers') checkImageSizeFor({ kind: resolved.model.kind, depth: resolved.model.depth }, trainX.shape[2], trainX.shape[3], 'train.x.shape');

  const resume = checkResume(options.resume, device);
  const presetMomentum = presetMomentumOf(resolved, resume);
  const modelSpec = specWithSizeHint(resolved.model, numClasses, trainX.shape, presetMomentum);
  if (resume) checkSameArchitecture(resume, resolved, modelSpec, numClasses, trainX.shape);
  const distributed = resolved.distributed ? chooseBackend(resolved.distributed, device, runtime) : undefined;

  const historyBefore = resume?.metadata.history ? historyUpTo(resume.metadata.history, resolved.config.initialEpoch) : undefined;
  return {
    resolved,
    spec: {
      model: modelSpec,
      config: { ...resolved.config, batchSize, validationSplitAt: splitAt, classWeights, device, ...(distributed ? { distributed } : {}) },
      train: { x: trainX.data, shape: trainX.shape, y: trainY.data, channelsLast: trainX.channelsLast, ...(sampleWeights ? { w: sampleWeights } : {}) },
      ...(validation ? { validation } : {}),
      ...(resume ? { resume: resume.handle } : {}),
    },
    hasValidation: validation !== undefined || splitAt > 0,
    runOptions: {
      ...describeOptions(resolved, numClasses, device, distributed),
      batchSize,
      ...(splitAt > 0 ? { validationSplit: resolved.data.validationSplit } : {}),
      ...(classWeights.length > 0 ? { classWeight: classWeights } : {}),
      ...(sampleWeights ? { sampleWeight: 'per image' } : {}),
      ...(resolved.model.kind !== 'layers' ? { batchNormMomentum: presetMomentum } : {}),
    },
    modelConfig: resume ? resume.config : configOf(modelSpec),
    ...(resume ? { resume } : {}),
    ...(historyBefore ? { historyBefore } : {}),
    batchNormMomentum: modelSpec.kind === 'layers' ? largestLayerMomentum(modelSpec.layers ?? []) : presetMomentum,
    warnings,
  };
}

/** A resumed model must be a live Model on the device this run trains on. */
function checkResume(resume: unknown, device: string): Model | undefined {
  if (resume === undefined) return undefined;
  if (!(resume instanceof Model)) throw new InvalidOptionError('resume', 'a Model', resume);
  // A disposed model throws ERR_DISPOSED here, as every other use of it does.
  if (resume.device !== device) {
    throw new InvalidOptionError('resume', `a Model on ${device}, the device this run trains on (set device: '${resume.device}' to train it where it is)`,
      described(`a Model on ${resume.device}`));
  }
  return resume;
}

function checkSameArchitecture(resume: Model, resolved: ResolvedOptions, modelSpec: NativeModelSpec, numClasses: number, shape: number[]): void {
  const c = resume.config;
  if (c.kind !== resolved.model.kind || (c.kind === 'resnet' && c.depth !== resolved.model.depth) || c.numClasses !== numClasses ||
      (c.kind === 'layers' && JSON.stringify(c.layers) !== modelSpec.layersJson) ||
      c.height !== shape[2] || c.width !== shape[3] || c.channels !== shape[1]) {
    throw new InvalidOptionError('resume', `a Model of the same architecture (${resolved.model.kind}, ${numClasses} classes, ${shape[2]}x${shape[3]}x${shape[1]})`,
      `${c.kind}${c.kind === 'resnet' ? ` depth ${c.depth}` : ''}, ${c.numClasses} classes, ${c.height}x${c.width}x${c.channels}`);
  }
}

/** The presets' BatchNorm momentum (Keras's terms): the option, a resumed model's own, or the default. */
function presetMomentumOf(resolved: ResolvedOptions, resume: Model | undefined): number {
  const given = resolved.data.batchNormMomentum;
  const own = resume?.config.batchNormMomentum;
  if (given !== undefined && own !== undefined && given !== own) {
    throw new InvalidOptionError('batchNormMomentum', `the resumed model's own (${own}), or leave it out`, given);
  }
  return given ?? own ?? TRAIN_DEFAULTS.batchNormMomentum;
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

/** The native model spec; a layers model refused at a too-small image names the smallest size it takes. */
function specWithSizeHint(model: ResolvedOptions['model'], numClasses: number, shape: number[], batchNormMomentum: number): NativeModelSpec {
  const [, channels, height, width] = shape as [number, number, number, number];
  try {
    return nativeModelSpec(model, numClasses, [channels, height, width], batchNormMomentum);
  } catch (error) {
    if (model.kind !== 'layers') throw error;
    throw layersImageSizeError(error, (h, w) => nativeModelSpec(model, numClasses, [channels, h, w]), height, width, 'train.x.shape');
  }
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

function describeOptions(resolved: ResolvedOptions, numClasses: number, device: string, distributed: NativeDistributedConfig | undefined): Record<string, unknown> {
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
