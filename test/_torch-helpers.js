// Shared by the training tests: small real Fashion-MNIST subsets from the dataset file setup builds.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { labelsToZeroBased, loadDataset, takeRows } from '../dist/index.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const trainFile = join(root, 'data', 'fashion_mnist_dataset_train.npy');

let cached;
/** The first `n` images from offset `start` of the 60,000, with labels 0..4. */
export async function realImages(n, start = 0) {
  if (!existsSync(trainFile)) throw new Error(`${trainFile} is missing: run npm run setup`);
  cached ??= await loadDataset(trainFile);
  const idx = Int32Array.from({ length: n }, (_, i) => start + i);
  const x = takeRows(cached.features, idx);
  const labels = labelsToZeroBased(cached.target);
  const y = Int32Array.from(idx, (i) => labels[i]);
  return { x, y };
}

/** History without the wall-clock fields, for determinism checks. */
export function withoutTimings(history) {
  const { seconds, msPerStep, ...rest } = history;
  return rest;
}
