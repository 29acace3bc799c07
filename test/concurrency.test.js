// Native jobs at the same time: two trainings side by side on libuv's pool give the histories they give
// alone; evaluate/predict/save on one model at once are serialised by the native side and all resolve;
// disposing a model while its evaluate() is in flight lets that evaluate finish, then the model is unusable.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { liveTensors, Model, TorchfitError, trainModel } from '../dist/index.js';
import { realImages, withoutTimings } from './support/data.js';

const dir = mkdtempSync(join(tmpdir(), 'torchfit-concurrency-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const CNN = { model: 'cnn', epochs: 1, threads: 1, seed: 11, batchSize: 64 };
const RESNET = { model: { kind: 'resnet', depth: 2 }, epochs: 2, threads: 1, seed: 5, batchSize: 64 };

async function expectDisposed(t, promiseOrFn, what) {
  let error;
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    error = e;
  }
  t.true(error instanceof TorchfitError, `${what}: expected a TorchfitError, got ${error}`);
  t.is(error?.code, 'ERR_DISPOSED', what);
  t.regex(error?.message ?? '', /disposed/, what);
}

test.serial('two trainModel() calls at once both resolve with the histories they give alone', async (t) => {
  t.timeout(120_000);
  const a = await realImages(320, 0);
  const b = await realImages(320, 1000);
  const val = await realImages(128, 5000);
  const baseline = liveTensors();
  const epochsSeen = { cnn: [], resnet: [] };
  const [cnn, resnet] = await Promise.all([
    trainModel({ ...CNN, train: a, validation: val, onEpochEnd: (log) => epochsSeen.cnn.push(log.epoch) }),
    trainModel({ ...RESNET, train: b, validation: val, onEpochEnd: (log) => epochsSeen.resnet.push(log.epoch) }),
  ]);
  // Each call got its own progress records, in order.
  t.deepEqual(epochsSeen.cnn, [1]);
  t.deepEqual(epochsSeen.resnet, [1, 2]);
  t.deepEqual(cnn.history.epoch, [1]);
  t.deepEqual(resnet.history.epoch, [1, 2]);
  t.is(cnn.model.config.kind, 'cnn');
  t.is(resnet.model.config.kind, 'resnet');
  for (const h of [cnn.history, resnet.history]) {
    for (const key of ['loss', 'accuracy', 'valLoss', 'valAccuracy']) t.true(h[key].every(Number.isFinite), key);
  }
  // The same runs one after the other: identical (CPU, one thread each, same seeds).
  const cnnAlone = await trainModel({ ...CNN, train: a, validation: val });
  const resnetAlone = await trainModel({ ...RESNET, train: b, validation: val });
  t.deepEqual(withoutTimings(cnn.history), withoutTimings(cnnAlone.history));
  t.deepEqual(withoutTimings(resnet.history), withoutTimings(resnetAlone.history));
  t.deepEqual((await cnn.model.predict(val.x)).data, (await cnnAlone.model.predict(val.x)).data);
  for (const r of [cnn, resnet, cnnAlone, resnetAlone]) r.model.dispose();
  t.is(liveTensors(), baseline);
});

test.serial('evaluate, predict and save on the same model at once all resolve, each as it would alone', async (t) => {
  t.timeout(120_000);
  const train = await realImages(256);
  const test_ = await realImages(300, 2000);
  const { model } = await trainModel({ ...RESNET, epochs: 1, train });
  const baseline = liveTensors();
  const evaluationAlone = await model.evaluate(test_.x, test_.y, { batchSize: 64 });
  const probsAlone = await model.predict(test_.x, { batchSize: 64 });
  const path = join(dir, 'concurrent.pt');
  const jobs = [];
  for (let i = 0; i < 4; i++) {
    jobs.push(model.evaluate(test_.x, test_.y, { batchSize: 32 + 16 * i }));
    jobs.push(model.predict(test_.x, { batchSize: 50 + i }));
  }
  jobs.push(model.save(path));
  jobs.push(model.predictClasses(test_.x));
  const results = await Promise.all(jobs);
  for (let i = 0; i < 4; i++) {
    const e = results[2 * i];
    t.is(e.accuracy, evaluationAlone.accuracy);
    t.true(Math.abs(e.loss - evaluationAlone.loss) < 1e-6, `loss ${e.loss} vs ${evaluationAlone.loss}`);
    const p = results[2 * i + 1];
    t.deepEqual(p.shape, [300, 5]);
    for (let j = 0; j < p.data.length; j++) {
      if (Math.abs(p.data[j] - probsAlone.data[j]) > 1e-5) {
        t.fail(`prediction ${j} differs: ${p.data[j]} vs ${probsAlone.data[j]}`);
        break;
      }
    }
  }
  const loaded = await Model.load(path);
  t.deepEqual((await loaded.predict(test_.x, { batchSize: 64 })).data, probsAlone.data, 'the save taken in the middle of the jobs is the same model');
  loaded.dispose();
  t.is(liveTensors(), baseline, 'no tensor of the concurrent jobs is left');
  model.dispose();
});

test.serial('a model trains while another model evaluates, and a model evaluates while it is resumed', async (t) => {
  t.timeout(120_000);
  const train = await realImages(256);
  const { model } = await trainModel({ ...CNN, train });
  const before = await model.evaluate(train.x, train.y);
  const [evaluation, other] = await Promise.all([model.evaluate(train.x, train.y), trainModel({ ...RESNET, epochs: 1, train })]);
  t.deepEqual(evaluation, before);
  other.model.dispose();
  // evaluate() queued while the same model trains further: the native mutex makes it wait for the training
  // (or run before it); either way it resolves with a valid result and the training completes.
  const [resumed, during] = await Promise.all([trainModel({ ...CNN, train, resume: model }), model.evaluate(train.x, train.y)]);
  t.is(resumed.model, model);
  t.deepEqual(resumed.history.epoch, [1, 2]);
  t.true(during.accuracy >= 0 && during.accuracy <= 1 && Number.isFinite(during.loss));
  model.dispose();
});

test.serial('disposing a model while its evaluate() is in flight: the evaluate resolves, then the model is unusable', async (t) => {
  t.timeout(120_000);
  const train = await realImages(256);
  const big = await realImages(2000, 3000);
  const baseline = liveTensors();
  const { model } = await trainModel({ ...CNN, train });
  const expected = await model.evaluate(big.x, big.y, { batchSize: 100 });
  const probsExpected = await model.predict(big.x, { batchSize: 100 });
  const path = join(dir, 'disposed-during-save.pt');

  const evaluation = model.evaluate(big.x, big.y, { batchSize: 100 });
  const saving = model.save(path);
  model.dispose();
  t.true(model.disposed);
  // The jobs started before dispose() keep the native model alive and finish normally.
  t.deepEqual(await evaluation, expected);
  await saving;
  const loaded = await Model.load(path);
  t.deepEqual((await loaded.predict(big.x, { batchSize: 100 })).data, probsExpected.data);
  loaded.dispose();

  // Afterwards every use fails with ERR_DISPOSED, synchronously or as a rejection.
  await expectDisposed(t, model.evaluate(train.x, train.y), 'evaluate');
  await expectDisposed(t, model.predict(train.x), 'predict');
  await expectDisposed(t, model.predictClasses(train.x), 'predictClasses');
  await expectDisposed(t, model.save(join(dir, 'never.pt')), 'save');
  await expectDisposed(t, () => model.summary(), 'summary');
  await expectDisposed(t, () => model.config, 'config');
  await expectDisposed(t, () => model.device, 'device');
  await expectDisposed(t, trainModel({ ...CNN, train, resume: model }), 'resume');
  model.dispose(); // a second dispose is harmless
  t.is(liveTensors(), baseline, 'the disposed model and its in-flight jobs freed everything');
});

// predict() reads the class count before it awaits, so a dispose() in flight does not make it fail.
test.serial('disposing a model while its predict() is in flight: the predict resolves', async (t) => {
  t.timeout(60_000);
  const train = await realImages(256);
  const { model } = await trainModel({ ...CNN, train });
  const expected = await model.predict(train.x);
  const prediction = model.predict(train.x);
  model.dispose();
  const probs = await prediction;
  t.deepEqual(probs.shape, [256, 5]);
  t.deepEqual(probs.data, expected.data);
});
