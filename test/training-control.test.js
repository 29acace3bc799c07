// Stopping and keeping the model: control.stop() from onEpochEnd and onBatchEnd, timeLimitMs,
// and the learning rate a reduceLROnPlateau leaves in a real run. An AbortSignal (or a callback
// that throws) still rejects and frees the model. Real training on small Fashion-MNIST slices.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test from 'ava';

import { AbortError, liveTensors, Model, reduceLROnPlateau, trainModel } from '../dist/index.js';
import { realImages, withoutTimings } from './support/data.js';

const dir = mkdtempSync(join(tmpdir(), 'torchfit-control-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const setup = async () => {
  const train = await realImages(512);
  const validation = await realImages(256, 50_000);
  return { model: 'cnn', train, validation, batchSize: 32, threads: 1, seed: 2, earlyStopping: false };
};

/** The model still works after a stop: it predicts, saves and loads back to the same predictions. */
async function usable(t, model, x, name) {
  const probs = await model.predict(x);
  t.deepEqual(probs.shape, [x.shape[0], 5]);
  t.true(probs.data.every(Number.isFinite));
  const path = join(dir, `${name}.pt`);
  await model.save(path);
  const loaded = await Model.load(path);
  t.deepEqual((await loaded.predict(x)).data, probs.data, 'saved and loaded back');
  loaded.dispose();
}

test.serial('control.stop() in onEpochEnd ends the run after that epoch and resolves with the model', async (t) => {
  const base = await setup();
  const before = liveTensors();
  const full = await trainModel({ ...base, epochs: 3 });
  full.model.dispose();
  const seen = [];
  const result = await trainModel({
    ...base, epochs: 5,
    onEpochEnd: (log, control) => {
      seen.push(log.epoch);
      if (log.epoch === 2) control.stop();
    },
  });
  t.deepEqual(seen, [1, 2], 'no epoch starts after stop()');
  t.deepEqual(result.history.epoch, [1, 2]);
  t.is(result.stoppedEpoch, 2);
  t.is(result.stopReason, 'stop');
  const { epoch: _e, ...kept } = withoutTimings(result.history);
  const { epoch: _f, ...uninterrupted } = withoutTimings(full.history);
  t.deepEqual(kept, Object.fromEntries(Object.entries(uninterrupted).map(([k, v]) => [k, v.slice(0, 2)])), 'the same two epochs a longer run has');
  await usable(t, result.model, base.validation.x, 'epoch-stop');
  result.model.dispose();
  t.is(liveTensors(), before, 'every tensor accounted for');
});

test.serial('control.stop() in onBatchEnd ends the epoch at that batch; the epoch still gets validation and its log', async (t) => {
  const base = await setup();
  const before = liveTensors();
  const epochs = [];
  let atStop;
  let batchesAfter = 0;
  const result = await trainModel({
    ...base, epochs: 4, batchProgressIntervalMs: 0,
    onBatchEnd: (log, control) => {
      if (atStop) batchesAfter++;
      if (log.epoch === 2 && log.step === 5) {
        atStop = log;
        control.stop();
      }
    },
    onEpochEnd: (log) => epochs.push(log),
  });
  t.is(batchesAfter, 0, 'the worker waited for onBatchEnd: not one more batch');
  t.deepEqual(epochs.map((e) => [e.epoch, e.steps]), [[1, 16], [2, 5]]);
  t.is(result.stoppedEpoch, 2);
  t.is(result.stopReason, 'stop');
  t.deepEqual(result.history.epoch, [1, 2]);
  // The partial epoch's figures are the running means over its 5 batches, as onBatchEnd saw them.
  t.is(result.history.loss[1], atStop.loss);
  t.is(result.history.accuracy[1], atStop.accuracy);
  t.true(Number.isFinite(result.history.valLoss[1]), 'validated');
  const evaluation = await result.model.evaluate(base.validation.x, base.validation.y);
  t.is(evaluation.loss, result.history.valLoss[1], 'validation ran on the model as it was kept');
  await usable(t, result.model, base.validation.x, 'batch-stop');
  result.model.dispose();
  t.is(liveTensors(), before);
});

test.serial('timeLimitMs stops inside the first epoch and keeps the model', async (t) => {
  const base = await setup();
  const train = await realImages(4096, 4096);
  const epochs = [];
  // 128 steps of 32 images take far longer than 50 ms: the first epoch ends early.
  const result = await trainModel({ ...base, train, epochs: 100, timeLimitMs: 50, onEpochEnd: (log) => epochs.push(log) });
  t.is(result.stopReason, 'timeLimit');
  t.is(result.stoppedEpoch, 1);
  t.is(epochs.length, 1);
  t.true(epochs[0].steps >= 1 && epochs[0].steps < 128, `${epochs[0].steps} steps`);
  t.true(Number.isFinite(result.history.valAccuracy[0]));
  await usable(t, result.model, base.validation.x, 'time-limit');
  result.model.dispose();
});

test.serial('an AbortSignal still rejects and frees, even from the last epoch\'s onEpochEnd', async (t) => {
  const base = await setup();
  const before = liveTensors();
  const controller = new AbortController();
  await t.throwsAsync(trainModel({ ...base, epochs: 1, signal: controller.signal, onEpochEnd: () => controller.abort() }), { instanceOf: AbortError });
  t.is(liveTensors(), before);
});

test.serial('a callback that throws aborts the run at once and rejects with its error', async (t) => {
  const base = await setup();
  const before = liveTensors();
  const seen = [];
  const error = await t.throwsAsync(trainModel({
    ...base, epochs: 5,
    onEpochEnd: (log) => {
      seen.push(log.epoch);
      throw new Error('my callback failed');
    },
  }));
  t.is(error.message, 'my callback failed');
  t.deepEqual(seen, [1]);
  t.is(liveTensors(), before);
});

test.serial('reduceLROnPlateau in a real run: history.learningRate shows each reduction', async (t) => {
  const { train } = await setup();
  // Training loss falls every epoch, so in mode 'max' epoch 1 stays the best: with patience 1
  // the rate halves after epochs 2, 3 and 4 (no cooldown), down to minLr.
  const result = await trainModel({
    model: { kind: 'resnet', depth: 2 }, train, epochs: 5, batchSize: 128, threads: 1,
    callbacks: [reduceLROnPlateau({ monitor: 'loss', mode: 'max', factor: 0.5, patience: 1, minLr: 2e-4 })],
  });
  t.deepEqual(result.history.learningRate, [1e-3, 1e-3, 5e-4, 2.5e-4, 2e-4]);
  t.true(result.history.loss.every((v, i) => i === 0 || v < result.history.loss[i - 1]), `falling loss: ${result.history.loss}`);
  t.is(result.stoppedEpoch, undefined);
  result.model.dispose();
});
