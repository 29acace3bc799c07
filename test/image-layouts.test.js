// Images of any channel count and size: how shapes are read, the native channels_last transpose,
// the architectures' minimum sizes, colour in summaries, the grid and plain state_dicts.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';

import { describeModel, InvalidOptionError, Model, readTorchArchive, renderImageGrid, Tensor, trainModel } from '../dist/index.js';
import { resolveLayout } from '../dist/data/image-layout.js';
import { minimumSide } from '../dist/torch/image-size.js';
import { native } from '../dist/torch/native.js';
import { dictPickle, tensorPickle, torchArchive } from './support/torch-archive.js';

const dir = mkdtempSync(join(tmpdir(), 'torchfit-layouts-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** A deterministic pseudo-random float32 array (LCG), values in [0, 1). */
function noise(length, seed = 1) {
  let s = seed >>> 0;
  return Float32Array.from({ length }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
}

/** (N, H, W, C) -> (N, C, H, W), the plain way. */
function toChannelsFirst(data, [n, h, w, c]) {
  const out = new Float32Array(data.length);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    out[((i * c + k) * h + y) * w + x] = data[((i * h + y) * w + x) * c + k];
  }
  return out;
}

test('4-D shapes: channels_last when the last axis is 1-4 and smaller than the others, else channels_first; dataFormat decides', (t) => {
  t.deepEqual(resolveLayout([600, 32, 32, 3], 'x'), { shape: [600, 3, 32, 32], channelsLast: true });
  t.deepEqual(resolveLayout([600, 3, 32, 32], 'x'), { shape: [600, 3, 32, 32], channelsLast: false });
  t.deepEqual(resolveLayout([60, 28, 28, 1], 'x'), { shape: [60, 1, 28, 28], channelsLast: false }, 'one channel: the same bytes, no transpose');
  t.deepEqual(resolveLayout([60, 28, 28], 'x'), { shape: [60, 1, 28, 28], channelsLast: false });
  t.deepEqual(resolveLayout([8, 16, 8, 8], 'x'), { shape: [8, 16, 8, 8], channelsLast: false });
  t.deepEqual(resolveLayout([8, 4, 4, 4], 'x'), { shape: [8, 4, 4, 4], channelsLast: false }, 'last axis not smaller: channels_first');
  t.deepEqual(resolveLayout([8, 4, 4, 4], 'x', 'channels_last'), { shape: [8, 4, 4, 4], channelsLast: true });
  t.deepEqual(resolveLayout([8, 32, 32, 3], 'x', 'channels_first'), { shape: [8, 32, 32, 3], channelsLast: false });
  const error = t.throws(() => resolveLayout([8, 0, 5, 5], 'train.x'), { instanceOf: InvalidOptionError });
  t.is(error.message, 'Invalid option train.x.shape: expected images with at least one channel (read as channels_first (N, C, H, W)), received [8, 0, 5, 5]');
});

test('the native channels_last transpose equals the plain one (odd sizes, 3 and 4 channels)', (t) => {
  for (const shape of [[3, 5, 7, 3], [2, 4, 3, 4], [1, 1, 1, 2]]) {
    const [n, h, w, c] = shape;
    const data = noise(n * h * w * c, n + c);
    const out = native()._toNchw(data, [n, c, h, w]);
    t.deepEqual(out.data, toChannelsFirst(data, shape), `shape ${shape}`);
  }
});

test('minimum sizes come from the layers: CNN 10x10, ResNet 1x1; below it a clear InvalidOptionError', async (t) => {
  t.is(minimumSide({ kind: 'cnn' }), 10);
  t.is(minimumSide({ kind: 'resnet', depth: 20 }), 1);
  const x = { dtype: 'float32', shape: [8, 9, 28, 3], data: noise(8 * 9 * 28 * 3) };
  const y = Int32Array.from({ length: 8 }, (_, i) => i % 2);
  const error = await t.throwsAsync(trainModel({ model: 'cnn', train: { x, y }, epochs: 1, batchSize: 4 }), { instanceOf: InvalidOptionError });
  t.is(error.option, 'train.x.shape');
  t.is(error.message, "Invalid option train.x.shape: expected images of at least 10x10 pixels for the 'cnn' model (its two 3x3 valid convolutions and 2x2 poolings leave nothing of a smaller image), received 9x28");
  t.throws(() => describeModel({ kind: 'cnn' }, { numClasses: 5, inputShape: [9, 9, 1] }), { instanceOf: InvalidOptionError, message: /inputShape/ });
});

test('the smallest sizes train: a 10x10 colour CNN and a 2x2 colour ResNet', async (t) => {
  t.timeout(120_000);
  const y = Int32Array.from({ length: 16 }, (_, i) => i % 2);
  for (const [model, h, w] of [['cnn', 10, 10], [{ kind: 'resnet', depth: 8 }, 2, 2]]) {
    const x = { dtype: 'float32', shape: [16, h, w, 3], data: noise(16 * h * w * 3, h) };
    // (16, 2, 2, 3) would read as channels_first (its last axis is not smaller than the others): say so.
    const { model: trained, history } = await trainModel({ model, train: { x, y }, epochs: 1, batchSize: 8, threads: 1, dataFormat: 'channels_last' });
    t.true(Number.isFinite(history.loss[0]), `${JSON.stringify(model)} ${h}x${w}`);
    t.deepEqual(trained.summary().inputShape, [h, w, 3]);
    trained.dispose();
  }
});

test('channels_last and channels_first copies of the same images give identical predictions; dataFormat overrides the reading', async (t) => {
  t.timeout(120_000);
  const shape = [24, 12, 12, 3];
  const last = { dtype: 'float32', shape, data: noise(24 * 12 * 12 * 3, 7) };
  const first = { dtype: 'float32', shape: [24, 3, 12, 12], data: toChannelsFirst(last.data, shape) };
  const y = Int32Array.from({ length: 24 }, (_, i) => i % 3);
  const a = await trainModel({ model: 'cnn', train: { x: last, y }, validation: { x: last, y }, epochs: 1, batchSize: 8, threads: 1, seed: 3 });
  const b = await trainModel({ model: 'cnn', train: { x: first, y }, validation: { x: first, y }, epochs: 1, batchSize: 8, threads: 1, seed: 3 });
  t.deepEqual(a.history.loss, b.history.loss, 'same training either way');
  t.deepEqual(a.history.valLoss, b.history.valLoss);
  t.deepEqual(a.model.config, { kind: 'cnn', depth: 0, numClasses: 3, channels: 3, height: 12, width: 12, batchNormMomentum: 0.99 });
  t.deepEqual((await a.model.predict(last)).data, (await a.model.predict(first)).data);
  const tensor = Tensor.from(last.data, shape);
  t.deepEqual((await a.model.predict(tensor)).data, (await a.model.predict(first)).data, 'a channels_last Tensor too');
  tensor.dispose();
  t.deepEqual(await a.model.evaluate(last, y), await a.model.evaluate(first, y, { dataFormat: 'channels_first' }));
  const error = await t.throwsAsync(a.model.predict(last, { dataFormat: 'channels_first' }), { instanceOf: InvalidOptionError });
  t.is(error.message, 'Invalid option x.shape: expected 12x12 images with 3 channel(s) for this model, received 12x3 with 12 channel(s)');
  a.model.dispose();
  b.model.dispose();
});

test('summary counts the channels: the CNN on 32x32x3 has 40,901 parameters (hand-computed), on 28x28x1 33,989', (t) => {
  // conv 3*9*32+32 = 896, BNs 128+128+256+256, conv 18,496, flatten 64*6*6 = 2,304, BN 9,216, dense 2,304*5+5 = 11,525.
  const colour = describeModel({ kind: 'cnn' }, { numClasses: 5, inputShape: [32, 32, 3] }).summary;
  t.is(colour.totalParams, 40_901);
  t.deepEqual(colour.inputShape, [32, 32, 3]);
  t.deepEqual(colour.layers[0].outputShape, [32, 32, 3]);
  t.is(colour.layers[1].params, 896);
  t.is(describeModel({ kind: 'cnn' }).summary.totalParams, 33_989);
});

test('the image grid draws RGB images in colour, from either layout', async (t) => {
  // Two 2x2 images: image 0 pure red, image 1 pure blue at half strength.
  const nhwc = new Float32Array(2 * 2 * 2 * 3);
  for (let p = 0; p < 4; p++) {
    nhwc[p * 3] = 1;
    nhwc[12 + p * 3 + 2] = 0.5;
  }
  for (const [images, dataFormat] of [
    [{ dtype: 'float32', shape: [2, 2, 2, 3], data: nhwc }, 'channels_last'],
    [{ dtype: 'float32', shape: [2, 3, 2, 2], data: toChannelsFirst(nhwc, [2, 2, 2, 3]) }, undefined],
  ]) {
    const fig = await renderImageGrid(images, { title: '', scale: 8, order: 'row-major', pngScale: 1, dataFormat });
    const mosaic = PNG.sync.read(Buffer.from(/base64,([^"]+)"/.exec(fig.svg)[1], 'base64'));
    const at = (x, y) => Array.from(mosaic.data.subarray((y * mosaic.width + x) * 4, (y * mosaic.width + x) * 4 + 3));
    t.deepEqual(at(4, 4), [255, 0, 0], `first image red (${images.shape})`);
    t.deepEqual(at(16 + 10 + 4, 4), [0, 0, 128], 'second image half blue');
  }
});

test('Model.load of a plain state_dict reads the channel count from the first convolution', async (t) => {
  t.timeout(120_000);
  const x = { dtype: 'float32', shape: [16, 16, 16, 3], data: noise(16 * 16 * 16 * 3, 9) };
  const y = Int32Array.from({ length: 16 }, (_, i) => i % 4);
  const { model } = await trainModel({ model: 'cnn', train: { x, y }, epochs: 1, batchSize: 8, threads: 1 });
  const ours = join(dir, 'colour-cnn.pt');
  await model.save(ours);
  const expected = (await model.predict(x)).data;
  model.dispose();
  const sd = readTorchArchive(readFileSync(ours), ours).state_dict;
  const storages = {};
  const items = Object.entries(sd).map(([name, tensor], i) => {
    storages[i] = tensor.data;
    const stride = tensor.shape.map((_, d) => tensor.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    return [name, tensorPickle({ key: String(i), storage: tensor.dtype === 'int64' ? 'LongStorage' : 'FloatStorage', numel: tensor.data.length, size: tensor.shape, stride })];
  });
  const plain = join(dir, 'plain-colour-cnn.pt');
  writeFileSync(plain, torchArchive(dictPickle(items), storages));
  const loaded = await Model.load(plain, { imageSize: [16, 16] });
  t.deepEqual(loaded.config, { kind: 'cnn', depth: 0, numClasses: 4, channels: 3, height: 16, width: 16, batchNormMomentum: 0.99 });
  t.deepEqual((await loaded.predict(x)).data, expected);
  loaded.dispose();
  const error = await t.throwsAsync(Model.load(plain, { imageSize: [8, 8] }), { instanceOf: InvalidOptionError });
  t.is(error.option, 'imageSize');
  t.regex(error.message, /at least 10x10 pixels/);
});
