#!/usr/bin/env node
// How long BatchNorm's moving statistics take to settle: the notebook's CNN (or the ResNet) on
// the first --images training images of the notebook's split, validated on 2,000 of its
// validation images, for each --momentum (Keras's terms); prints training and validation
// accuracy after every epoch with the optimizer steps so far. The figures behind the
// BatchNorm-lag warning's threshold and --quick's settings (docs/training-data.md).
//   node scripts/bench/batchnorm-lag.mjs --images 6400 --epochs 12 --momentum 0.99,0.9
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';

import { labelsToZeroBased, loadDataset, notebookSplit, takeRows, trainModel } from '../../dist/index.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'data/fashion_mnist_dataset_train.npy' },
    model: { type: 'string', default: 'cnn' },
    images: { type: 'string', default: '6400' },
    'val-images': { type: 'string', default: '2000' },
    epochs: { type: 'string', default: '12' },
    'batch-size': { type: 'string', default: '128' },
    momentum: { type: 'string', default: '0.99,0.9' },
    threads: { type: 'string', default: '2' },
    seed: { type: 'string', default: '0' },
  },
});

const data = await loadDataset(values.data);
const labels = labelsToZeroBased(data.target);
const split = notebookSplit(data.features.shape[0], 0);
const part = (idx, n) => {
  const chosen = idx.subarray(0, n);
  return { x: takeRows(data.features, chosen), y: Int32Array.from(chosen, (i) => labels[i]) };
};
const train = part(split.train, Number(values.images));
const validation = part(split.val, Number(values['val-images']));
console.log(`load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}; ${values.model}, ${train.y.length} training images, ` +
  `${validation.y.length} validation images, batch ${values['batch-size']}, seed ${values.seed}`);
for (const momentum of values.momentum.split(',').map(Number)) {
  let steps = 0;
  const rows = [];
  const result = await trainModel({
    model: values.model === 'resnet' ? { kind: 'resnet', depth: 2 } : 'cnn', train, validation,
    epochs: Number(values.epochs), batchSize: Number(values['batch-size']), threads: Number(values.threads),
    seed: Number(values.seed), earlyStopping: false, batchNormMomentum: momentum,
    onEpochEnd: (log) => {
      steps += log.steps;
      rows.push(`  epoch ${String(log.epoch).padStart(2)}  steps ${String(steps).padStart(5)}  train ${(log.accuracy * 100).toFixed(1).padStart(5)} %  ` +
        `val ${(log.valAccuracy * 100).toFixed(1).padStart(5)} %`);
    },
  });
  console.log(`batchNormMomentum ${momentum} (${result.seconds.toFixed(0)} s)${result.warnings.length ? `; warnings: ${result.warnings.map((w) => w.code).join(', ')}` : ''}`);
  console.log(rows.join('\n'));
  result.model.dispose();
}
