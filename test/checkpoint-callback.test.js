// modelCheckpoint in real runs: files only where Keras writes them, each holding that epoch's
// model (Model.load reads it back to the same validation figures), written atomically.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test from 'ava';

import { liveTensors, Model, modelCheckpoint, TrainingError, trainModel } from '../dist/index.js';
import { realImages } from './support/data.js';

const root = mkdtempSync(join(tmpdir(), 'torchfit-ckpt-cb-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));

const data = async () => ({
  train: await realImages(512),
  validation: await realImages(256, 50_000),
});

test.serial('saveBestOnly writes exactly the epochs whose val_loss beat the best so far, each loadable with that epoch\'s weights', async (t) => {
  const { train, validation } = await data();
  const dir = join(root, 'best', 'nested');  // missing folders are created, as Keras does
  const before = liveTensors();
  const result = await trainModel({
    model: 'cnn', train, validation, epochs: 6, batchSize: 32, threads: 1, seed: 1, earlyStopping: false,
    // A high rate makes val_loss move both ways on this small run.
    optimizer: { name: 'sgd', learningRate: 0.2 },
    callbacks: [modelCheckpoint({ path: join(dir, 'cnn-{epoch:02d}-{val_loss:.3f}.pt'), saveBestOnly: true })],
  });
  const improved = [];
  let best = Infinity;
  result.history.valLoss.forEach((v, i) => {
    if (v < best) {
      best = v;
      improved.push(i + 1);
    }
  });
  t.true(improved.length < 6, `some epoch did not improve: ${result.history.valLoss}`);
  const expected = improved.map((e) => `cnn-${String(e).padStart(2, '0')}-${result.history.valLoss[e - 1].toFixed(3)}.pt`);
  t.deepEqual(readdirSync(dir).sort(), expected, 'no other file, no temporary left behind');
  for (const epoch of improved) {
    const loaded = await Model.load(join(dir, expected[improved.indexOf(epoch)]));
    const again = await loaded.evaluate(validation.x, validation.y);
    t.is(again.loss, result.history.valLoss[epoch - 1], `the file of epoch ${epoch} holds that epoch's model`);
    t.deepEqual(loaded.metadata.history.epoch, Array.from({ length: epoch }, (_, i) => i + 1), 'its history ends at that epoch');
    t.deepEqual(loaded.metadata.history.valLoss, result.history.valLoss.slice(0, epoch));
    t.is(loaded.metadata.options.callbacks[0].path, join(dir, 'cnn-{epoch:02d}-{val_loss:.3f}.pt'));
    loaded.dispose();
  }
  result.model.dispose();
  t.is(liveTensors(), before);
});

test.serial('every epoch without saveBestOnly; saveWeightsOnly leaves the optimizer out; the last file predicts as the returned model', async (t) => {
  const { train } = await data();
  const dir = join(root, 'every');
  const result = await trainModel({
    model: { kind: 'resnet', depth: 2 }, train, epochs: 3, batchSize: 128, threads: 1,
    callbacks: [
      modelCheckpoint({ path: join(dir, 'full-{epoch}.pt'), monitor: 'loss' }),
      modelCheckpoint({ path: join(dir, 'weights.pt'), monitor: 'loss', saveWeightsOnly: true }),
    ],
  });
  t.deepEqual(readdirSync(dir).sort(), ['full-1.pt', 'full-2.pt', 'full-3.pt', 'weights.pt']);
  const full = await Model.load(join(dir, 'full-3.pt'));
  const weights = await Model.load(join(dir, 'weights.pt'));
  t.true(full.handle.config().hasOptimizerState);
  t.false(weights.handle.config().hasOptimizerState);
  const expected = (await result.model.predict(train.x)).data;
  t.deepEqual((await full.predict(train.x)).data, expected);
  t.deepEqual((await weights.predict(train.x)).data, expected, 'the one file, replaced every epoch, ends with the last');
  full.dispose();
  weights.dispose();
  result.model.dispose();
});

test.serial('a checkpoint that cannot be written rejects the run with ERR_CHECKPOINT naming the path', async (t) => {
  const { train } = await data();
  const blocker = join(root, 'a-file');
  writeFileSync(blocker, 'not a folder');
  const before = liveTensors();
  const error = await t.throwsAsync(trainModel({
    model: { kind: 'resnet', depth: 2 }, train, epochs: 2, batchSize: 128, threads: 1,
    callbacks: [modelCheckpoint({ path: join(blocker, 'm.pt'), monitor: 'loss' })],
  }), { instanceOf: TrainingError });
  t.is(error.code, 'ERR_CHECKPOINT');
  t.true(error.message.startsWith(`${join(blocker, 'm.pt')}: cannot create its folder: `), error.message);
  t.is(liveTensors(), before);
});
