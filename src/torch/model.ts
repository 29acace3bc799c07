/**
 * A trained model: evaluation, prediction, Keras-style summary, checkpoints.
 * Every heavy call runs on a worker thread and returns a Promise.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import { CheckpointError, described, InvalidOptionError, TorchfitError } from '../errors.js';
import type { NdArray } from '../data/ndarray.js';
import { readTorchArchive } from '../data/torch-file.js';
import { checkImageSizeFor } from './image-size.js';
import { checkDataFormat, checkLabelRange, prepareImages, prepareLabels, type DataFormat, type ImagesInput, type LabelsInput } from './inputs.js';
import { runJob } from './job.js';
import { native, type NativeModel, type NativeModelSpec } from './native.js';
import { resolveDevice } from './options.js';
import { isTorchfitCheckpoint, plainStateDict, type PlainStateDict } from './state-dict.js';
import type { History, ModelSummary } from './types.js';

export interface LoadOptions {
  device?: 'auto' | 'cpu' | 'cuda' | `cuda:${number}`;
  /** Image height and width, for a plain state_dict only (our checkpoints carry their config). Default [28, 28]. */
  imageSize?: [number, number];
}

export interface PredictOptions {
  batchSize?: number;
  signal?: AbortSignal;
  /** Layout of 4-D images; default: read from the shape, as trainModel does. */
  dataFormat?: DataFormat;
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

  /** @internal */
  constructor(handle: NativeModel, metadata: ModelMetadata = {}) {
    this.handle = handle;
    this.metadata = metadata;
    registry.register(this, handle, this);
  }

  /** 'cnn' or 'resnet', depth, classes and input size. */
  get config(): NativeModelSpec {
    const { hasOptimizerState: _unused, ...config } = this.live().config();
    return config;
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
    return summarize(config, this.live().layers());
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
   * with our own zip reader and restricted unpickler: only tensors, dicts,
   * lists and plain values are accepted, nothing in it is ever executed.
   * Throws CheckpointError for a broken or mismatched file, PickleSecurityError
   * for a pickle that names anything else.
   *
   * @example
   * const model = await Model.load('runs/cnn.pt', { device: 'cpu' });
   * const fromPython = await Model.load('python-weights.pt');
   */
  static async load(path: string, options: LoadOptions = {}): Promise<Model> {
    if (typeof path !== 'string' || path.length === 0) throw new InvalidOptionError('path', 'a file path', path);
    const imageSize = checkImageSize(options.imageSize);
    const binding = native();
    const device = resolveDevice(options.device ?? 'auto', binding.info().cudaAvailable);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new CheckpointError(path, `cannot open: ${(error as Error).message}`);
    }
    const content = readTorchArchive(bytes, path);
    if (!isTorchfitCheckpoint(content)) {
      const sd = plainStateDict(content, path, imageSize);
      checkImageSizeFor(sd.spec, sd.spec.height, sd.spec.width, 'imageSize');
      return Model.fromStateDict(sd, path, device);
    }
    let result;
    try {
      result = await runJob(() => binding.NativeModel.load(resolve(path), bytes, device));
    } catch (error) {
      throw asCheckpointError(error, path);
    }
    let metadata: ModelMetadata = {};
    try {
      const parsed = JSON.parse(result.configJson, decodeNonFinite) as { metadata?: ModelMetadata };
      metadata = typeof parsed.metadata === 'object' && parsed.metadata !== null ? parsed.metadata : {};
    } catch {
      result.model.dispose();
      throw new CheckpointError(path, "field 'config' is not valid JSON");
    }
    return new Model(result.model, metadata);
  }

  private static async fromStateDict(sd: PlainStateDict, path: string, device: string): Promise<Model> {
    const binding = native();
    try {
      const handle = await runJob(() => binding.NativeModel.fromStateDict(sd.spec, sd.entries, device, resolve(path)));
      return new Model(handle, { loadedFrom: 'state_dict' });
    } catch (error) {
      const typed = asCheckpointError(error, path);
      if (typed instanceof CheckpointError && typed.message.includes("'fc.weight' has shape")) {
        throw new CheckpointError(path, `${typed.message.slice(path.length + 2)} (were the images not ${sd.spec.height}x${sd.spec.width}? pass { imageSize: [height, width] })`);
      }
      throw typed;
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

function decodeNonFinite(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 1 && typeof (value as { $number?: unknown }).$number === 'string') {
    return Number((value as { $number: string }).$number);
  }
  return value;
}

function batchSizeOf(options: PredictOptions): number {
  const batchSize = options.batchSize ?? 1024;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidOptionError('batchSize', 'an integer >= 1', batchSize);
  return batchSize;
}

/** Keras's totals from a layer table. */
export function summarize(config: NativeModelSpec, layers: ModelSummary['layers']): ModelSummary {
  const totalParams = layers.reduce((sum, l) => sum + l.params, 0);
  const trainableParams = layers.reduce((sum, l) => sum + l.trainableParams, 0);
  return {
    kind: config.kind,
    name: config.kind === 'cnn' ? 'model_cnn5' : `resnet_v1_depth${config.depth}`,
    ...(config.kind === 'resnet' ? { depth: config.depth } : {}),
    inputShape: [config.height, config.width, config.channels],
    numClasses: config.numClasses,
    layers,
    totalParams,
    trainableParams,
    nonTrainableParams: totalParams - trainableParams,
  };
}

/**
 * The summary of a model before training it (nothing is trained).
 *
 * @example
 * describeModel({ kind: 'resnet', depth: 20 }).totalParams;
 */
export function describeModel(choice: { kind: 'cnn' } | { kind: 'resnet'; depth: number },
  input: { numClasses: number; height: number; width: number; channels?: number } = { numClasses: 5, height: 28, width: 28 }): ModelSummary {
  const depth = choice.kind === 'resnet' ? choice.depth : 0;
  if (choice.kind === 'resnet' && (!Number.isInteger(depth) || depth < 2 || (depth - 2) % 6 !== 0)) {
    throw new InvalidOptionError('model.depth', 'a ResNet v1 depth 6n+2 (2, 8, 14, 20, 32, 44, ...)', depth);
  }
  const channels = input.channels ?? 1;
  if (!Number.isInteger(channels) || channels < 1 || channels > 4096) throw new InvalidOptionError('channels', 'an integer from 1 to 4096', channels);
  checkImageSizeFor(choice, input.height, input.width, 'height/width');
  const spec: NativeModelSpec = { kind: choice.kind, depth, numClasses: input.numClasses, channels, height: input.height, width: input.width };
  return summarize(spec, native().describeModel(spec).layers);
}

// Errors of the native checkpoint code arrive as ERR_CHECKPOINT with the absolute path: re-type them.
function asCheckpointError(error: unknown, path: string): unknown {
  if (error instanceof TorchfitError && error.code === 'ERR_CHECKPOINT') return new CheckpointError(path, error.message.replace(`${resolve(path)}: `, ''));
  return error;
}

function checkImageSize(size: unknown): [number, number] {
  if (size === undefined) return [28, 28];
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && v >= 1 && v <= 4096)) {
    throw new InvalidOptionError('imageSize', '[height, width] with integers from 1 to 4096', size);
  }
  return [size[0], size[1]];
}
