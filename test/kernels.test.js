// The fused CPU kernels (native/core/kernels) against libtorch's own ops on the same random
// inputs: outputs, every gradient, BatchNorm's running statistics, whole training steps.
// Each path is measured against libtorch in float64; the fused one must be about as accurate
// as libtorch's float32 ops (which differ from each other by rounding, and a lot, relatively,
// where a result is a near-cancelling sum such as a bias gradient feeding a BatchNorm). A
// result that is zero in exact arithmetic (the bias of a BatchNorm followed by another) is
// pure rounding noise in both; it may be as large as float32's epsilon times the largest
// value of its kind (all gradients, all weights after training).
import test from 'ava';

import { info, trainModel } from '../dist/index.js';
import { native } from '../dist/torch/native.js';
import { realImages } from './support/data.js';

const binding = native();
const isas = binding._kernelIsas().available;

test('info() names the kernel build in use: AVX2 exactly when this CPU has AVX2 and FMA', async (t) => {
  const { readFile } = await import('node:fs/promises');
  const flags = (await readFile('/proc/cpuinfo', 'utf8').catch(() => '')).match(/^flags\s*:(.*)$/m)?.[1].split(/\s+/) ?? [];
  t.true(isas.includes('generic'));
  if (flags.length > 0) {
    const avx2 = flags.includes('avx2') && flags.includes('fma');
    t.is(isas.includes('avx2'), avx2);
    t.is(info().cpuKernels, avx2 ? 'avx2' : 'generic');
  } else {
    t.true(['avx2', 'generic'].includes(info().cpuKernels));
  }
});

const FLOAT32_EPSILON = 2 ** -23;
const kindOf = (name) => name.split(' ')[0];

function assertAsAccurate(t, diffs, label) {
  t.true(diffs.length > 0, `${label}: something was compared`);
  const scale = {};
  for (const d of diffs) scale[kindOf(d.name)] = Math.max(scale[kindOf(d.name)] ?? 0, d.refMax);
  for (const d of diffs) {
    t.true(Number.isFinite(d.fusedErr), `${label} ${d.name}: fused result not finite`);
    const allowed = 4 * d.plainErr + 4e-6 * d.refMax + FLOAT32_EPSILON * scale[kindOf(d.name)];
    t.true(d.fusedErr <= allowed,
      `${label} ${d.name}: |fused - float64| = ${d.fusedErr} > ${allowed} (|plain - float64| = ${d.plainErr}, scale ${d.refMax})`);
  }
}

const convCases = [
  { name: "the CNN's conv1 (valid)", batch: 3, channels: 32, height: 28, width: 28, pad: 0 },
  { name: "the ResNet's stem (same, input gradient)", batch: 2, channels: 16, height: 28, width: 28, pad: 1, inputGrad: true },
  { name: 'odd sizes, same', batch: 1, channels: 3, height: 9, width: 5, pad: 1, inputGrad: true },
  { name: 'odd sizes, valid, input gradient', batch: 2, channels: 5, height: 13, width: 17, pad: 0, inputGrad: true },
  { name: 'the smallest image (3x3 valid)', batch: 2, channels: 4, height: 3, width: 3, pad: 0, inputGrad: true },
];

const poolCases = [
  { name: "the CNN's first block", batch: 2, channels: 32, height: 26, width: 26 },
  { name: "the CNN's second block, some negative scales", batch: 3, channels: 64, height: 11, width: 11, negativeGamma: true },
  { name: 'odd sizes (pool floors the last row and column)', batch: 2, channels: 5, height: 7, width: 19, negativeGamma: true },
  { name: 'one image of 2x2', batch: 1, channels: 3, height: 2, width: 2 },
  { name: 'inference (running statistics)', batch: 3, channels: 6, height: 13, width: 21, training: false },
];

const stemCases = [
  { name: "the CNN's first block", batch: 2, channels: 32, height: 28, width: 28, pad: 0 },
  { name: 'same padding, odd sizes, negative scales', batch: 3, channels: 5, height: 11, width: 17, pad: 1, negativeGamma: true },
  { name: 'valid, odd output (pool floors it)', batch: 1, channels: 3, height: 9, width: 12, pad: 0, negativeGamma: true },
  { name: 'inference', batch: 2, channels: 4, height: 28, width: 28, pad: 0, training: false },
];

const linearCases = [
  { name: "the ResNet's head (12,544 -> 5)", batch: 16, width: 12544, channels: 5 },
  { name: "the CNN's head (1,600 -> 5)", batch: 7, width: 1600, channels: 5 },
  { name: 'odd widths, 8 outputs', batch: 3, width: 17, channels: 8 },
  { name: 'one row, one output', batch: 1, width: 5, channels: 1 },
];

for (const isa of isas) {
  for (const threads of [1, 2]) {
    for (const { name, ...spec } of convCases) {
      test(`conv1ch3x3 [${isa}, ${threads} thread(s)]: ${name}`, (t) => {
        const diffs = binding._compareKernels({ op: 'conv1ch', ...spec, seed: 7, threads, isa });
        t.deepEqual(diffs.map((d) => d.name), ['output', 'grad_weight', 'grad_bias', 'grad_input']);
        assertAsAccurate(t, diffs, name);
      });
    }
    for (const { name, ...spec } of linearCases) {
      test(`narrow_linear [${isa}, ${threads} thread(s)]: ${name}`, (t) => {
        const diffs = binding._compareKernels({ op: 'linear', ...spec, seed: 17, threads, isa });
        t.deepEqual(diffs.map((d) => d.name), ['output', 'grad_input', 'grad_weight', 'grad_bias']);
        assertAsAccurate(t, diffs, name);
      });
    }
    for (const { name, ...spec } of stemCases) {
      test(`cnn_stem [${isa}, ${threads} thread(s)]: ${name}`, (t) => {
        const diffs = binding._compareKernels({ op: 'cnn_stem', ...spec, seed: 13, threads, isa });
        const expected = spec.training === false ? ['output', 'running_mean', 'running_var']
          : ['output', 'running_mean', 'running_var', 'grad_weight', 'grad_bias', 'grad_gamma', 'grad_beta'];
        t.deepEqual(diffs.map((d) => d.name), expected);
        assertAsAccurate(t, diffs, name);
      });
    }
    for (const op of ['sigmoid_bn_pool', 'relu_bn_pool']) {
      for (const { name, ...spec } of poolCases) {
        test(`${op} [${isa}, ${threads} thread(s)]: ${name}`, (t) => {
          const diffs = binding._compareKernels({ op, ...spec, seed: 11, threads, isa });
          const expected = spec.training === false ? ['output', 'running_mean', 'running_var']
            : ['output', 'running_mean', 'running_var', 'grad_input', 'grad_gamma', 'grad_beta'];
          t.deepEqual(diffs.map((d) => d.name), expected);
          assertAsAccurate(t, diffs, name);
        });
      }
    }
  }
}

const spec = (kind, depth = 0, size = 28) => ({ kind, depth, numClasses: 5, channels: 1, height: size, width: size });
const modelCases = [
  { name: 'CNN, 3 SGD steps', batch: 8, model: spec('cnn'), optimizer: 'sgd', learningRate: 0.01, steps: 3 },
  { name: 'CNN on 13x13 images (odd sizes all the way down), batch 2', batch: 2, model: spec('cnn', 0, 13), optimizer: 'sgd', learningRate: 0.05, steps: 3 },
  { name: 'ResNet depth 2, 3 Adam steps', batch: 6, model: spec('resnet', 2), optimizer: 'adam', learningRate: 0.001, steps: 3 },
  // SGD: with the convolution engine in, Adam's sign-like first steps turn rounding in near-zero
  // gradients into whole steps (test/kernels-engine.test.js covers Adam's gradients).
  { name: 'ResNet depth 8, 2 SGD steps', batch: 3, model: spec('resnet', 8), optimizer: 'sgd', learningRate: 0.05, steps: 2 },
];
for (const threads of [1, 2]) {
  for (const { name, ...c } of modelCases) {
    test(`whole model [${threads} thread(s)]: ${name}: logits, loss, gradients, weights and statistics after training`, (t) => {
      const diffs = binding._compareKernels({ op: 'model', ...c, seed: 3, threads });
      const names = diffs.map((d) => d.name);
      for (const expected of ['logits', 'loss', 'eval logits']) t.true(names.includes(expected), expected);
      t.true(names.some((n) => n.startsWith('grad ')) && names.some((n) => n.startsWith('final ')));
      if (c.model.kind === 'cnn') t.true(names.includes('final bn1.running_var') && names.includes('grad conv1.weight'));
      assertAsAccurate(t, diffs, name);
    });
  }
}

test('the fused kernels really run with kernels: fused, and not with plain', (t) => {
  const opsOf = (kind, kernels) => new Set(binding._profileStep(spec(kind, kind === 'cnn' ? 0 : 2), {
    optimizer: 'sgd', learningRate: 0.01, batchSize: 4, threads: 1, kernels, warmup: 0, steps: 1,
  }).ops.map((op) => op.name));
  const cnnFused = opsOf('cnn', 'fused');
  for (const name of ['torchfit::cnn_stem', 'torchfit::cnn_stem_backward', 'torchfit::activation_bn_pool', 'torchfit::activation_bn_pool_backward']) {
    t.true(cnnFused.has(name), name);
  }
  t.false(cnnFused.has('aten::max_pool2d_with_indices'));
  const cnnPlain = opsOf('cnn', 'plain');
  t.false([...cnnPlain].some((n) => n.startsWith('torchfit::')));
  t.true(cnnPlain.has('aten::max_pool2d_with_indices'));
  const resnetFused = opsOf('resnet', 'fused');
  for (const name of ['torchfit::conv1ch3x3_backward', 'torchfit::narrow_linear', 'torchfit::narrow_linear_backward']) {
    t.true(resnetFused.has(name), name);
  }
});

test('trainModel: fused and plain kernels train the same model on real images', async (t) => {
  const train = await realImages(640);
  const val = await realImages(256, 50000);
  const run = (kernels) => trainModel({ model: 'cnn', train, validation: val, epochs: 2, batchSize: 64, seed: 5, threads: 2, kernels, earlyStopping: false });
  const fused = await run('fused');
  const plain = await run('plain');
  // Rounding may flip a borderline prediction or two, not more.
  const tolerance = { loss: 2e-3, valLoss: 2e-3, accuracy: 2.5 / 640, valAccuracy: 2.5 / 256 };
  for (const [key, tol] of Object.entries(tolerance)) {
    fused.history[key].forEach((v, i) => {
      t.true(Math.abs(v - plain.history[key][i]) < tol, `${key}[${i}]: fused ${v}, plain ${plain.history[key][i]}`);
    });
  }
  const [pf, pp] = [await fused.model.predict(val.x), await plain.model.predict(val.x)];
  let worst = 0;
  pf.data.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - pp.data[i])); });
  t.true(worst < 1e-3, `largest probability difference ${worst}`);
  fused.model.dispose();
  plain.model.dispose();
});
