import test from 'ava';

import { native } from '../dist/torch/native.js';

const spec = (kind, depth = 0) => ({ kind, depth, numClasses: 5, channels: 1, height: 28, width: 28 });

function stats(values) {
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    sq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(sq / values.length - mean * mean), min, max };
}

test('CNN kernels are glorot_uniform and biases zero', (t) => {
  const w = native()._initialWeights(spec('cnn'), 1);
  // conv2: fan_in = 32*9, fan_out = 64*9
  const limit = Math.sqrt(6 / (32 * 9 + 64 * 9));
  const s = stats(w['conv2.weight']);
  t.true(s.max <= limit && s.min >= -limit);
  t.true(s.max > 0.95 * limit && s.min < -0.95 * limit, 'spans the whole interval');
  t.true(Math.abs(s.std - limit / Math.sqrt(3)) < 0.02 * limit, `std ${s.std} vs uniform's ${limit / Math.sqrt(3)}`);
  const dense = stats(w['fc.weight']);
  t.true(dense.max <= Math.sqrt(6 / (1600 + 5)));
  for (const bias of ['conv1.bias', 'conv2.bias', 'fc.bias']) t.true(w[bias].every((v) => v === 0), bias);
});

test('ResNet kernels are he_normal truncated at 2 sigma with std sqrt(2 / fan_in)', (t) => {
  const w = native()._initialWeights(spec('resnet', 20), 3);
  const kernel = w['stacks.4.layer2.conv.weight'];  // stack 1, block 1: 32 filters x 32 x 3 x 3: fan_in = 288
  const fanIn = 32 * 9;
  const sigma = Math.sqrt(2 / fanIn) / 0.87962566103423978;
  const s = stats(kernel);
  t.true(s.max <= 2 * sigma + 1e-7 && s.min >= -2 * sigma - 1e-7, `within +-2 sigma (${2 * sigma})`);
  t.true(s.max > 1.9 * sigma, 'reaches close to the bound');
  t.true(Math.abs(s.std - Math.sqrt(2 / fanIn)) < 0.03 * Math.sqrt(2 / fanIn), `std ${s.std} vs ${Math.sqrt(2 / fanIn)}`);
  t.true(Math.abs(s.mean) < 0.01);
  t.true(w['stacks.4.layer2.conv.bias'].every((v) => v === 0));
});

test('the seed fixes the initial weights', (t) => {
  const a = native()._initialWeights(spec('cnn'), 7);
  const b = native()._initialWeights(spec('cnn'), 7);
  const c = native()._initialWeights(spec('cnn'), 8);
  t.deepEqual(a['conv1.weight'], b['conv1.weight']);
  t.notDeepEqual(a['conv1.weight'], c['conv1.weight']);
});
