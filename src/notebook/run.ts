/**
 * The notebook end to end: load, shift labels, split as scikit-learn does,
 * train the CNN and the ResNet, evaluate, save both models and write the report.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism, platform } from 'node:os';
import { join, resolve } from 'node:path';

import { loadDataset, type Dataset } from '../data/dataset.js';
import { labelsToZeroBased } from '../data/categorical.js';
import type { NdArray } from '../data/ndarray.js';
import { takeRows } from '../data/rows.js';
import { notebookSplit } from '../data/split.js';
import { writeReport } from '../report/report.js';
import { imageFolderDataset, type ImageFolderSource } from './image-dataset.js';
import type { ReportInput, ReportRun } from '../report/types.js';
import { TRAIN_DEFAULTS } from '../torch/defaults.js';
import { info } from '../torch/info.js';
import type { DistributedOptions } from '../torch/distributed.js';
import type { Model } from '../torch/model.js';
import type { OptimizerOptions } from '../torch/options.js';
import { checkTrainOptions, trainModel, type TrainOptions } from '../torch/train.js';

export interface NotebookOptions {
  data: string;
  /** Train on an image folder (dir/<class>/<images>) instead of the dataset file; no held-out file then. */
  images?: ImageFolderSource;
  /** The 10,000-image held-out file, evaluated when it exists. */
  heldOut?: string;
  models: ('cnn' | 'resnet')[];
  // Left out, each of these is trainModel's own default (src/torch/defaults.ts).
  depth?: number;
  epochs?: number;
  batchSize?: number;
  /** Per model when not given: SGD for the CNN, Adam for the ResNet. */
  optimizer?: 'sgd' | 'adam';
  learningRate?: number;
  /** The CNN's EarlyStopping patience on val_loss. */
  patience?: number;
  seed?: number;
  device?: 'auto' | 'cpu' | 'cuda' | `cuda:${number}`;
  threads?: number;
  /** trainModel's kernels option (default 'fused'). */
  kernels?: 'fused' | 'plain';
  out: string;
  /** Train on the first N training images only (and evaluate on N/4), for a first look. */
  limit?: number;
  /** trainModel's batchNormMomentum per model (Keras's terms; default 0.99). */
  batchNormMomentum?: Partial<Record<'cnn' | 'resnet', number>>;
  verbose?: 0 | 1 | 2;
  log?: (line: string) => void;
  /**
   * Train as one rank of a data-parallel run (batchSize per rank). Every rank trains;
   * only rank 0 evaluates, saves the models and writes the report.
   */
  distributed?: DistributedOptions;
}

export interface NotebookResult {
  dir: string;
  html: string;
  json: string;
  report: ReportInput;
}

const MODEL_NAMES = { cnn: 'CNN', resnet: 'ResNet v1' } as const;

function shape(a: NdArray): string {
  return `(${a.shape.join(', ')})`;
}

function subset(dataset: Dataset, labels: Int32Array, indices: Int32Array, limit?: number) {
  const chosen = limit !== undefined && limit < indices.length ? indices.subarray(0, limit) : indices;
  const x = takeRows(dataset.features, chosen);
  const y = Int32Array.from(chosen, (i) => labels[i]!);
  return { x, y };
}

/**
 * Runs the notebook and writes `out/report.html`, `out/results.json` and the
 * trained models (`out/cnn.pt`, `out/resnet.pt`). With `distributed`, ranks other
 * than 0 only train and resolve with null.
 */
export async function runNotebook(options: NotebookOptions): Promise<NotebookResult | null> {
  const log = options.log ?? ((line: string) => console.log(line));
  const rank = options.distributed?.rank ?? 0;
  const writer = rank === 0;
  // Every training option is checked (by trainModel's own rules) before the data is read.
  // (`validation` stands for the validation split every run has.)
  for (const kind of options.models) checkTrainOptions({ ...trainOptionsFor(kind, options, writer), validation: {} as never });
  const runtime = info();
  const loadStart = performance.now();
  const source = options.images?.dir ?? options.data;
  const dataset = options.images ? await imageFolderDataset(options.images, log) : await loadDataset(options.data);
  log(`Loaded ${source} in ${((performance.now() - loadStart) / 1000).toFixed(2)} s: features ${shape(dataset.features)}, target ${shape(dataset.target)}`);
  const labels = labelsToZeroBased(dataset.target);  // the notebook's `y - 1`
  const n = dataset.features.shape[0]!;
  const split = notebookSplit(n, 0);
  const evalLimit = options.limit !== undefined ? Math.max(100, Math.floor(options.limit / 4)) : undefined;
  const train = subset(dataset, labels, split.train, options.limit);
  const val = subset(dataset, labels, split.val, evalLimit);
  const test = subset(dataset, labels, split.test, evalLimit);
  log(`x_train ${shape(train.x)}, x_val ${shape(val.x)}, x_test ${shape(test.x)}` + (options.limit ? ` (--quick/--limit subset)` : ''));
  const subsetRun = subsetOf(train.y.length, split.train.length, options.epochs ?? TRAIN_DEFAULTS.epochs);

  let heldOut: { x: NdArray; y: Int32Array } | undefined;
  if (writer && !options.images && options.heldOut && existsSync(options.heldOut)) {
    const extra = await loadDataset(options.heldOut);
    const all = Int32Array.from({ length: extra.features.shape[0]! }, (_, i) => i);
    heldOut = subset(extra, labelsToZeroBased(extra.target), all, evalLimit);
    log(`Held-out file ${options.heldOut}: ${shape(heldOut.x)}`);
  }

  const dir = resolve(options.out);
  if (writer) await mkdir(dir, { recursive: true });
  const runs: ReportRun[] = [];
  for (const kind of options.models) {
    const name = kind === 'cnn' ? MODEL_NAMES.cnn : `${MODEL_NAMES.resnet} depth ${options.depth ?? TRAIN_DEFAULTS.resnetDepth}`;
    log(`\n=== ${name} ===`);
    const result = await trainModel({
      ...trainOptionsFor(kind, options, writer),
      train,
      validation: val,
      numClasses: dataset.classNames?.length ?? 5,
    });
    const model = result.model;
    if (!writer) {
      log(`${name}: rank ${rank} trained ${result.history.epoch.length} epoch(s) in ${result.seconds.toFixed(1)} s; rank 0 evaluates, saves and reports`);
      model.dispose();
      continue;
    }
    const testEval = await model.evaluate(test.x, test.y);
    const yPred = await model.predictClasses(test.x);
    log(`${name} test accuracy: ${(testEval.accuracy * 100).toFixed(2)} % (loss ${testEval.loss.toFixed(4)}), trained in ${result.seconds.toFixed(1)} s on ${result.device}`);
    let heldOutEval: ({ loss: number; accuracy: number; numSamples: number }) | undefined;
    let heldOutPredictions: ReportRun['heldOutPredictions'];
    if (heldOut) {
      const e = await model.evaluate(heldOut.x, heldOut.y);
      heldOutEval = { ...e, numSamples: heldOut.y.length };
      heldOutPredictions = { yTrue: heldOut.y, yPred: await model.predictClasses(heldOut.x) };
      log(`${name} held-out accuracy: ${(e.accuracy * 100).toFixed(2)} % on ${heldOut.y.length} images`);
    }
    await model.save(join(dir, `${kind}.pt`));
    runs.push({ ...toReportRun(name, model, result, testEval, { yTrue: test.y, yPred }, heldOutEval, heldOutPredictions),
      ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}), ...(subsetRun ? { subset: subsetRun } : {}) });
    model.dispose();
  }

  if (!writer) return null;
  const report: ReportInput = {
    title: options.images ? `Image folder ${options.images.dir} (${dataset.classNames?.length} classes): CNN and ResNet v1 on libtorch from Node.js`
      : 'Fashion-MNIST (5 classes): CNN and ResNet v1 on libtorch from Node.js',
    createdAt: new Date().toISOString(),
    dataset: {
      file: source,
      numSamples: n,
      classNames: dataset.classNames ?? ['1', '2', '3', '4', '5'],
      split: { train: train.y.length, val: val.y.length, test: test.y.length },
      sampleImages: takeRows(train.x, Int32Array.from({ length: Math.min(40, train.y.length) }, (_, i) => i)),
      sampleLabels: Int32Array.from(train.y.subarray(0, 40), (v) => v + 1),
    },
    runs,
    environment: {
      libtorchVersion: runtime.libtorchVersion,
      device: runs[0]?.device ?? 'cpu',
      // As trained (trainModel's default when not given).
      threads: Number(runs[0]?.options.threads ?? options.threads ?? availableParallelism()),
      node: process.version,
      platform: `${platform()} ${process.arch}, ${availableParallelism()} cores`,
    },
    options: { ...options, log: undefined },
  };
  const files = await writeReport(report, dir);
  return { dir, html: files.html, json: files.json, report };
}

/** trainModel's options for one of the notebook's models, without the data. */
function trainOptionsFor(kind: 'cnn' | 'resnet', options: NotebookOptions, writer: boolean): Omit<TrainOptions, 'train'> {
  // Only what was given: trainModel fills in the rest with its own (the notebook's) defaults.
  const optimizer: OptimizerOptions | undefined = options.optimizer !== undefined || options.learningRate !== undefined ? {
    name: options.optimizer ?? (kind === 'cnn' ? TRAIN_DEFAULTS.optimizer.cnn : TRAIN_DEFAULTS.optimizer.other),
    ...(options.learningRate !== undefined ? { learningRate: options.learningRate } : {}),
  } : undefined;
  const momentum = options.batchNormMomentum?.[kind];
  const given = <K extends keyof NotebookOptions>(key: K) => (options[key] !== undefined ? { [key]: options[key] } : {});
  return {
    model: kind === 'cnn' ? 'cnn' : { kind: 'resnet', ...(options.depth !== undefined ? { depth: options.depth } : {}) },
    ...given('epochs'), ...given('batchSize'), ...given('seed'), ...given('device'), ...given('threads'),
    ...(optimizer ? { optimizer } : {}),
    // The notebook stops the CNN early on val_loss, trainModel's default for the CNN; its ResNet runs every epoch.
    ...(kind === 'cnn' && options.patience !== undefined ? { earlyStopping: { monitor: 'val_loss', patience: options.patience } } : {}),
    // One progress display is enough: the ranks share one history.
    verbose: writer ? options.verbose ?? 1 : 0,
    ...(options.distributed ? { distributed: options.distributed } : {}),
    ...(options.kernels ? { kernels: options.kernels } : {}),
    ...(momentum !== undefined ? { batchNormMomentum: momentum } : {}),
  };
}

/** The notebook trains 25 epochs on its whole training split; a run with fewer of either is a subset. */
export const NOTEBOOK_EPOCHS = 25;
function subsetOf(images: number, allImages: number, epochs: number): string | undefined {
  if (images >= allImages && epochs >= NOTEBOOK_EPOCHS) return undefined;
  const n = (x: number) => x.toLocaleString('en-US');
  return `${images < allImages ? `${n(images)} of ${n(allImages)}` : `all ${n(allImages)}`} training images, ` +
    `${epochs < NOTEBOOK_EPOCHS ? `${epochs} of ${NOTEBOOK_EPOCHS}` : String(epochs)} epochs`;
}

function toReportRun(
  name: string,
  model: Model,
  result: Awaited<ReturnType<typeof trainModel>>,
  testEval: { loss: number; accuracy: number },
  test: { yTrue: Int32Array; yPred: Int32Array },
  heldOut: ({ loss: number; accuracy: number; numSamples: number }) | undefined,
  heldOutPredictions: ReportRun['heldOutPredictions'],
): ReportRun {
  const h = result.history;
  const last = h.epoch.length - 1;
  // Median over epochs, the first excluded when there are others (it carries warm-up).
  const median = (values: number[]) => {
    const v = (values.length > 1 ? values.slice(1) : values).slice().sort((a, b) => a - b);
    return v.length === 0 ? 0 : v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  return {
    name,
    summary: model.summary(),
    history: h,
    ...(result.stoppedEpoch !== undefined ? { stoppedEpoch: result.stoppedEpoch, stopReason: result.stopReason } : {}),
    device: result.device,
    final: {
      train: { loss: h.loss[last]!, accuracy: h.accuracy[last]! },
      val: { loss: h.valLoss[last]!, accuracy: h.valAccuracy[last]! },
      test: testEval,
      ...(heldOut ? { heldOut } : {}),
    },
    test,
    ...(heldOutPredictions ? { heldOutPredictions } : {}),
    options: (model.metadata.options ?? {}) as Record<string, unknown>,
    timings: { msPerStep: median(h.msPerStep), secondsPerEpoch: median(h.seconds), totalSeconds: result.seconds },
  };
}
