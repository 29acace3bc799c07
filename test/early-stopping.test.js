import test from 'ava';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { earlyStopping, Model, modelCheckpoint, trainModel } from '../dist/index.js';
import { native } from '../dist/torch/native.js';
import { realImages } from './support/data.js';

const trace = (values, options = {}) => native()._earlyStoppingTrace({ mode: 'min', patience: 3, minDelta: 0, ...options }, values);

test('stops after `patience` epochs without improvement (Keras semantics)', (t) => {
  // best at index 1; indices 2, 3, 4 do not improve: wait reaches 3 at index 4.
  t.is(trace([1, 0.9, 0.95, 0.96, 0.97, 0.5]), 4);
  t.is(trace([1, 0.9, 0.8, 0.7, 0.6, 0.5]), -1, 'never stops while improving');
  t.is(trace([1, 0.9, 0.95, 0.89, 0.95, 0.96, 0.97]), 6, 'an improvement resets the wait');
});

test('patience 0 stops at the first epoch without improvement, never at epoch 0', (t) => {
  t.is(trace([1, 1.1], { patience: 0 }), 1);
  t.is(trace([1], { patience: 0 }), -1);
});

test('minDelta: a change smaller than minDelta is no improvement', (t) => {
  t.is(trace([1, 0.995, 0.99, 0.985], { patience: 2, minDelta: 0.01 }), 2);
  t.is(trace([1, 0.98, 0.96, 0.94], { patience: 2, minDelta: 0.01 }), -1);
});

test('mode max watches for increases', (t) => {
  t.is(trace([0.5, 0.6, 0.55, 0.58], { mode: 'max', patience: 2 }), 3);
});

test('trainModel stops early and reports the 1-based epoch', async (t) => {
  const { x, y } = await realImages(512);
  // Training loss falls every epoch, so in mode 'max' the first epoch stays the best.
  const result = await trainModel({
    model: { kind: 'resnet', depth: 2 }, train: { x, y }, epochs: 5, batchSize: 128, threads: 1,
    earlyStopping: { monitor: 'loss', mode: 'max', patience: 1 },
  });
  t.is(result.stoppedEpoch, 2);
  t.is(result.bestEpoch, 1);
  t.is(result.history.epoch.length, 2);
  result.model.dispose();
});

test('earlyStopping() in callbacks: startFromEpoch, baseline and restoreBestWeights in real runs', async (t) => {
  const { x, y } = await realImages(512);
  const dir = mkdtempSync(join(tmpdir(), 'torchfit-es-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The training loss falls every epoch: in mode 'max' the first watched epoch stays the best.
  const run = async (options, extra = []) => {
    const r = await trainModel({ model: { kind: 'resnet', depth: 2 }, train: { x, y }, epochs: 6, batchSize: 128, threads: 1,
      callbacks: [...extra, earlyStopping({ monitor: 'loss', mode: 'max', ...options })] });
    return r;
  };
  const late = await run({ patience: 1, startFromEpoch: 2 });
  t.deepEqual([late.stoppedEpoch, late.stopReason, late.bestEpoch], [4, 'earlyStopping', 3], 'epochs 1 and 2 are not watched');
  late.model.dispose();
  const plain = await run({ patience: 2 });
  const baseline = await run({ patience: 2, baseline: 100 });
  t.deepEqual([plain.stoppedEpoch, baseline.stoppedEpoch], [3, 2], 'an epoch that misses the baseline does not restart the wait');
  plain.model.dispose();
  baseline.model.dispose();
  const restored = await run({ patience: 1, restoreBestWeights: true }, [modelCheckpoint({ path: join(dir, 'm-{epoch}.pt'), monitor: 'loss' })]);
  t.deepEqual([restored.stoppedEpoch, restored.restoredBestWeights], [2, true]);
  const best = await Model.load(join(dir, 'm-1.pt'));
  t.deepEqual((await restored.model.predict(x)).data, (await best.predict(x)).data, "the returned model has epoch 1's weights");
  best.dispose();
  restored.model.dispose();
});
