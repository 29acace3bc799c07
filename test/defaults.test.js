// One set of defaults: what trainModel applies and what the command line's help says both come
// from src/torch/defaults.ts.
import test from 'ava';
import { execFileSync } from 'node:child_process';

import { trainModel } from '../dist/index.js';
import { TRAIN_DEFAULTS } from '../dist/torch/defaults.js';

const images = (n) => ({ dtype: 'float32', shape: [n, 28, 28], data: Float32Array.from({ length: n * 784 }, (_, i) => (i % 97) / 97) });
const labels = (n) => Int32Array.from({ length: n }, (_, i) => i % 5);

test('trainModel left to itself applies TRAIN_DEFAULTS (the notebook\'s CNN settings)', async (t) => {
  const { model, history } = await trainModel({ model: 'cnn', train: { x: images(10), y: labels(10) }, threads: 1 });
  t.teardown(() => model.dispose());
  const o = model.metadata.options;
  t.is(history.epoch.length, TRAIN_DEFAULTS.epochs, 'no validation data: no early stop, every default epoch runs');
  t.deepEqual([o.epochs, o.evalBatchSize, o.seed, o.shuffle, o.kernels, o.batchNormMomentum],
    [TRAIN_DEFAULTS.epochs, TRAIN_DEFAULTS.evalBatchSize, TRAIN_DEFAULTS.seed, TRAIN_DEFAULTS.shuffle, TRAIN_DEFAULTS.kernels, TRAIN_DEFAULTS.batchNormMomentum]);
  t.is(o.batchSize, 10, `the default batch (${TRAIN_DEFAULTS.batchSize}) shrinks to the 10 images`);
  t.deepEqual([o.optimizer.name, o.optimizer.learningRate], [TRAIN_DEFAULTS.optimizer.cnn, TRAIN_DEFAULTS.learningRate.sgd]);
  t.is(o.device, 'cpu');
});

test('the ResNet\'s defaults: Adam at its default rate, the default depth', async (t) => {
  const { model } = await trainModel({ model: 'resnet', train: { x: images(10), y: labels(10) }, epochs: 1, threads: 1 });
  t.teardown(() => model.dispose());
  const o = model.metadata.options;
  t.deepEqual([o.optimizer.name, o.optimizer.learningRate, o.model.depth],
    [TRAIN_DEFAULTS.optimizer.other, TRAIN_DEFAULTS.learningRate.adam, TRAIN_DEFAULTS.resnetDepth]);
});

test('the command line\'s help quotes the library\'s defaults', (t) => {
  const help = execFileSync(process.execPath, ['dist/cli.js', 'train', '--help'], { encoding: 'utf8' });
  for (const line of [
    `--epochs N           default ${TRAIN_DEFAULTS.epochs}`,
    `--batch-size N       default ${TRAIN_DEFAULTS.batchSize}`,
    `--seed N             default ${TRAIN_DEFAULTS.seed}`,
    `(default: ${TRAIN_DEFAULTS.learningRate.sgd} for SGD, ${TRAIN_DEFAULTS.learningRate.adam} for Adam)`,
    `patience on val_loss (default ${TRAIN_DEFAULTS.earlyStoppingPatience})`,
    `ResNet depth, 6n+2 (default ${TRAIN_DEFAULTS.resnetDepth})`,
  ]) t.true(help.includes(line), line);
});
