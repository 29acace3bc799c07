/**
 * What a report is made of: the records the training side hands to
 * writeReport(), and what writeReport() returns.
 */
import type { NdArray } from '../data/ndarray.js';
import type { History, ModelSummary, StopReason } from '../torch/types.js';

/** Loss and accuracy (a fraction in [0, 1]) on one split. */
export interface LossAccuracy {
  loss: number;
  accuracy: number;
}

/** True and predicted class indices of one split, 0-based (the report shows them as the notebook's 1..5). */
export interface ReportPredictions {
  yTrue: Int32Array | number[];
  yPred: Int32Array | number[];
}

/** Time spent training one model. */
export interface ReportTimings {
  /** Mean training milliseconds per optimizer step. */
  msPerStep: number;
  /** Mean wall seconds per epoch (training and validation). */
  secondsPerEpoch: number;
  /** Wall seconds of the whole fit. */
  totalSeconds: number;
}

/** One trained model: everything the report shows about it. */
export interface ReportRun {
  /** Display name, unique within the report: 'CNN', 'ResNet v1 depth 2'. */
  name: string;
  summary: ModelSummary;
  history: History;
  /** 1-based epoch after which the run stopped before its last epoch, if it did. */
  stoppedEpoch?: number;
  /** Why it stopped there (trainModel's stopReason); without it the stop is reported as an early stop. */
  stopReason?: StopReason;
  /** Where it trained: 'cpu', 'cuda:0', ... */
  device: string;
  /** Final figures per split; heldOut is the separate test file, when evaluated. */
  final: {
    train: LossAccuracy;
    val: LossAccuracy;
    test: LossAccuracy;
    heldOut?: LossAccuracy & { numSamples: number };
  };
  /** Test-split predictions: the confusion matrix and classification report come from these. */
  test: ReportPredictions;
  /** Predictions on the held-out file, when evaluated. */
  heldOutPredictions?: ReportPredictions;
  /** The training options as given (shown as a table and kept in results.json). */
  options: Record<string, unknown>;
  timings: ReportTimings;
  /** trainModel's warnings for this run (e.g. the BatchNorm lag), shown beside its curves. */
  warnings?: ReportWarning[];
  /**
   * Set when the run trained on fewer images or epochs than the notebook's, saying how many
   * ('4,000 of 48,600 training images, 2 of 25 epochs'): the comparison then labels it a
   * subset instead of scoring it against the notebook's full-run figures.
   */
  subset?: string;
}

/** A warning of a training run, as trainModel gives it ({ code, message }). */
export interface ReportWarning {
  code: string;
  message: string;
}

/** The data set the runs were trained on. */
export interface ReportDataset {
  /** Path of the dataset file, as the user gave it. */
  file: string;
  /** Number of images in the file. */
  numSamples: number;
  /** Class names in label order (label 1 is classNames[0]). */
  classNames: string[];
  /** Sizes of the notebook's three splits. */
  split: { train: number; val: number; test: number };
  /** The first training images, (40,28,28) float32 in [0,1], for the sample grid. */
  sampleImages?: NdArray;
  /** Their labels as the notebook shows them: 1..5. */
  sampleLabels?: Int32Array | number[];
}

/** The machine and libraries the runs used. */
export interface ReportEnvironment {
  libtorchVersion: string;
  device: string;
  threads: number;
  node: string;
  platform: string;
}

/** Everything writeReport() needs, and what readReportInput() gives back from results.json. */
export interface ReportInput {
  /** Page title; default 'torchfit report: <run names>'. */
  title?: string;
  /** When the runs were made: a Date or an ISO 8601 string (stored as the string). */
  createdAt: string | Date;
  dataset: ReportDataset;
  runs: ReportRun[];
  environment?: ReportEnvironment;
  /** Options of the whole command (CLI flags, seeds, paths). */
  options?: Record<string, unknown>;
}

/** Paths writeReport() wrote, absolute. */
export interface ReportFiles {
  html: string;
  json: string;
  /** Every figure file (SVG and PNG), in the order the page shows them. */
  figures: string[];
}
