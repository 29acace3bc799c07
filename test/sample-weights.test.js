// classWeight and sampleWeight: Keras's weighted loss (the sum of each sample's cross-entropy
// times its weight, over the batch size), checked against the formula computed here in float64
// from the model's own predictions before the step; accuracy unweighted; validation loss
// weighted only by the split-off sampleWeight; the fused kernels and the layers path alike.
import test from 'ava';

import { InvalidOptionError, trainModel } from '../dist/index.js';
import { realImages } from './support/data.js';

// No BatchNorm, no dropout: predict() (inference) computes what the training forward computes.
const plainLayers = {
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, activation: 'relu' },
    { type: 'flatten' },
    { type: 'dense', units: 5, activation: 'softmax' },
  ],
};

const close = (t, actual, expected, relative, what) =>
  t.true(Math.abs(actual - expected) <= relative * Math.abs(expected), `${what}: ${actual} vs ${expected}`);

/** One full-batch step: the recorded loss is the batch's loss on the initial weights. */
const oneStep = (data, extra) => trainModel({
  model: plainLayers, train: data, epochs: 1, batchSize: data.y.length, shuffle: false, threads: 2, seed: 7,
  optimizer: { name: 'sgd', learningRate: 0.1 }, ...extra,
});

test('one step\'s loss with class weights is Keras\'s formula on the predictions before the step', async (t) => {
  const data = await realImages(96);
  const classWeight = { 0: 0.5, 1: 2, 2: 1, 3: 3, 4: 0.25 };
  const weighted = await oneStep(data, { classWeight });
  // The same seed with a step too small to move float32 weights: the initial model, to predict with.
  const initial = await oneStep(data, { optimizer: { name: 'sgd', learningRate: 1e-30 } });
  const probs = (await initial.model.predict(data.x)).data;
  let weightedSum = 0, plainSum = 0, weightSum = 0, correct = 0;
  for (let i = 0; i < data.y.length; i++) {
    const row = Array.from(probs.subarray(i * 5, i * 5 + 5));
    const ce = -Math.log(row[data.y[i]]);
    const w = classWeight[data.y[i]];
    weightedSum += w * ce;
    plainSum += ce;
    weightSum += w;
    if (row.indexOf(Math.max(...row)) === data.y[i]) correct++;
  }
  const keras = weightedSum / data.y.length;            // SUM_OVER_BATCH_SIZE
  const pytorchStyle = weightedSum / weightSum;          // nll_loss(weight=...)'s mean
  close(t, weighted.history.loss[0], keras, 1e-5, 'weighted loss');
  close(t, initial.history.loss[0], plainSum / data.y.length, 1e-5, 'unweighted loss');
  t.true(Math.abs(weighted.history.loss[0] - pytorchStyle) > 1e-3, 'not divided by the sum of the weights');
  // Accuracy stays unweighted, as Keras's metrics=['accuracy'] is.
  t.is(weighted.history.accuracy[0], correct / data.y.length);
  t.is(weighted.history.accuracy[0], initial.history.accuracy[0]);
  t.deepEqual(weighted.model.metadata.options.classWeight, [0.5, 2, 1, 3, 0.25]);
  weighted.model.dispose();
  initial.model.dispose();
});

test('sampleWeight weighs each image; with classWeight the two multiply (Keras 2.15 multiplies them)', async (t) => {
  const data = await realImages(64, 200);
  const sampleWeight = Float64Array.from({ length: 64 }, (_, i) => (i % 4) * 0.5);
  const classWeight = [1, 2, 0.5, 1, 3];
  const both = await oneStep(data, { sampleWeight, classWeight });
  const product = Float32Array.from(sampleWeight, (w, i) => w * classWeight[data.y[i]]);
  const premultiplied = await oneStep(data, { sampleWeight: product });
  close(t, both.history.loss[0], premultiplied.history.loss[0], 1e-6, 'classWeight x sampleWeight');
  const unweighted = await oneStep(data, {});
  t.notDeepEqual(both.history.loss, unweighted.history.loss);
  for (const r of [both, premultiplied, unweighted]) r.model.dispose();
});

for (const kernels of ['fused', 'plain']) {
  test(`the CNN (${kernels} kernels) weighs its loss: weights w and 1 - w add up to the unweighted loss`, async (t) => {
    const data = await realImages(128, 1000);
    const step = (extra) => trainModel({ model: 'cnn', train: data, epochs: 1, batchSize: 128, threads: 2, seed: 1, kernels, ...extra });
    const w = [0.9, 0.2, 0.6, 0, 1];
    const a = await step({ classWeight: w });
    const b = await step({ classWeight: w.map((v) => 1 - v) });
    const plain = await step({});
    const doubled = await step({ classWeight: [2, 2, 2, 2, 2] });
    close(t, a.history.loss[0] + b.history.loss[0], plain.history.loss[0], 1e-5, 'w + (1 - w)');
    close(t, doubled.history.loss[0], 2 * plain.history.loss[0], 1e-5, 'all weights 2');
    t.true(Math.abs(a.history.loss[0] - plain.history.loss[0]) > 1e-3, 'the weights change the loss');
    t.is(a.history.accuracy[0], plain.history.accuracy[0], 'accuracy is unweighted');
    for (const r of [a, b, plain, doubled]) r.model.dispose();
  });
}

test('classWeight never weighs validation: val_loss is evaluate()\'s', async (t) => {
  const train = await realImages(128, 300);
  const validation = await realImages(64, 5000);
  const r = await trainModel({ model: plainLayers, train, validation, epochs: 2, batchSize: 32, threads: 2, classWeight: [5, 1, 1, 1, 0.1] });
  const evaluation = await r.model.evaluate(validation.x, validation.y);
  t.is(r.history.valLoss[1], evaluation.loss);
  t.is(r.history.valAccuracy[1], evaluation.accuracy);
  r.model.dispose();
});

test('with validationSplit, the split-off sampleWeight weighs val_loss (as Keras does) and classWeight does not', async (t) => {
  const data = await realImages(100, 700);
  const sampleWeight = Float32Array.from({ length: 100 }, (_, i) => 0.5 + (i % 3));
  const r = await trainModel({ model: plainLayers, train: data, validationSplit: 0.2, sampleWeight, classWeight: [1, 4, 1, 1, 1], epochs: 1, batchSize: 40, threads: 2 });
  const valRows = Int32Array.from({ length: 20 }, (_, i) => 80 + i);
  const { takeRows } = await import('../dist/index.js');
  const probs = (await r.model.predict(takeRows(data.x, valRows))).data;
  let sum = 0;
  valRows.forEach((row, i) => { sum += sampleWeight[row] * -Math.log(probs[i * 5 + data.y[row]]); });
  close(t, r.history.valLoss[0], sum / 20, 1e-5, 'val_loss weighted by the split-off sampleWeight only');
  r.model.dispose();
});

const images = (n) => ({ dtype: 'float32', shape: [n, 28, 28], data: new Float32Array(n * 784) });
const labels = (n) => Int32Array.from({ length: n }, (_, i) => i % 5);
const refusals = [
  ['a classWeight without every class', { classWeight: { 0: 1, 1: 1, 2: 1, 4: 2 } }, 'classWeight', 'Invalid option classWeight: expected a weight for every class 0..4, received none for class 3'],
  ['a classWeight key beyond the classes', { classWeight: { 0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1 } }, 'classWeight', "Invalid option classWeight: expected class indices 0..4 as keys, received key '5'"],
  ['a classWeight array of another length', { classWeight: [1, 2] }, 'classWeight', 'Invalid option classWeight: expected 5 weights, one per class, received 2 weights'],
  ['a negative class weight', { classWeight: [1, 1, -1, 1, 1] }, 'classWeight[2]', 'Invalid option classWeight[2]: expected a finite weight >= 0, received -1'],
  ['a sampleWeight of another length', { sampleWeight: new Float32Array(7) }, 'sampleWeight', 'Invalid option sampleWeight: expected 8 weights (one per training image), received 7 weights'],
  ['a NaN sample weight', { sampleWeight: [1, 1, 1, NaN, 1, 1, 1, 1] }, 'sampleWeight[3]', 'Invalid option sampleWeight[3]: expected a finite weight >= 0, received NaN'],
  ['a sampleWeight as text', { sampleWeight: 'ones' }, 'sampleWeight', 'Invalid option sampleWeight: expected one weight per training image: a Float32Array, Float64Array, number[] or 1-D NdArray, received "ones"'],
];
for (const [name, override, option, message] of refusals) {
  test(`refuses ${name}`, async (t) => {
    const error = await t.throwsAsync(trainModel({ model: 'cnn', train: { x: images(8), y: labels(8) }, epochs: 1, batchSize: 4, ...override }),
      { instanceOf: InvalidOptionError });
    t.is(error.option, option);
    t.is(error.message, message);
  });
}
