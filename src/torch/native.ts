/**
 * The one place that loads the native addon. Everything else imports `native()`.
 * When the binary is missing or cannot load (built against another libtorch, or
 * never built because npm skipped install scripts) the error says what to run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { AddonLoadError } from '../errors.js';
import type { NativeLayer } from '../models/native-spec.js';
import type { NativeAugmentConfig } from './augment.js';
import type { NativeCallback } from './callbacks.js';
import { platformTag, prebuildMismatch, prebuildPaths, readPrebuildRecord } from './prebuild.js';
import type { BatchLog, EpochLog, History, LayerSummary } from './types.js';

/** The package root (two levels above dist/torch/). */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface NativeJob<T> {
  promise: Promise<T>;
  cancel(): void;
}

export interface NativeModelSpec {
  kind: 'cnn' | 'resnet' | 'layers';
  depth: number;
  numClasses: number;
  channels: number;
  height: number;
  width: number;
  /** Layers models: the resolved layers with their shapes (models/native-spec.ts). */
  layers?: NativeLayer[];
  /** Layers models: JSON of the resolved layer description, stored in checkpoints. */
  layersJson?: string;
  /** 'cnn' and 'resnet': every BatchNorm's momentum in PyTorch's terms (1 - Keras's); absent: 0.01. */
  bnMomentum?: number;
}

export interface NativeTrainConfig {
  epochs: number;
  batchSize: number;
  evalBatchSize: number;
  optimizer: {
    name: 'sgd' | 'adam';
    learningRate: number;
    momentum: number;
    nesterov: boolean;
    beta1: number;
    beta2: number;
    epsilon: number;
  };
  epochLearningRates: number[];
  seed: number;
  shuffle: boolean;
  device: string;
  threads: number;
  kernels: KernelChoice;
  batchProgressIntervalMs: number;
  augment: NativeAugmentConfig;
  /** Absent: this process trains alone. */
  distributed?: NativeDistributedConfig;
  /** Training control (src/torch/callbacks.ts): epochs initialEpoch .. epochs - 1 run (0-based). */
  initialEpoch: number;
  callbacks: NativeCallback[];
  /** 0: none. */
  timeLimitMs: number;
  /** validationSplit: the training rows from this index on validate (0: no split). */
  validationSplitAt: number;
  /** classWeight as a table by class index (empty: none). */
  classWeights: number[];
}

export interface NativeDistributedConfig {
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  timeoutMs: number;
  rendezvousTimeoutMs: number;
  backend: 'gloo' | 'nccl';
  /** '' : chosen from masterAddr. */
  interface: string;
  bucketBytes: number;
}

/** What _dataParallelProbe returns: see native/core/tools/probe.h. */
export interface NativeProbeResult {
  parameters: Float32Array;
  localGradients: Float32Array;
  gradients: Float32Array;
  loss: number;
}

/** 'fused': the hand-written CPU kernels where a model has them; 'plain': libtorch's own ops only. */
export type KernelChoice = 'fused' | 'plain';

/** Array data for the addon: a typed array (copied on the worker thread) or a tensor handle. */
export type NativeArray = Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array | NativeTensor;

export interface NativeDataSpec {
  x: NativeArray;
  /** (N, C, H, W) */
  shape: number[];
  y: NativeArray;
  /** x holds (N, H, W, C): transposed on the worker thread. */
  channelsLast?: boolean;
  /** Training data only: sampleWeight, one float32 per row (absent: unweighted). */
  w?: Float32Array;
}

export interface NativeTrainSpec {
  model: NativeModelSpec;
  config: NativeTrainConfig;
  train: NativeDataSpec;
  validation?: NativeDataSpec;
  resume?: NativeModel;
  /** The worker waits for these callbacks before going on (so that control.stop() there applies at once). */
  awaitCallbacks?: { epoch: boolean; batch: boolean };
  /** What modelCheckpoint files carry besides the weights, as Model.save() writes it. */
  checkpointMetadata?: { configJson: string; optionsJson: string; historyBefore?: History };
}

/** trainModel's job: cancel() rejects (AbortError), stop() ends after the current batch and resolves. */
export interface NativeTrainJob extends NativeJob<NativeTrainOutcome> {
  stop(): void;
}

export interface NativeTrainOutcome {
  model: NativeModel;
  history: EpochLog[];
  stoppedEpoch: number;
  /** '' when it ran every epoch. */
  stopReason: '' | 'earlyStopping' | 'stop' | 'timeLimit';
  bestEpoch: number;
  restoredBestWeights: boolean;
  device: string;
}

export interface NativeModel {
  /** shape: (N, C, H, W); channelsLast: x holds (N, H, W, C). */
  evaluate(x: NativeArray, shape: number[], y: NativeArray, batchSize: number, channelsLast: boolean): NativeJob<{ loss: number; accuracy: number; samples: number }>;
  predict(x: NativeArray, shape: number[], batchSize: number, channelsLast: boolean): NativeJob<Float32Array>;
  layers(): LayerSummary[];
  config(): NativeModelSpec & { hasOptimizerState: boolean };
  save(path: string, configJson: string, withOptimizer: boolean): NativeJob<string>;
  dispose(): void;
  readonly disposed: boolean;
  readonly device: string;
}

/** One vetted state_dict tensor: name, data (float32, or int64 for counters), shape. */
export type NativeStateEntry = [string, Float32Array | BigInt64Array, number[]];

/** Vetted optimizer state of a checkpoint: settings, step count, slots in Optimizer::state() order. */
export interface NativeOptimizerState {
  name: 'sgd' | 'adam';
  learningRate: number;
  momentum: number;
  nesterov: boolean;
  beta1: number;
  beta2: number;
  epsilon: number;
  iterations: number;
  slots: [Float32Array, number[]][];
}

export interface NativeModelClass {
  /** Builds a model from vetted checkpoint contents (no file is read natively); `label` names the file in errors. */
  restore(spec: NativeModelSpec, state: NativeStateEntry[], optimizer: NativeOptimizerState | null, device: string, label: string): NativeJob<NativeModel>;
}

export interface NativeTensor {
  readonly shape: number[];
  readonly dtype: string;
  readonly device: string;
  readonly disposed: boolean;
  toTypedArray(): Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Int32Array | BigInt64Array;
  dispose(): void;
}

export interface NativeTensorClass {
  new (...args: never[]): NativeTensor;
  fromTypedArray(data: ArrayBufferView, shape: number[], dtype: string, device: string): NativeTensor;
}

export interface NativeRuntimeInfo {
  libtorchVersion: string;
  cudaCompiled: boolean;
  cudaAvailable: boolean;
  deviceCount: number;
  deviceName?: string;
  threads: number;
  buildLibtorchVersion: string;
  buildTorchSource: string;
  /** Which c10d backends this build carries. */
  distributed: { gloo: boolean; nccl: boolean };
  /** Which build of the fused CPU kernels this CPU runs: 'avx2' (AVX2 + FMA) or 'generic'. */
  cpuKernels: 'avx2' | 'generic';
  /** The convolution engine in use, e.g. 'onednn 2.6.3 avx512_core (nChw16c)', or 'off: <why>'. */
  convEngine: string;
}

export interface NativeProfileOptions {
  optimizer: 'sgd' | 'adam';
  learningRate: number;
  batchSize: number;
  threads: number;
  kernels: KernelChoice;
  seed?: number;
  warmup?: number;
  steps?: number;
  /** One row per op and first-input shape. */
  byShape?: boolean;
  /** Unprofiled steps timed after the profiled ones (stepMs lists each); max(steps, 5) when absent. */
  timed?: number;
}

export interface NativeCompareSpec {
  op: 'conv1ch' | 'sigmoid_bn_pool' | 'cnn_stem' | 'linear' | 'model' | 'conv_blocked' | 'bn_blocked';
  batch?: number;
  channels?: number;
  height?: number;
  width?: number;
  pad?: 0 | 1;
  outChannels?: number;
  kernel?: number;
  stride?: number;
  padding?: 'same' | 'valid';
  residual?: boolean;
  relu?: boolean;
  training?: boolean;
  inputGrad?: boolean;
  negativeGamma?: boolean;
  steps?: number;
  model?: NativeModelSpec;
  optimizer?: 'sgd' | 'adam';
  learningRate?: number;
  seed?: number;
  threads?: number;
  isa?: '' | 'avx2' | 'generic';
}

/** One output, gradient or statistic: max |fused - plain|, each against libtorch in float64, and max |float64|. */
export interface NativeDifference {
  name: string;
  maxAbs: number;
  fusedErr: number;
  plainErr: number;
  refMax: number;
  numel: number;
}

/** One op's share of a profiled step, per step. */
export interface NativeOpTime {
  name: string;
  selfMs: number;
  totalMs: number;
  calls: number;
}

/** The raw binding: declarations only, implemented in native/addon.cc. */
export interface NativeBinding {
  info(): NativeRuntimeInfo;
  liveTensors(): number;
  train(spec: NativeTrainSpec, onEpoch: (log: EpochLog) => void, onBatch: (log: BatchLog) => void): NativeTrainJob;
  describeModel(spec: NativeModelSpec): { layers: LayerSummary[]; trainableParams: number; nonTrainableParams: number; outputShape: number[] };
  _initialWeights(spec: NativeModelSpec, seed: number): Record<string, Float32Array>;
  _earlyStoppingTrace(config: { mode: 'min' | 'max'; patience: number; minDelta: number; baseline?: number; startFromEpoch?: number }, values: number[]): number;
  /** Internal (test/callbacks-logic.test.js): the epoch-end callbacks' decisions on scripted figures, without a model. */
  _callbackTrace(spec: { callbacks: NativeCallback[]; learningRate: number; epochLearningRates?: number[]; initialEpoch?: number },
    figures: { loss?: number; accuracy?: number; valLoss?: number; valAccuracy?: number }[]): { epoch: number; learningRate: number; stop: boolean; saved: string[] }[];
  /** Internal (test/callbacks-logic.test.js): Python's repr() of a float, as checkpoint paths write it. */
  _pythonRepr(value: number): string;
  /** Tests only: one all-reduced step of a BatchNorm-free network. */
  _dataParallelProbe(spec: { x: NativeArray; shape: number[]; y: NativeArray; numClasses: number; seed: number; distributed?: NativeDistributedConfig }): NativeJob<NativeProbeResult>;
  /** Internal (scripts/bench/profile-step.mjs): fit's step under libtorch's profiler, on random data. */
  _profileStep(spec: NativeModelSpec, options: NativeProfileOptions): { msPerStep: number; stepMs: number[]; ops: NativeOpTime[] };
  /** Internal (test/kernels.test.js): fused kernels against libtorch's ops on the same random inputs. */
  _compareKernels(spec: NativeCompareSpec): NativeDifference[];
  /** Internal (scripts/bench/roofline.mjs): this CPU's float32 FMA peak, measured. */
  _fmaPeak(options: { threads: number; seconds?: number; isa?: 'avx2' | 'avx512' }): { gflops: number; isa: string; threads: number };
  /** Internal (scripts/bench/roofline.mjs): one convolution layer's forward and backward, on the engine or libtorch's path. */
  _timeConv(spec: {
    batch?: number; inChannels?: number; outChannels?: number; height?: number; width?: number; kernel?: number;
    stride?: number; padding?: 'same' | 'valid'; path: 'engine' | 'libtorch'; reps?: number; threads?: number; inputGrad?: boolean;
  }): { forwardMs: number; backwardMs: number; forwardGflop: number; backwardGflop: number };
  /** Internal: the kernel builds this CPU runs ('generic' always, 'avx2' where supported). */
  _kernelIsas(): { active: string; available: string[] };
  /** Internal (scripts/bench/layout.mjs, test/images-layout.test.js): the channels_last transpose of training inputs. */
  _toNchw(x: Float32Array, nchwShape: number[]): { data: Float32Array; ms: number };
  /**
   * Internal (test/augment.test.js): augments one (N, C, H, W) batch as fit does. params: (N, 9) float64 per-image
   * draws to apply (see native/core/augment.h); absent: drawn from `seed`. tensorOps: the device-independent
   * path instead of the CPU loop. Returns the images and the draws.
   */
  _augmentBatch(x: Float32Array, shape: number[], config: NativeAugmentConfig, seed: number, params?: Float64Array, tensorOps?: boolean): { images: Float32Array; params: Float64Array };
  NativeModel: NativeModelClass;
  NativeTensor: NativeTensorClass;
}

// What to run, for the two ways torchfit is used: as a dependency, and as a clone.
const BUILD_HINT =
  'Compile it against your libtorch with `npx torchfit build` (in a project that depends on torchfit; it prints its progress) ' +
  'or `npm run setup` (in a clone of torchfit). Compiling needs cmake, g++ and libtorch: on Debian/Ubuntu ' +
  '`sudo apt-get install cmake g++ libtorch-dev libgloo-dev libdnnl-dev`, elsewhere set LIBTORCH to an unpacked libtorch.';

let cached: NativeBinding | undefined;
let loadedFrom: AddonSource | undefined;

/** Where the addon was loaded from: TORCHFIT_ADDON, a source build (build/Release) or the package's prebuild. */
export interface AddonSource {
  kind: 'env' | 'source' | 'prebuilt';
  path: string;
}

/**
 * The addons to try, in order (node-gyp-build's order): TORCHFIT_ADDON alone when set; otherwise
 * a source build in build/Release (a local `npx torchfit build` wins), then the prebuild shipped
 * in prebuilds/<platform>-<arch>/.
 */
export function addonCandidates(root = packageRoot, env: NodeJS.ProcessEnv = process.env): AddonSource[] {
  if (env.TORCHFIT_ADDON) return [{ kind: 'env', path: env.TORCHFIT_ADDON }];
  return [
    { kind: 'source', path: join(root, 'build', 'Release', 'torchfit.node') },
    { kind: 'prebuilt', path: prebuildPaths(root).addon },
  ];
}

/** Where the loaded addon came from (undefined before the first native call). */
export function addonSource(): AddonSource | undefined {
  return loadedFrom;
}

function buildRecord(root: string): { libtorchVersion?: string; libDir?: string; source?: string } | undefined {
  const file = join(root, 'build', 'torchfit-build.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Loads the addon once; throws AddonLoadError saying what was tried and what to run. */
export function native(): NativeBinding {
  if (cached) return cached;
  const candidates = addonCandidates();
  const present = candidates.filter((c) => existsSync(c.path));
  if (present.length === 0) {
    const [first, prebuilt] = candidates;
    const what = prebuilt
      ? `(looked for ${first!.path}) and the package has no prebuilt addon for ${platformTag()} (${prebuilt.path})`
      : `(looked for ${first!.path}, named by TORCHFIT_ADDON)`;
    throw new AddonLoadError(`torchfit's native addon is not built ${what}. ${BUILD_HINT}`);
  }
  const chosen = present[0]!;
  if (chosen.kind === 'prebuilt') {
    // Checked before dlopen, so a missing or different libtorch is named instead of a raw loader error.
    const record = readPrebuildRecord(prebuildPaths(packageRoot).record);
    const mismatch = record ? prebuildMismatch(record) : undefined;
    if (mismatch) throw new AddonLoadError(`${mismatch} ${BUILD_HINT}`);
  }
  // libgomp reads its wait policy once, when libtorch loads it. Spinning threads collapse
  // when other processes share the cores (a CNN step went from 100 ms to 470 ms under
  // load; passive waiting kept it at 160 ms), so wait passively unless the user chose.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  try {
    cached = createRequire(import.meta.url)(chosen.path) as NativeBinding;
    loadedFrom = chosen;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AddonLoadError(`torchfit's native addon at ${chosen.path} failed to load: ${reason}.${builtAgainst(chosen)} ${BUILD_HINT}`, {
      cause: error,
    });
  }
  return cached;
}

function builtAgainst(source: AddonSource): string {
  if (source.kind === 'prebuilt') {
    const record = readPrebuildRecord(prebuildPaths(packageRoot).record);
    return record ? ` This prebuilt addon was built against libtorch ${record.libtorchVersion} from ${record.torchSource} (${record.libDir}).` : '';
  }
  const record = source.kind === 'source' ? buildRecord(packageRoot) : undefined;
  return record?.libtorchVersion
    ? ` It was built against libtorch ${record.libtorchVersion} from ${record.source} (${record.libDir}); that libtorch may have been removed or replaced.`
    : '';
}
