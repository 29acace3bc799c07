/**
 * The notebook's dataset files: building them from Debian's Fashion-MNIST IDX
 * files (10 classes grouped into 5), and loading and validating them.
 */
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError, InvalidOptionError } from '../errors.js';
import { readIdxImages, readIdxLabels } from './idx.js';
import { isNdArray, type NdArray } from './ndarray.js';
import { loadNpy } from './npy-read.js';
import { saveNpy } from './npy-write.js';

/** Where Debian's dataset-fashion-mnist package installs the IDX files. */
export const DEFAULT_SOURCE_DIR = '/usr/share/datasets/fashion-mnist';

/** File names the notebook uses. */
export const DATASET_FILES = {
  train: 'fashion_mnist_dataset_train.npy',
  test: 'fashion_mnist_dataset_test.npy',
} as const;

/** Fashion-MNIST's 10 class names, by class index. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

/** One class of the built dataset: its label, its name and the Fashion-MNIST classes it gathers. */
export interface ClassGroup {
  label: number;
  name: string;
  classes: readonly number[];
}

/** The 5 balanced classes of the notebook's data set (12,000 training images each): pairs of Fashion-MNIST classes. */
export const DEFAULT_GROUPING: readonly ClassGroup[] = [
  { label: 1, name: 'Tops', classes: [0, 6] },
  { label: 2, name: 'Trousers & dresses', classes: [1, 3] },
  { label: 3, name: 'Pullovers & coats', classes: [2, 4] },
  { label: 4, name: 'Sandals & sneakers', classes: [5, 7] },
  { label: 5, name: 'Bags & boots', classes: [8, 9] },
];

/** Options of {@link buildDataset}. */
export interface BuildDatasetOptions {
  /** Folder with the four `*-idx?-ubyte.gz` files (default Debian's). */
  sourceDir?: string;
  /** Folder to write the two .npy files to, created if missing (default 'data'). */
  outDir?: string;
  /** Labels 1..k, their names and source classes (default {@link DEFAULT_GROUPING}). */
  grouping?: readonly ClassGroup[];
  /** Rebuild even when valid files already exist (default false). */
  force?: boolean;
}

/** What {@link buildDataset} did. */
export interface BuildDatasetResult {
  trainPath: string;
  testPath: string;
  /** False when valid files were already there and nothing was written. */
  built: boolean;
  /** Images per label, label 1 first, for each file. */
  counts: { train: number[]; test: number[] };
}

/** A loaded dataset file, in the notebook's format. */
export interface Dataset {
  /** float32, shape [N, H, W] (Fashion-MNIST: [N, 28, 28]), values in [0, 1]. */
  features: NdArray;
  /** Labels, shape [N] (float64 1..5 in our files). */
  target: NdArray;
  /** `class_names`: the name of label i + 1 at index i, when the file has them. */
  classNames?: string[];
}

const PARTS = [
  { key: 'train', images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  { key: 'test', images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
] as const;

/**
 * Writes `fashion_mnist_dataset_train.npy` (60,000 images) and
 * `fashion_mnist_dataset_test.npy` (10,000) to `outDir`: each a 0-d object
 * array holding `{'features': float32 (N,28,28) = pixel/255, 'target': float64
 * labels, 'class_names': [str]}`, images in their original order. Skips the
 * work when both files exist and match the sources' labels (unless `force`).
 * Writes are atomic.
 *
 * @example
 * const r = await buildDataset({ outDir: 'data' });
 * r.counts.train; // [12000, 12000, 12000, 12000, 12000]
 */
export async function buildDataset(options: BuildDatasetOptions = {}): Promise<BuildDatasetResult> {
  const { sourceDir = DEFAULT_SOURCE_DIR, outDir = 'data', grouping = DEFAULT_GROUPING, force = false } = options;
  if (typeof sourceDir !== 'string' || sourceDir === '') throw new InvalidOptionError('sourceDir', 'a folder path', sourceDir);
  if (typeof outDir !== 'string' || outDir === '') throw new InvalidOptionError('outDir', 'a folder path', outDir);
  if (typeof force !== 'boolean') throw new InvalidOptionError('force', 'a boolean', force);
  const { classToLabel, names } = checkGrouping(grouping);
  const trainPath = join(outDir, DATASET_FILES.train);
  const testPath = join(outDir, DATASET_FILES.test);
  const paths = { train: trainPath, test: testPath };
  await requireSources(sourceDir);

  const targets = {
    train: groupLabels(await readIdxLabels(join(sourceDir, PARTS[0].labels)), classToLabel, join(sourceDir, PARTS[0].labels)),
    test: groupLabels(await readIdxLabels(join(sourceDir, PARTS[1].labels)), classToLabel, join(sourceDir, PARTS[1].labels)),
  };
  const counts = { train: countLabels(targets.train, names.length), test: countLabels(targets.test, names.length) };

  if (!force && (await isUpToDate(trainPath, targets.train, names)) && (await isUpToDate(testPath, targets.test, names))) {
    return { trainPath, testPath, built: false, counts };
  }
  await mkdir(outDir, { recursive: true });
  for (const part of PARTS) {
    const imagesPath = join(sourceDir, part.images);
    const images = await readIdxImages(imagesPath);
    const target = targets[part.key];
    const [n, rows, cols] = images.shape as [number, number, number];
    if (n !== target.length) {
      throw new DatasetError(imagesPath, `has ${n} images but ${part.labels} has ${target.length} labels`);
    }
    if (rows !== 28 || cols !== 28) throw new DatasetError(imagesPath, `images are ${rows}x${cols}, expected 28x28`);
    await saveNpy(paths[part.key], {
      features: { dtype: 'float32', shape: [n, rows, cols], data: scalePixels(images.data as Uint8Array) },
      target: { dtype: 'float64', shape: [n], data: target },
      class_names: names,
    });
  }
  return { trainPath, testPath, built: true, counts };
}

/**
 * Loads a dataset file in the notebook's format (what
 * `np.load(path, allow_pickle=True)[()]` returns) and checks it: a dict with a
 * float32 `features` of shape [N, H, W], a 1-d numeric `target` of length N and
 * optional `class_names` (a list of str). Throws DatasetError naming the file
 * and the field otherwise. The arrays view the file's bytes (no copies).
 *
 * @example
 * const { features, target, classNames } = await loadDataset('data/fashion_mnist_dataset_train.npy');
 */
export async function loadDataset(path: string): Promise<Dataset> {
  if (typeof path !== 'string' || path === '') throw new InvalidOptionError('path', 'a file path', path);
  let value;
  try {
    value = await loadNpy(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DatasetError(path, 'file not found (build it with buildDataset() or `torchfit dataset`)');
    }
    throw e;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isNdArray(value) || value instanceof Uint8Array || value instanceof Set) {
    throw new DatasetError(path, "expected a pickled dict {'features', 'target', 'class_names'} in a 0-d object array");
  }
  const dict = value as Record<string, unknown>;
  for (const field of ['features', 'target']) {
    if (!Object.hasOwn(dict, field)) throw new DatasetError(path, 'missing field', field);
    if (!isNdArray(dict[field])) throw new DatasetError(path, 'expected a numpy array', field);
  }
  const features = dict.features as NdArray;
  const target = dict.target as NdArray;
  if (features.dtype !== 'float32' || features.shape.length !== 3) {
    throw new DatasetError(path, `expected float32 of shape (N, H, W), got ${features.dtype} (${features.shape.join(', ')})`, 'features');
  }
  if (target.shape.length !== 1 || target.shape[0] !== features.shape[0] || target.dtype === 'float16') {
    throw new DatasetError(path, `expected a numeric array of shape (${features.shape[0]},) matching features, got ${target.dtype} (${target.shape.join(', ')})`, 'target');
  }
  const out: Dataset = { features, target };
  if (Object.hasOwn(dict, 'class_names')) {
    const names = dict.class_names;
    if (!Array.isArray(names) || !names.every((s) => typeof s === 'string')) {
      throw new DatasetError(path, 'expected a list of str', 'class_names');
    }
    out.classNames = names as string[];
  }
  return out;
}

function checkGrouping(grouping: readonly ClassGroup[]): { classToLabel: Map<number, number>; names: string[] } {
  if (!Array.isArray(grouping) || grouping.length === 0) throw new InvalidOptionError('grouping', 'a non-empty array of { label, name, classes }', grouping);
  const classToLabel = new Map<number, number>();
  const names: string[] = new Array<string>(grouping.length);
  grouping.forEach((g, i) => {
    const where = `grouping[${i}]`;
    if (typeof g !== 'object' || g === null) throw new InvalidOptionError(where, 'an object { label, name, classes }', g);
    if (!Number.isInteger(g.label) || g.label < 1 || g.label > grouping.length) {
      throw new InvalidOptionError(`${where}.label`, `an integer in [1, ${grouping.length}] (labels are 1..k)`, g.label);
    }
    if (names[g.label - 1] !== undefined) throw new InvalidOptionError(`${where}.label`, 'a label no other group uses', g.label);
    if (typeof g.name !== 'string' || g.name === '') throw new InvalidOptionError(`${where}.name`, 'a non-empty string', g.name);
    names[g.label - 1] = g.name;
    if (!Array.isArray(g.classes) || g.classes.length === 0) throw new InvalidOptionError(`${where}.classes`, 'a non-empty array of class indices', g.classes);
    for (const c of g.classes) {
      if (!Number.isInteger(c) || c < 0 || c > 255) throw new InvalidOptionError(`${where}.classes`, 'class indices in [0, 255]', c);
      if (classToLabel.has(c)) throw new InvalidOptionError(`${where}.classes`, `classes that appear in one group only (class ${c} repeats)`, c);
      classToLabel.set(c, g.label);
    }
  });
  return { classToLabel, names };
}

async function requireSources(sourceDir: string): Promise<void> {
  for (const part of PARTS) {
    for (const f of [part.images, part.labels]) {
      try {
        await access(join(sourceDir, f));
      } catch {
        throw new DatasetError(join(sourceDir, f), 'Fashion-MNIST source file not found (on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist, or pass sourceDir)');
      }
    }
  }
}

function groupLabels(labels: NdArray, classToLabel: Map<number, number>, file: string): Float64Array {
  const src = labels.data as Uint8Array;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const label = classToLabel.get(src[i]!);
    if (label === undefined) throw new DatasetError(file, `image ${i} has class ${src[i]}, which no group of the grouping includes`);
    out[i] = label;
  }
  return out;
}

function countLabels(target: Float64Array, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (const t of target) counts[t - 1]!++;
  return counts;
}

/** pixel / 255 in float32, as numpy's `x.astype(np.float32) / 255` (exact: the division is correctly rounded either way). */
function scalePixels(pixels: Uint8Array): Float32Array {
  const lut = new Float32Array(256);
  for (let i = 0; i < 256; i++) lut[i] = i / 255;
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = lut[pixels[i]!]!;
  return out;
}

/** True when `path` loads as a dataset whose target and class names equal what we would write. */
async function isUpToDate(path: string, target: Float64Array, names: string[]): Promise<boolean> {
  let d: Dataset;
  try {
    d = await loadDataset(path);
  } catch {
    return false;
  }
  const t = d.target.data;
  if (d.features.shape[1] !== 28 || d.features.shape[2] !== 28 || t.length !== target.length) return false;
  if (d.classNames === undefined || d.classNames.length !== names.length || d.classNames.some((n, i) => n !== names[i])) return false;
  for (let i = 0; i < target.length; i++) if (Number(t[i]) !== target[i]) return false;
  return true;
}
