/**
 * A trained model: evaluation, prediction, Keras-style summary, checkpoints.
 * Every heavy call runs on a worker thread and returns a Promise.
 */
import { resolve } from 'node:path';

import { CheckpointError, described, InvalidOptionError, TorchfitError } from '../errors.js';
import type { NdArray } from '../data/ndarray.js';
import { checkDataFormat, checkLabelRange, prepareImages, prepareLabels, type DataFormat, type ImagesInput, type LabelsInput } from './inputs.js';
import { runJob } from './job.js';
import { native, type NativeModel } from './native.js';
import { modelName, type ModelKind } from '../models/describe.js';
import type { ResolvedLayer } from '../models/layers.js';
import { resolveLayers } from '../models/resolve.js';
import { summaryRows } from '../models/summary.js';
import { kerasMomentum } from '../models/native-spec.js';
import { parseDevice, selectDevice, type Device } from './device.js';
import { readCheckpoint, readCheckpointFile } from './checkpoint-file.js';
import type { History, ModelSummary } from './types.js';

export interface LoadOptions {
  device?: Device;
  /** Image height and width, for a plain state_dict only (our checkpoints carry their config). Default [28, 28]. */
  imageSize?: [number, number];
  /** Accept NaN or infinite weights, buffers and optimizer slots (refused by default). */
  allowNonFinite?: boolean;
}

export interface PredictOptions {
  batchSize?: number;
  signal?: AbortSignal;
  /** Layout of 4-D images; default: read from the shape, as trainModel does. */
  dataFormat?: DataFormat;
}

/** A model's architecture (Model.config): which model, its classes and input, and its layers. */
export interface ModelConfig {
  kind: ModelKind;
  /** ResNet only; 0 otherwise. */
  depth: number;
  numClasses: number;
  channels: number;
  height: number;
  width: number;
  /** A layers model's layers, every field filled (absent for the presets: describeModel expands them). */
  layers?: ResolvedLayer[];
  /** 'cnn' and 'resnet': their BatchNorm momentum in Keras's terms (trainModel's batchNormMomentum; default 0.99). */
  batchNormMomentum?: number;
}

/** What a checkpoint carries besides the weights: the history and options of the run that made it. */
export interface ModelMetadata {
  history?: History;
  options?: Record<string, unknown>;
  [key: string]: unknown;
}

const registry = new FinalizationRegistry<NativeModel>((handle) => {
  if (!handle.disposed) handle.dispose();
});

/**
 * A model held by the native addon.
 *
 * @example
 * const { model } = await trainModel({ model: 'cnn', train, validation });
 * const { accuracy } = await model.evaluate(xTest, yTest);
 * await model.save('runs/cnn.pt');
 * model.dispose();
 */
export class Model {
  /** @internal */
  readonly handle: NativeModel;
  /** The history and options of the run that produced it (also saved in checkpoints). */
  metadata: ModelMetadata;
  private cachedConfig?: ModelConfig;

  // Models come from trainModel and Model.load only.
  private constructor(handle: NativeModel, metadata: ModelMetadata = {}) {
    this.handle = handle;
    this.metadata = metadata;
    registry.register(this, handle, this);
  }

  /** @internal Wraps a native model (trainModel's result). */
  static fromNative(handle: NativeModel, metadata: ModelMetadata = {}): Model {
    return new Model(handle, metadata);
  }

  /**
   * Which model, its classes and input size; for a layers model, its layers with every field filled
   * (describeModel(config) expands a preset's).
   */
  get config(): ModelConfig {
    const handle = this.live();
    if (this.cachedConfig) return this.cachedConfig;
    const { hasOptimizerState: _unused, layersJson, layers: _native, bnMomentum, ...spec } = handle.config();
    this.cachedConfig = spec.kind === 'layers' ? { ...spec, layers: JSON.parse(layersJson!) as ResolvedLayer[] }
      : { ...spec, batchNormMomentum: kerasMomentum(bnMomentum ?? 0.01) };
    return this.cachedConfig;
  }

  get device(): string {
    return this.live().device;
  }

  get disposed(): boolean {
    return this.handle.disposed;
  }

  /**
   * Loss (cross-entropy plus the L2 term, as Keras reports it) and accuracy.
   *
   * @example
   * const { loss, accuracy } = await model.evaluate(xTest, yTestOneHot);
   */
  async evaluate(x: ImagesInput, y: LabelsInput, options: PredictOptions = {}): Promise<{ loss: number; accuracy: number }> {
    const images = this.checkImages(x, 'x', options);
    const labels = prepareLabels(y, images.shape[0], 'y');
    checkLabelRange(labels, this.config.numClasses, 'y');
    const batchSize = batchSizeOf(options);
    const handle = this.live();
    const result = await runJob(() => handle.evaluate(images.data, images.shape, labels.data, batchSize, images.channelsLast), options.signal);
    return { loss: result.loss, accuracy: result.accuracy };
  }

  /**
   * Class probabilities (softmax), an NdArray (N, numClasses) of float32.
   *
   * @example
   * const probs = await model.predict(images);
   */
  async predict(x: ImagesInput, options: PredictOptions = {}): Promise<NdArray> {
    const images = this.checkImages(x, 'x', options);
    const batchSize = batchSizeOf(options);
    const handle = this.live();
    const classes = this.config.numClasses;  // read now: the model may be disposed while the job runs
    const data = await runJob(() => handle.predict(images.data, images.shape, batchSize, images.channelsLast), options.signal);
    return { dtype: 'float32', shape: [images.shape[0], classes], data };
  }

  /**
   * The predicted class index of each image (argmax, first index wins ties).
   *
   * @example
   * const yPred = await model.predictClasses(images); // Int32Array of 0..C-1
   */
  async predictClasses(x: ImagesInput, options: PredictOptions = {}): Promise<Int32Array> {
    const probs = await this.predict(x, options);
    const c = probs.shape[1]!;
    const data = probs.data as Float32Array;
    const out = new Int32Array(probs.shape[0]!);
    for (let i = 0; i < out.length; i++) {
      let best = 0;
      for (let j = 1; j < c; j++) if (data[i * c + j]! > data[i * c + best]!) best = j;
      out[i] = best;
    }
    return out;
  }

  /**
   * Keras's model.summary() as data: layers with output shapes and parameter counts.
   *
   * @example
   * model.summary().totalParams; // 33989 for the CNN
   */
  summary(): ModelSummary {
    const config = this.config;
    const layers = this.live().layers();
    if (config.kind === 'layers') {
      // The module's own rows (names, shapes, counts from its tensors), with the settings text of the description.
      const described = summaryRows(resolveLayers(config.layers!, [config.channels, config.height, config.width], config.numClasses));
      layers.forEach((row, i) => { row.config = described[i]?.config ?? ''; });
    }
    return summarize(config, layers);
  }

  /**
   * Saves weights, optimizer state and metadata to one file, atomically (a
   * temporary file in the same folder, flushed, then renamed over `path`).
   * Python reads it with `torch.load(path)['state_dict']`.
   */
  async save(path: string, options: { includeOptimizer?: boolean } = {}): Promise<void> {
    if (typeof path !== 'string' || path.length === 0) throw new InvalidOptionError('path', 'a file path', path);
    const handle = this.live();
    const configJson = JSON.stringify({ config: this.config, metadata: this.metadata }, encodeNonFinite);
    await runJob(() => handle.save(resolve(path), configJson, options.includeOptimizer ?? true));
  }

  /**
   * Loads a checkpoint written by save() (weights, optimizer state, metadata),
   * or a plain PyTorch state_dict (`torch.save(model.state_dict(), path)` from
   * the Python reference port; the architecture and the channel count are read
   * from its keys and shapes, `imageSize` gives the image size, default 28x28). The file is read
   * once, by our own strict zip reader and restricted unpickler, and every
   * field, name, shape, dtype and value is vetted in TypeScript; the addon only
   * receives typed arrays to copy into the model. Weights, buffers and
   * optimizer slots must be finite unless `allowNonFinite` is true.
   *
   * Every failure caused by the file is a CheckpointError (or a
   * PickleSecurityError for a pickle that names anything beyond tensors, dicts,
   * lists and plain values) naming the file and the entry; options are checked
   * first (InvalidOptionError).
   *
   * @example
   * const model = await Model.load('runs/cnn.pt', { device: 'cpu' });
   * const fromPython = await Model.load('python-weights.pt');
   */
  static async load(path: string, options: LoadOptions = {}): Promise<Model> {
    if (typeof path !== 'string' || path.length === 0) throw new InvalidOptionError('path', 'a file path', path);
    const { imageSize, allowNonFinite, device: wanted } = checkLoadOptions(options);
    const binding = native();
    const runtime = binding.info();
    const device = selectDevice(wanted, runtime);
    const plan = readCheckpoint(await readCheckpointFile(path), path, { imageSize, allowNonFinite });
    try {
      const handle = await runJob(() => binding.NativeModel.restore(plan.spec, plan.state, plan.optimizer, device, resolve(path)));
      return new Model(handle, plan.metadata as ModelMetadata);
    } catch (error) {
      throw asCheckpointError(error, path);
    }
  }
  /** Frees the native model now (a running evaluate/predict keeps it until it ends). */
  dispose(): void {
    registry.unregister(this);
    this.handle.dispose();
  }

  private checkImages(x: ImagesInput, name: string, options: PredictOptions) {
    const images = prepareImages(x, name, checkDataFormat(options.dataFormat));
    const c = this.config;
    if (images.shape[2] !== c.height || images.shape[3] !== c.width || images.shape[1] !== c.channels) {
      throw new InvalidOptionError(`${name}.shape`, `${c.height}x${c.width} images with ${c.channels} channel(s) for this model`,
        described(`${images.shape[2]}x${images.shape[3]} with ${images.shape[1]} channel(s)`));
    }
    return images;
  }

  private live(): NativeModel {
    if (this.handle.disposed) throw new TorchfitError('ERR_DISPOSED', 'the Model was disposed');
    return this.handle;
  }
}

// JSON has no NaN or Infinity (val_loss is NaN without validation data): keep them as tagged strings.
function encodeNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? { $number: String(value) } : value;
}

function batchSizeOf(options: PredictOptions): number {
  const batchSize = options.batchSize ?? 1024;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidOptionError('batchSize', 'an integer >= 1', batchSize);
  return batchSize;
}

/** Keras's totals from a layer table. */
export function summarize(config: Omit<ModelConfig, 'layers'> & { layers?: readonly ResolvedLayer[] }, layers: ModelSummary['layers']): ModelSummary {
  const totalParams = layers.reduce((sum, l) => sum + l.params, 0);
  const trainableParams = layers.reduce((sum, l) => sum + l.trainableParams, 0);
  return {
    kind: config.kind,
    name: modelName(config.kind, config.depth, config.layers ?? []),
    ...(config.kind === 'resnet' ? { depth: config.depth } : {}),
    inputShape: [config.height, config.width, config.channels],
    numClasses: config.numClasses,
    layers,
    totalParams,
    trainableParams,
    nonTrainableParams: totalParams - trainableParams,
  };
}

// Whatever the addon throws while restoring (a mismatch it found, out of memory, a libtorch error)
// is a failure to load this file: a CheckpointError without the absolute path it labels messages with.
function asCheckpointError(error: unknown, path: string): CheckpointError {
  if (error instanceof CheckpointError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof TorchfitError && error.code !== 'ERR_CHECKPOINT' ? ` (${error.code})` : '';
  return new CheckpointError(path, `${message.replace(`${resolve(path)}: `, '')}${code}`);
}

function checkLoadOptions(options: unknown): { imageSize: [number, number]; allowNonFinite: boolean; device: Device } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError('options', 'an object', options);
  const o = options as LoadOptions;
  for (const key of Object.keys(o)) {
    if (!['device', 'imageSize', 'allowNonFinite'].includes(key)) throw new InvalidOptionError(key, "one of 'device', 'imageSize', 'allowNonFinite'", described('an unknown option'));
  }
  if (o.allowNonFinite !== undefined && typeof o.allowNonFinite !== 'boolean') throw new InvalidOptionError('allowNonFinite', 'a boolean', o.allowNonFinite);
  const device = parseDevice(o.device ?? 'auto');
  return { imageSize: checkImageSize(o.imageSize), allowNonFinite: o.allowNonFinite ?? false, device };
}

function checkImageSize(size: unknown): [number, number] {
  if (size === undefined) return [28, 28];
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && v >= 1 && v <= 4096)) {
    throw new InvalidOptionError('imageSize', '[height, width] with integers from 1 to 4096', size);
  }
  return [size[0], size[1]];
}
