// What the interleaved A/B benchmarks share: their command-line options, the model they name,
// and the first rows of the notebook's training split.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

import { labelsToZeroBased, loadDataset, notebookSplit, takeRows } from '../../dist/index.js';

/** --data --model --depth --rounds --steps --batch-size --threads, with this script's rounds. */
export function abOptions({ rounds }) {
  return parseArgs({
    options: {
      data: { type: 'string', default: 'data/fashion_mnist_dataset_train.npy' },
      model: { type: 'string', default: 'cnn' },
      depth: { type: 'string', default: '2' },
      rounds: { type: 'string', default: String(rounds) },
      steps: { type: 'string', default: '20' },
      'batch-size': { type: 'string', default: '128' },
      threads: { type: 'string', default: String(availableParallelism()) },
    },
  }).values;
}

/** trainModel's `model` for --model cnn|resnet and --depth. */
export const modelChoice = (values) => (values.model === 'cnn' ? 'cnn' : { kind: 'resnet', depth: Number(values.depth) });

/** The first `count` rows of the notebook's training split, labels 0-based. */
export async function trainingRows(path, count) {
  const data = await loadDataset(path);
  const labels = labelsToZeroBased(data.target);
  const idx = notebookSplit(data.features.shape[0], 0).train.subarray(0, count);
  return { x: takeRows(data.features, idx), y: Int32Array.from(idx, (i) => labels[i]) };
}
