// Training models of the layers API: the 'cnn' preset's twin trains bit for bit like 'cnn',
// a relu CNN learns real images, a residual model survives save and load.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test from 'ava';

import { describeModel, Model, trainModel } from '../dist/index.js';
import { resolveModelChoice } from '../dist/models/describe.js';
import { nativeModelSpec } from '../dist/models/native-spec.js';
import { native } from '../dist/torch/native.js';
import { realImages, withoutTimings } from './support/data.js';

const cnnTwin = { layers: describeModel('cnn').layers };

for (const kernels of ['fused', 'plain']) {
  test(`the layers-API CNN equal to 'cnn' trains bit for bit like it (kernels '${kernels}')`, async (t) => {
    const train = await realImages(640);
    const val = await realImages(300, 40000);
    const run = async (model) => {
      const r = await trainModel({ model, train, validation: val, epochs: 2, batchSize: 64, seed: 7, threads: 2, kernels, optimizer: 'sgd', earlyStopping: false });
      const probs = await r.model.predict(val.x);
      r.model.dispose();
      return { history: withoutTimings(r.history), probs: Array.from(probs.data) };
    };
    const preset = await run('cnn');
    const layers = await run(cnnTwin);
    t.deepEqual(layers.history, preset.history);
    t.deepEqual(layers.probs, preset.probs);
    t.true(preset.history.accuracy[1] > 0.5, `it learns: ${preset.history.accuracy[1]}`);
  });
}

test('a relu CNN of the layers API learns real Fashion-MNIST images', async (t) => {
  const train = await realImages(3000);
  const model = {
    layers: [
      { type: 'conv2d', filters: 16, kernelSize: 3, activation: 'relu', padding: 'same' },
      { type: 'batchNormalization' },
      { type: 'maxPooling2d' },
      { type: 'conv2d', filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: 'heNormal', kernelRegularizer: { l2: 1e-4 } },
      { type: 'batchNormalization' },
      { type: 'maxPooling2d' },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.25 },
      { type: 'dense', units: 5, activation: 'softmax' },
    ],
  };
  const result = await trainModel({ model, train, epochs: 2, batchSize: 64, threads: 2, seed: 1 });
  // Validation lags on runs this short (Keras's BatchNorm momentum 0.99): judge training accuracy. Chance is 20 %.
  t.true(result.history.accuracy[1] > 0.75, `training accuracy ${result.history.accuracy[1]}`);
  t.true(result.history.loss[1] < result.history.loss[0]);
  t.is(result.model.config.kind, 'layers');
  t.is(result.model.config.layers[0].kernelInitializer, 'glorotUniform', 'defaults filled');
  const summary = result.model.summary();
  t.is(summary.name, 'sequential');
  t.is(summary.totalParams, describeModel(model).totalParams);
  t.is(summary.layers[1].config, '16 filters 3x3, same, relu');
  result.model.dispose();
});

test("a layers model's conv -> relu -> BatchNorm -> MaxPool(2) runs the fused kernel and trains as libtorch's ops do", async (t) => {
  const model = {
    layers: [
      { type: 'conv2d', filters: 16, kernelSize: 3, activation: 'relu', padding: 'same' },
      { type: 'batchNormalization' },
      { type: 'maxPooling2d' },
      { type: 'conv2d', filters: 32, kernelSize: 3, activation: 'relu' },
      { type: 'batchNormalization' },
      { type: 'maxPooling2d' },
      { type: 'flatten' },
      { type: 'dense', units: 5, activation: 'softmax' },
    ],
  };
  const spec = nativeModelSpec(resolveModelChoice(model), 5, [1, 28, 28]);
  const opsOf = (kernels) => new Set(native()._profileStep(spec, {
    optimizer: 'sgd', learningRate: 0.01, batchSize: 8, threads: 1, kernels, warmup: 0, steps: 1,
  }).ops.map((op) => op.name));
  const fused = opsOf('fused');
  t.true(fused.has('torchfit::activation_bn_pool') && fused.has('torchfit::activation_bn_pool_backward'), [...fused].join(', '));
  t.false(fused.has('aten::max_pool2d_with_indices'));
  t.true(opsOf('plain').has('aten::max_pool2d_with_indices'));
  const train = await realImages(512);
  const run = async (kernels) => {
    const r = await trainModel({ model, train, epochs: 1, batchSize: 64, seed: 3, threads: 2, kernels, optimizer: 'sgd' });
    r.model.dispose();
    return r.history;
  };
  const [a, b] = [await run('fused'), await run('plain')];
  // 8 SGD steps apart only by float32 rounding (the kernels are compared op by op in test/kernels.test.js).
  t.true(Math.abs(a.loss[0] - b.loss[0]) < 1e-3 * Math.abs(b.loss[0]), `fused ${a.loss[0]}, plain ${b.loss[0]}`);
});

test('same seed, same history with dropout; another seed differs', async (t) => {
  const train = await realImages(512);
  const model = { layers: [{ type: 'flatten' }, { type: 'dropout', rate: 0.5 }, { type: 'dense', units: 5 }] };
  const run = async (seed) => {
    const r = await trainModel({ model, train, epochs: 1, batchSize: 64, seed, threads: 2 });
    r.model.dispose();
    return withoutTimings(r.history);
  };
  const a = await run(3);
  t.deepEqual(await run(3), a);
  t.notDeepEqual((await run(4)).loss, a.loss);
});

test('a residual model saves and loads: same predictions, same description, training resumes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'torchfit-layers-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const train = await realImages(512);
  const model = {
    layers: [
      { type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' },
      { type: 'residual', layers: [
        { type: 'batchNormalization', momentum: 0.9 }, { type: 'activation', activation: 'relu' },
        { type: 'conv2d', filters: 16, kernelSize: 3, strides: 2, padding: 'same' },
      ], shortcut: [{ type: 'conv2d', filters: 16, kernelSize: 1, strides: 2, useBias: false }], activation: 'relu' },
      { type: 'residual', layers: [{ type: 'conv2d', filters: 16, kernelSize: [3, 1], padding: 'same', activation: 'elu' }] },
      { type: 'averagePooling2d', poolSize: 3, strides: 2, padding: 'same' },
      { type: 'globalAveragePooling2d' },
      { type: 'dense', units: 5, activation: 'softmax', kernelInitializer: 'glorotNormal' },
    ],
  };
  const { model: trained } = await trainModel({ model, train, epochs: 1, batchSize: 64, threads: 2 });
  const path = join(dir, 'residual.pt');
  await trained.save(path);
  const loaded = await Model.load(path);
  t.deepEqual(loaded.config, trained.config);
  t.deepEqual(loaded.summary(), trained.summary());
  const a = await trained.predict(train.x);
  const b = await loaded.predict(train.x);
  t.deepEqual(Array.from(b.data), Array.from(a.data));
  const more = await trainModel({ model: loaded.config, train, epochs: 1, batchSize: 64, threads: 2, resume: loaded });
  t.is(more.history.epoch.length, 2);
  trained.dispose();
  loaded.dispose();
});
