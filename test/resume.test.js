// initialEpoch: a run resumed at epoch k continues the same shuffles, learning rates,
// augmentation draws and optimizer state, so 2 epochs + 2 more equal 4 in one call, bit for
// bit, whether the model is kept in memory or loaded from a modelCheckpoint file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test from 'ava';

import { InvalidOptionError, Model, modelCheckpoint, trainModel } from '../dist/index.js';
import { realImages, withoutTimings } from './support/data.js';

const dir = mkdtempSync(join(tmpdir(), 'torchfit-resume-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const setup = async () => ({
  model: 'cnn', train: await realImages(512), validation: await realImages(128, 50_000), batchSize: 64, threads: 1, seed: 7,
  earlyStopping: false, lrSchedule: (epoch) => [0.05, 0.04, 0.03, 0.02][epoch],
});

test('epochs 2, then initialEpoch 2 to epochs 4 with resume, equals 4 epochs in one call', async (t) => {
  const options = await setup();
  const one = await trainModel({ ...options, epochs: 4 });
  const first = await trainModel({ ...options, epochs: 2 });
  const second = await trainModel({ ...options, epochs: 4, initialEpoch: 2, resume: first.model });
  t.deepEqual(withoutTimings(second.history), withoutTimings(one.history));
  t.deepEqual(second.history.learningRate, [0.05, 0.04, 0.03, 0.02], 'the schedule goes on from epoch 3');
  t.deepEqual((await second.model.predict(options.validation.x)).data, (await one.model.predict(options.validation.x)).data);
  // The loop of one-epoch calls (no initialEpoch: the resumed model's epochs count) gives the same run.
  let model;
  for (let i = 0; i < 4; i++) model = (await trainModel({ ...options, epochs: 1, ...(model ? { resume: model } : {}) })).model;
  t.deepEqual(withoutTimings(model.metadata.history), withoutTimings(one.history));
  for (const m of [one.model, first.model, model]) m.dispose();
});

test('resuming from a checkpoint file (Adam moments and step count in it) with augmentation equals the uninterrupted run', async (t) => {
  const options = {
    model: { kind: 'resnet', depth: 2 }, train: await realImages(512), batchSize: 64, threads: 1, seed: 11,
    augment: { horizontalFlip: true, widthShift: 0.1 },
  };
  const path = join(dir, 'r-{epoch}.pt');
  const one = await trainModel({ ...options, epochs: 4, callbacks: [modelCheckpoint({ path, monitor: 'loss' })] });
  const loaded = await Model.load(join(dir, 'r-2.pt'));
  t.deepEqual(loaded.metadata.history.epoch, [1, 2]);
  const resumed = await trainModel({ ...options, epochs: 4, initialEpoch: 2, resume: loaded });
  t.deepEqual(withoutTimings(resumed.history), withoutTimings(one.history));
  t.deepEqual((await resumed.model.predict(options.train.x)).data, (await one.model.predict(options.train.x)).data);
  // Not a vacuous comparison: starting over at epoch 3 from scratch is another run.
  const fresh = await trainModel({ ...options, epochs: 4, initialEpoch: 2 });
  t.notDeepEqual(fresh.history.loss, one.history.loss.slice(2));
  for (const m of [one.model, loaded, fresh.model]) m.dispose();
});

test('a resumed model on another device than the training one is refused in TypeScript, before any native work', async (t) => {
  const options = await setup();
  const first = await trainModel({ ...options, epochs: 1 });
  // A CPU-only machine has no second device: the handle reports one, as a model trained on a GPU would.
  const elsewhere = Object.create(first.model, { device: { get: () => 'cuda:0' } });
  const error = await t.throwsAsync(trainModel({ ...options, epochs: 1, device: 'cpu', resume: elsewhere }), { instanceOf: InvalidOptionError });
  t.is(error?.code, 'ERR_INVALID_OPTION');
  t.is(error?.option, 'resume');
  t.is(error?.message, "Invalid option resume: expected a Model on cpu, the device this run trains on (set device: 'cuda:0' to train it where it is), received a Model on cuda:0");
  first.model.dispose();
});
