import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CheckpointError, Model, trainModel } from '../dist/index.js';
import { realImages } from './support/data.js';

const dir = mkdtempSync(join(tmpdir(), 'torchfit-ckpt-'));

test('save then load gives the same predictions, metadata and history', async (t) => {
  const train = await realImages(512);
  const { model } = await trainModel({ model: 'cnn', train, epochs: 1, threads: 1 });
  const path = join(dir, 'cnn.pt');
  await model.save(path);
  const loaded = await Model.load(path, { device: 'cpu' });
  t.deepEqual(loaded.config, model.config);
  t.deepEqual(loaded.metadata.history, model.metadata.history);
  t.deepEqual((await loaded.predict(train.x)).data, (await model.predict(train.x)).data);
  t.deepEqual(loaded.summary(), model.summary());
  model.dispose();
  loaded.dispose();
});

test('a truncated checkpoint gives a CheckpointError', async (t) => {
  const train = await realImages(256);
  const { model } = await trainModel({ model: { kind: 'resnet', depth: 2 }, train, epochs: 1, threads: 1 });
  const path = join(dir, 'full.pt');
  await model.save(path);
  model.dispose();
  const bytes = readFileSync(path);
  const truncated = join(dir, 'truncated.pt');
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const error = await t.throwsAsync(Model.load(truncated), { instanceOf: CheckpointError });
  t.is(error.code, 'ERR_CHECKPOINT');
  t.true(error.message.startsWith(truncated), error.message);
  const garbage = join(dir, 'garbage.pt');
  writeFileSync(garbage, Buffer.from('definitely not a zip archive'));
  t.regex((await t.throwsAsync(Model.load(garbage), { instanceOf: CheckpointError })).message, /bad magic/);
  t.regex((await t.throwsAsync(Model.load(join(dir, 'missing.pt')), { instanceOf: CheckpointError })).message, /cannot open/);
});

test('a failed save leaves the previous file intact and no temporary file', async (t) => {
  const train = await realImages(256);
  const { model } = await trainModel({ model: { kind: 'resnet', depth: 2 }, train, epochs: 1, threads: 1 });
  const error = await t.throwsAsync(model.save(join(dir, 'no-such-folder', 'm.pt')));
  t.is(error.code, 'ERR_CHECKPOINT');
  t.false(existsSync(join(dir, 'no-such-folder')));
  model.dispose();
});

test('resume continues training with the optimizer state and extends the history', async (t) => {
  const train = await realImages(512);
  const first = await trainModel({ model: { kind: 'resnet', depth: 2 }, train, epochs: 1, threads: 1 });
  const path = join(dir, 'resume.pt');
  await first.model.save(path);
  const loaded = await Model.load(path);
  const second = await trainModel({ model: { kind: 'resnet', depth: 2 }, train, epochs: 2, threads: 1, resume: loaded });
  t.deepEqual(second.history.epoch, [1, 2, 3]);
  t.is(second.history.loss[0], first.history.loss[0]);
  t.true(second.history.loss[2] < second.history.loss[0]);
  t.is(second.model, loaded);
  first.model.dispose();
  loaded.dispose();
});
