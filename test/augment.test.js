// Augmentation (trainModel's augment option): the native transforms checked pixel by pixel on small
// images through the internal _augmentBatch, rotation and zoom against scipy.ndimage (what Keras's
// ImageDataGenerator runs), seeded determinism, option validation, and validation data left alone.
import test from 'ava';

import { InvalidOptionError, trainModel } from '../dist/index.js';
import { resolveAugment } from '../dist/torch/augment.js';
import { native } from '../dist/torch/native.js';
import { needs, python } from './support/conditional.js';
import { pyJson } from './support/python.js';
import { realImages, withoutTimings } from './support/data.js';

const PARAMS = 9;  // columns of the per-image draws (native/core/augment.h)
const [ROT, ROW, COL, ZR, ZC, FH, FV, CR, CC] = [0, 1, 2, 3, 4, 5, 6, 7, 8];

/** Images whose every pixel differs: value = 1 + index (N, C, H, W). */
const ramp = (n, c, h, w) => Float32Array.from({ length: n * c * h * w }, (_, i) => 1 + i);

/** Rows of draws; each row an object of the columns to set (the rest: no change). */
function params(rows) {
  const out = new Float64Array(rows.length * PARAMS);
  rows.forEach((row, i) => {
    out[i * PARAMS + ZR] = 1;
    out[i * PARAMS + ZC] = 1;
    for (const [k, v] of Object.entries(row)) out[i * PARAMS + Number(k)] = v;
  });
  return out;
}

function augment(x, shape, options, p, seed = 0, tensorOps = false) {
  return native()._augmentBatch(x, shape, resolveAugment(options), seed, p, tensorOps);
}

/** Index k outside [0, n) mapped as scipy's modes map it; -1 for 'constant' outside. */
function extend(k, n, mode) {
  if (k >= 0 && k < n) return k;
  if (mode === 'constant') return -1;
  if (mode === 'nearest') return k < 0 ? 0 : n - 1;
  const m = ((k % (2 * n)) + 2 * n) % (2 * n);
  return m >= n ? 2 * n - 1 - m : m;
}

/** out[r, c] = in[r + dr, c + dc] with the fill mode, per image and channel (the plain way). */
function shifted(x, [n, ch, h, w], offsets, mode, cval) {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < ch; c++) for (let r = 0; r < h; r++) for (let q = 0; q < w; q++) {
    const rr = extend(r + offsets[i][0], h, mode);
    const qq = extend(q + offsets[i][1], w, mode);
    out[((i * ch + c) * h + r) * w + q] = rr < 0 || qq < 0 ? cval : x[((i * ch + c) * h + rr) * w + qq];
  }
  return out;
}

test('flips are exact mirror images, per image as drawn', (t) => {
  const shape = [3, 2, 3, 4];
  const x = ramp(...shape);
  const p = params([{ [FH]: 1 }, { [FV]: 1 }, { [FH]: 1, [FV]: 1 }]);
  const out = augment(x, shape, { horizontalFlip: true, verticalFlip: true }, p).images;
  const [, ch, h, w] = shape;
  const expected = new Float32Array(x.length);
  for (let i = 0; i < 3; i++) for (let c = 0; c < ch; c++) for (let r = 0; r < h; r++) for (let q = 0; q < w; q++) {
    const sr = i === 0 ? r : h - 1 - r;
    const sq = i === 1 ? q : w - 1 - q;
    expected[((i * ch + c) * h + r) * w + q] = x[((i * ch + c) * h + sr) * w + sq];
  }
  t.deepEqual(Array.from(out), Array.from(expected));
});

for (const mode of ['nearest', 'constant', 'reflect']) {
  test(`whole-pixel shifts copy pixels exactly (fillMode '${mode}')`, (t) => {
    const shape = [4, 2, 5, 6];
    const x = ramp(...shape);
    const offsets = [[2, -3], [-1, 4], [0, 0], [-4, -5]];
    const p = params(offsets.map(([dr, dc]) => ({ [ROW]: dr, [COL]: dc })));
    const out = augment(x, shape, { widthShift: 6, heightShift: 5, fillMode: mode, cval: -7 }, p).images;
    t.deepEqual(out, shifted(x, shape, offsets, mode, -7));
  });
}

test('random crop: zero padding then a crop at the drawn offset, exactly', (t) => {
  const shape = [3, 1, 4, 5];
  const x = ramp(...shape);
  const offsets = [[2, -2], [0, 1], [-2, 0]];
  const p = params(offsets.map(([dr, dc]) => ({ [CR]: dr, [CC]: dc })));
  const out = augment(x, shape, { randomCrop: { padding: 2 } }, p).images;
  t.deepEqual(out, shifted(x, shape, offsets, 'constant', 0));
});

test('a 90 degree rotation of a square image is the exact pixel permutation (to float rounding)', (t) => {
  const shape = [1, 1, 5, 5];
  const x = ramp(...shape);
  const out = augment(x, shape, { rotation: 90 }, params([{ [ROT]: 90 }])).images;
  // Keras's matrix about the centre: output (r, c) samples input (n - 1 - c, r).
  for (let r = 0; r < 5; r++) for (let c = 0; c < 5; c++) t.true(Math.abs(out[r * 5 + c] - x[(4 - c) * 5 + r]) < 1e-4, `(${r}, ${c})`);
});

test('draws: shifts in Keras\'s ranges (whole pixels for whole numbers, fractions of the size below 1), crops within the padding', (t) => {
  const n = 400;
  const shape = [n, 1, 10, 20];
  const x = new Float32Array(n * 200);
  const { params: p } = augment(x, shape, { widthShift: 3, heightShift: 0.5, rotation: 20, zoom: 0.1, horizontalFlip: true, randomCrop: { padding: 4 } }, undefined, 11);
  const column = (k) => Array.from({ length: n }, (_, i) => p[i * PARAMS + k] + 0);
  const distinct = (k) => [...new Set(column(k))].sort((a, b) => a - b);
  t.deepEqual(distinct(COL), [-2, -1, 0, 1, 2], 'widthShift 3: whole pixels -2..2');
  t.true(column(ROW).every((v) => v >= -5 && v < 5) && column(ROW).some((v) => !Number.isInteger(v)), 'heightShift 0.5: [-5, 5) pixels of 10');
  t.true(column(ROT).every((v) => Math.abs(v) <= 20));
  t.true([...column(ZR), ...column(ZC)].every((v) => v >= 0.9 && v <= 1.1));
  t.deepEqual(distinct(FH), [0, 1]);
  t.deepEqual(distinct(FV), [0], 'verticalFlip off');
  t.deepEqual(distinct(CR), [-4, -3, -2, -1, 0, 1, 2, 3, 4]);
});

test('the same seed gives the same images; another seed other images', (t) => {
  const shape = [8, 3, 6, 6];
  const x = ramp(...shape);
  const options = { widthShift: 0.2, heightShift: 0.2, rotation: 15, zoom: 0.2, horizontalFlip: true, fillMode: 'reflect' };
  const a = augment(x, shape, options, undefined, 5);
  const b = augment(x, shape, options, undefined, 5);
  const c = augment(x, shape, options, undefined, 6);
  t.deepEqual(a.images, b.images);
  t.deepEqual(a.params, b.params);
  t.notDeepEqual(a.images, c.images);
});

test('the CPU loop and the tensor ops (the path of other devices) give the same images in every fill mode', (t) => {
  const shape = [16, 3, 9, 11];
  const x = Float32Array.from({ length: 16 * 3 * 9 * 11 }, (_, i) => Math.cos(i * 1.3));
  for (const fillMode of ['nearest', 'constant', 'reflect']) {
    const options = { rotation: 180, widthShift: 0.4, heightShift: 3.5, zoom: [0.5, 2], fillMode, cval: -2, horizontalFlip: true, randomCrop: { padding: 2 } };
    const loop = augment(x, shape, options, undefined, 21);
    const ops = augment(x, shape, options, undefined, 21, true);
    t.deepEqual(loop.params, ops.params);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(loop.images[i] - ops.images[i]));
    t.true(worst <= 1e-6, `${fillMode}: max difference ${worst}`);
  }
});

needs(python('numpy', 'scipy.ndimage'))('rotation, shifts and zoom match scipy.ndimage.affine_transform with Keras\'s matrix, in every fill mode', (t) => {
  const shape = [3, 2, 6, 7];
  const x = Float32Array.from({ length: 3 * 2 * 6 * 7 }, (_, i) => Math.sin(i * 0.7) * 3);
  const draws = [
    { [ROT]: 30, [ROW]: 0.7, [COL]: -1.3, [ZR]: 0.8, [ZC]: 1.2 },
    { [ROT]: -75, [ROW]: -2.2, [COL]: 0.4, [ZR]: 1.3, [ZC]: 0.9 },
    { [ROT]: 0, [ROW]: 0, [COL]: 0, [ZR]: 0.6, [ZC]: 1.5 },
  ];
  for (const mode of ['nearest', 'constant', 'reflect']) {
    const options = { rotation: 90, widthShift: 0.5, heightShift: 0.5, zoom: [0.5, 1.5], fillMode: mode, cval: 0.25 };
    const ours = augment(x, shape, options, params(draws)).images;
    const ops = augment(x, shape, options, params(draws), 0, true).images;
    // Keras's apply_affine_transform: rotation @ shift @ zoom, about the centre; scipy order 1.
    const expected = pyJson(`
import json, sys
import numpy as np
from scipy import ndimage
d = json.load(sys.stdin)
x = np.array(d['x'], dtype=np.float64).reshape(d['shape'])
out = []
for img, p in zip(x, d['draws']):
    th = np.deg2rad(p['rot'])
    R = np.array([[np.cos(th), -np.sin(th), 0], [np.sin(th), np.cos(th), 0], [0, 0, 1]])
    S = np.array([[1, 0, p['row']], [0, 1, p['col']], [0, 0, 1]])
    Z = np.array([[p['zr'], 0, 0], [0, p['zc'], 0], [0, 0, 1]])
    h, w = img.shape[1:]
    o = np.array([[1, 0, h / 2 - 0.5], [0, 1, w / 2 - 0.5], [0, 0, 1]])
    back = np.array([[1, 0, -(h / 2 - 0.5)], [0, 1, -(w / 2 - 0.5)], [0, 0, 1]])
    M = o @ R @ S @ Z @ back
    out.append([ndimage.affine_transform(ch, M[:2, :2], M[:2, 2], order=1, mode=d['mode'], cval=d['cval']) for ch in img])
print(json.dumps(np.array(out).ravel().tolist()))
`, [], JSON.stringify({ x: Array.from(x), shape, mode, cval: 0.25, draws: draws.map((p) => ({ rot: p[ROT], row: p[ROW], col: p[COL], zr: p[ZR], zc: p[ZC] })) }));
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(ours[i] - expected[i]), Math.abs(ops[i] - expected[i]));
    t.true(worst < 1e-5, `${mode}: max |ours - scipy| = ${worst} (CPU loop and tensor ops)`);
  }
});

test('augment options are validated with their paths', async (t) => {
  const x = { dtype: 'float32', shape: [8, 12, 12], data: new Float32Array(8 * 144) };
  const y = Int32Array.from({ length: 8 }, (_, i) => i % 2);
  const cases = [
    [{ zoom: 1.5 }, 'augment.zoom', 'Invalid option augment.zoom: expected a number in [0, 1) (zoom factors 1 - z to 1 + z) or [low, high], received 1.5'],
    [{ fillMode: 'wrap' }, 'augment.fillMode', "Invalid option augment.fillMode: expected 'nearest', 'constant' or 'reflect', received \"wrap\""],
    [{ randomCrop: { padding: 0 } }, 'augment.randomCrop.padding', 'Invalid option augment.randomCrop.padding: expected an integer from 1 to 4096, received 0'],
    [{ widthShift: -0.1 }, 'augment.widthShift', 'Invalid option augment.widthShift: expected a number >= 0 (below 1: a fraction of the size; 1 or more: pixels), received -0.1'],
    [{ horizontalflip: true }, 'augment.horizontalflip', 'Invalid option augment.horizontalflip: expected one of horizontalFlip, verticalFlip, widthShift, heightShift, rotation, zoom, fillMode, cval, randomCrop, received "horizontalflip"'],
    [{ cval: Number.NaN }, 'augment.cval', 'Invalid option augment.cval: expected a finite number, received NaN'],
  ];
  for (const [augment, option, message] of cases) {
    const error = await t.throwsAsync(trainModel({ model: 'cnn', train: { x, y }, epochs: 1, batchSize: 4, augment }), { instanceOf: InvalidOptionError });
    t.is(error.option, option);
    t.is(error.message, message);
  }
});

test('training with augment: deterministic for a seed, different from plain training, and validation data never augmented', async (t) => {
  t.timeout(300_000);
  const train = await realImages(512);
  const val = await realImages(256, 40_000);
  const options = { model: 'cnn', train, validation: val, epochs: 1, batchSize: 64, threads: 1, seed: 4, earlyStopping: false };
  const augment = { rotation: 90, horizontalFlip: true, verticalFlip: true, widthShift: 0.3, fillMode: 'constant', randomCrop: { padding: 3 } };
  const a = await trainModel({ ...options, augment });
  const b = await trainModel({ ...options, augment });
  const plain = await trainModel(options);
  t.deepEqual(withoutTimings(a.history), withoutTimings(b.history), 'same seed, same augmented run');
  t.not(a.history.loss[0], plain.history.loss[0], 'augmentation changed the training batches');
  // After the last epoch the weights are those validation ran with: evaluating the untouched
  // validation images must give the very figures the fit loop reported.
  const evaluated = await a.model.evaluate(val.x, val.y);
  t.is(evaluated.loss, a.history.valLoss[0]);
  t.is(evaluated.accuracy, a.history.valAccuracy[0]);
  for (const r of [a, b, plain]) r.model.dispose();
});
