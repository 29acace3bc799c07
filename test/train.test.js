import test from 'ava';

import { liveTensors, toCategorical, trainModel } from '../dist/index.js';
import { realImages, withoutTimings } from './support/data.js';

test('the CNN learns real Fashion-MNIST images', async (t) => {
  const train = await realImages(2048);
  const epochs = [];
  const result = await trainModel({
    model: 'cnn', train, epochs: 2, batchSize: 128, threads: 2, onEpochEnd: (log) => epochs.push(log),
  });
  t.is(epochs.length, 2, 'onEpochEnd once per epoch');
  t.deepEqual(epochs.map((e) => e.epoch), [1, 2]);
  t.is(epochs[0].steps, 16);
  // Chance is 20 %. Validation lags on runs this short (BatchNorm momentum 0.99, docs/parity.md), so judge training accuracy.
  t.true(result.history.accuracy[1] > 0.6, `training accuracy ${result.history.accuracy[1]}`);
  t.true(result.history.loss[1] < result.history.loss[0]);
  t.is(result.device, 'cpu');
  t.is(result.stoppedEpoch, undefined);
  result.model.dispose();
});

test('the ResNet learns, with validation, one-hot labels as Keras takes them', async (t) => {
  const train = await realImages(3000);
  const val = await realImages(500, 50000);
  const result = await trainModel({
    model: { kind: 'resnet', depth: 2 }, train: { x: train.x, y: toCategorical(train.y, 5) }, validation: val,
    epochs: 2, threads: 2,
  });
  t.true(result.history.accuracy[1] > 0.7, `training accuracy ${result.history.accuracy[1]}`);
  t.true(result.history.valAccuracy[1] > 0.6, `validation accuracy ${result.history.valAccuracy[1]}`);
  const evaluation = await result.model.evaluate(val.x, val.y);
  t.true(Math.abs(evaluation.accuracy - result.history.valAccuracy[1]) < 1e-9, 'evaluate() agrees with the last val_accuracy');
  t.true(Math.abs(evaluation.loss - result.history.valLoss[1]) < 1e-6);
  const probs = await result.model.predict(val.x);
  t.deepEqual(probs.shape, [500, 5]);
  const rowSum = probs.data.slice(0, 5).reduce((a, b) => a + b, 0);
  t.true(Math.abs(rowSum - 1) < 1e-5);
  const classes = await result.model.predictClasses(val.x);
  const correct = classes.filter((c, i) => c === val.y[i]).length / 500;
  t.true(Math.abs(correct - evaluation.accuracy) < 1e-9);
  result.model.dispose();
});

test('same seed, same history, bit for bit; another seed differs', async (t) => {
  const train = await realImages(640, 1000);
  const run = async (seed) => {
    const r = await trainModel({ model: { kind: 'resnet', depth: 2 }, train, validation: train, epochs: 2, seed, threads: 2 });
    r.model.dispose();
    return withoutTimings(r.history);
  };
  const a = await run(5);
  const b = await run(5);
  const c = await run(6);
  t.deepEqual(a, b);
  t.notDeepEqual(a.loss, c.loss);
});

test('training runs off the event loop: timers keep ticking', async (t) => {
  const train = await realImages(768);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const started = Date.now();
  const r = await trainModel({ model: 'cnn', train, epochs: 1, threads: 1, batchSize: 64 });
  clearInterval(timer);
  const elapsed = Date.now() - started;
  r.model.dispose();
  // A blocked loop would tick at most a couple of times; a free one about elapsed/10.
  t.true(ticks > elapsed / 40, `${ticks} ticks in ${elapsed} ms`);
});

test('onBatchEnd is throttled and sees running means', async (t) => {
  const train = await realImages(1024);
  const batches = [];
  const r = await trainModel({
    model: { kind: 'resnet', depth: 2 }, train, epochs: 1, batchSize: 32, threads: 1, batchProgressIntervalMs: 0,
    onBatchEnd: (log) => batches.push(log),
  });
  r.model.dispose();
  t.is(batches.length, 32, 'interval 0 reports every step');
  t.deepEqual(batches.map((b) => b.step), Array.from({ length: 32 }, (_, i) => i + 1));
  t.true(batches.every((b) => b.steps === 32 && b.epoch === 1 && Number.isFinite(b.loss)));
});

test.serial('live tensors return to the baseline after train, evaluate, predict and dispose', async (t) => {
  const train = await realImages(512);
  const before = liveTensors();
  const r = await trainModel({ model: 'cnn', train, epochs: 1, threads: 1 });
  t.true(liveTensors() > before, 'the model holds its parameters');
  await r.model.evaluate(train.x, train.y);
  await r.model.predict(train.x);
  r.model.dispose();
  t.is(liveTensors(), before);
});
