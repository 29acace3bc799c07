import test from 'ava';

import { AbortError, liveTensors, trainModel } from '../dist/index.js';
import { realImages } from './support/data.js';

test.serial('abort mid-epoch rejects with AbortError within a batch and frees the tensors', async (t) => {
  const train = await realImages(2048);
  const before = liveTensors();
  const controller = new AbortController();
  let batchesAfterAbort = 0;
  const promise = trainModel({
    model: 'cnn', train, validation: train, epochs: 5, batchSize: 64, threads: 1, batchProgressIntervalMs: 0, signal: controller.signal,
    onBatchEnd: (log) => {
      if (controller.signal.aborted) batchesAfterAbort++;
      if (log.step === 3) controller.abort();
    },
  });
  const error = await t.throwsAsync(promise, { instanceOf: AbortError });
  t.is(error.code, 'ABORT_ERR');
  t.true(batchesAfterAbort <= 2, `${batchesAfterAbort} batches ran after abort()`);
  t.is(liveTensors(), before);
});

test('an already aborted signal rejects before any work', async (t) => {
  const train = await realImages(256);
  const controller = new AbortController();
  controller.abort(new Error('user closed the tab'));
  let epochs = 0;
  const error = await t.throwsAsync(
    trainModel({ model: 'cnn', train, epochs: 1, signal: controller.signal, onEpochEnd: () => epochs++ }),
    { instanceOf: AbortError },
  );
  t.is(error.message, 'The operation was aborted: user closed the tab');
  t.is(epochs, 0);
});

test('abort during validation rejects too', async (t) => {
  const train = await realImages(256);
  const val = await realImages(4096, 10000);
  const controller = new AbortController();
  const promise = trainModel({
    model: 'cnn', train, validation: val, epochs: 3, batchSize: 128, evalBatchSize: 64, threads: 1, signal: controller.signal,
    batchProgressIntervalMs: 0,
    // The last training batch of epoch 1 is reported right before validation starts.
    onBatchEnd: (log) => { if (log.step === log.steps) setTimeout(() => controller.abort(), 5); },
  });
  await t.throwsAsync(promise, { instanceOf: AbortError });
});

test('abort during evaluate', async (t) => {
  const train = await realImages(256);
  const { model } = await trainModel({ model: { kind: 'resnet', depth: 2 }, train, epochs: 1, threads: 1 });
  // Any long evaluation will do: 14,000 images of the test slice.
  const big = await realImages(14_000);
  const controller = new AbortController();
  const promise = model.evaluate(big.x, big.y, { batchSize: 64, signal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  await t.throwsAsync(promise, { instanceOf: AbortError });
  model.dispose();
});
