import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DATASET_FILES, DEFAULT_GROUPING, buildDataset, loadDataset, readIdxImages, saveNpy } from '../dist/data/index.js';
import { DatasetError, InvalidOptionError } from '../dist/errors.js';
import { file, needs, python } from './support/conditional.js';
import { idxFile } from './support/idx-writer.js';
import { pyJson } from './support/python.js';

const SOURCE = '/usr/share/datasets/fashion-mnist';
const source = file(join(SOURCE, 'train-images-idx3-ubyte.gz'), 'apt-get install dataset-fashion-mnist');
const tmp = await mkdtemp(join(tmpdir(), 'torchfit-dataset-'));
test.after.always(() => rm(tmp, { recursive: true, force: true }));

/** A tiny Fashion-MNIST-like source folder: `n` images of `size`x`size` with labels `labels(i)`. */
async function fakeSource(dir, { nTrain = 20, nTest = 10, size = 28, label = (i) => i % 10 } = {}) {
  await mkdir(dir, { recursive: true });
  const write = (name, magic, dims, data) => writeFile(join(dir, name), gzipSync(idxFile(magic, dims, data)));
  for (const [prefix, n] of [['train', nTrain], ['t10k', nTest]]) {
    const pixels = Uint8Array.from({ length: n * size * size }, (_, i) => (i * 7) % 256);
    await write(`${prefix}-images-idx3-ubyte.gz`, 0x803, [n, size, size], pixels);
    await write(`${prefix}-labels-idx1-ubyte.gz`, 0x801, [n], Uint8Array.from({ length: n }, (_, i) => label(i)));
  }
  return dir;
}

// Built once from Debian's files (a few seconds) and shared by the tests that need the real data.
let real;
async function realDataset() {
  real ??= (async () => {
    const outDir = join(tmp, 'real');
    const result = await buildDataset({ outDir });
    return { outDir, result };
  })();
  return real;
}

needs(source)('builds the notebook-format files from the real Fashion-MNIST, 12,000 / 2,000 images per class', async (t) => {
  const { outDir, result } = await realDataset();
  t.true(result.built);
  t.deepEqual(result.counts, { train: [12000, 12000, 12000, 12000, 12000], test: [2000, 2000, 2000, 2000, 2000] });
  const train = await loadDataset(join(outDir, DATASET_FILES.train));
  t.is(train.features.dtype, 'float32');
  t.deepEqual(train.features.shape, [60000, 28, 28]);
  t.is(train.target.dtype, 'float64');
  t.deepEqual(train.target.shape, [60000]);
  t.deepEqual(train.classNames, DEFAULT_GROUPING.map((g) => g.name));
  t.is(train.target.data[0], 5, 'the first image is an ankle boot: Bags & boots');
  // Features are pixel / 255 of the original images, in their original order.
  const images = await readIdxImages(join(SOURCE, 'train-images-idx3-ubyte.gz'));
  for (const i of [0, 1, 12345, 47040000 - 1]) t.is(train.features.data[i], Math.fround(images.data[i] / 255));
  let min = Infinity; let max = -Infinity;
  for (const v of train.features.data) { if (v < min) min = v; if (v > max) max = v; }
  t.deepEqual([min, max], [0, 1]);
  const test = await loadDataset(join(outDir, DATASET_FILES.test));
  t.deepEqual(test.features.shape, [10000, 28, 28]);
  t.true(train.features.data.byteOffset % 64 === 0 && train.features.data.buffer.byteLength >= 188_000_000, 'features view the file buffer');
  t.deepEqual(await readdir(outDir), [DATASET_FILES.test, DATASET_FILES.train].sort(), 'no temporary files left behind');
});

needs(source, python('numpy'))("numpy loads our files exactly as the notebook does and sees the same data", async (t) => {
  const { outDir } = await realDataset();
  const got = pyJson(`
import sys, json, gzip, hashlib, numpy as np
out = {}
for part, prefix in (('train', 'train'), ('test', 't10k')):
    d = np.load(sys.argv[1] + '/fashion_mnist_dataset_%s.npy' % part, allow_pickle=True)[()]
    raw = gzip.open(sys.argv[2] + '/%s-images-idx3-ubyte.gz' % prefix).read()[16:]
    ref = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 28, 28).astype(np.float32) / 255
    labels = np.frombuffer(gzip.open(sys.argv[2] + '/%s-labels-idx1-ubyte.gz' % prefix).read()[8:], dtype=np.uint8)
    groups = np.array([1, 2, 3, 2, 3, 4, 1, 4, 5, 5], dtype=np.float64)
    u, c = np.unique(d['target'], return_counts=True)
    out[part] = {
        'type': type(d).__name__, 'keys': sorted(d.keys()),
        'features': [d['features'].dtype.str, list(d['features'].shape)], 'target': [d['target'].dtype.str, list(d['target'].shape)],
        'unique': u.tolist(), 'counts': c.tolist(), 'class_names': d['class_names'],
        'features_equal': bool(np.array_equal(d['features'], ref)), 'target_equal': bool(np.array_equal(d['target'], groups[labels])),
    }
print(json.dumps(out))`, [outDir, SOURCE]);
  for (const [part, n] of [['train', 60000], ['test', 10000]]) {
    const g = got[part];
    t.is(g.type, 'dict');
    t.deepEqual(g.keys, ['class_names', 'features', 'target']);
    t.deepEqual(g.features, ['<f4', [n, 28, 28]]);
    t.deepEqual(g.target, ['<f8', [n]]);
    t.deepEqual(g.unique, [1, 2, 3, 4, 5]);
    t.deepEqual(g.counts, new Array(5).fill(n / 5));
    t.deepEqual(g.class_names, ['Tops', 'Trousers & dresses', 'Pullovers & coats', 'Sandals & sneakers', 'Bags & boots']);
    t.true(g.features_equal, `${part}: features == idx.astype(float32) / 255`);
    t.true(g.target_equal, `${part}: target follows the grouping table`);
  }
});

test('skips the work when valid files exist, rebuilds when forced or when a file is damaged', async (t) => {
  const src = await fakeSource(join(tmp, 'src-skip'));
  const outDir = join(tmp, 'out-skip');
  t.true((await buildDataset({ sourceDir: src, outDir })).built);
  const before = (await stat(join(outDir, DATASET_FILES.train))).mtimeMs;
  t.false((await buildDataset({ sourceDir: src, outDir })).built);
  t.is((await stat(join(outDir, DATASET_FILES.train))).mtimeMs, before);
  t.true((await buildDataset({ sourceDir: src, outDir, force: true })).built);
  await truncate(join(outDir, DATASET_FILES.test), 100);
  t.true((await buildDataset({ sourceDir: src, outDir })).built);
  t.deepEqual((await loadDataset(join(outDir, DATASET_FILES.test))).features.shape, [10, 28, 28]);
  // A different grouping makes the existing files stale.
  const two = [{ label: 1, name: 'Clothes', classes: [0, 1, 2, 3, 4, 6] }, { label: 2, name: 'Other', classes: [5, 7, 8, 9] }];
  const r = await buildDataset({ sourceDir: src, outDir, grouping: two });
  t.true(r.built);
  t.deepEqual(r.counts, { train: [12, 8], test: [6, 4] });
  const d = await loadDataset(join(outDir, DATASET_FILES.train));
  t.deepEqual(d.classNames, ['Clothes', 'Other']);
  t.deepEqual(Array.from(d.target.data.subarray(0, 10)), [1, 1, 1, 1, 1, 2, 1, 2, 2, 2]);
});

test('source problems raise DatasetError naming the file', async (t) => {
  await t.throwsAsync(buildDataset({ sourceDir: join(tmp, 'nowhere'), outDir: join(tmp, 'o1') }), { instanceOf: DatasetError, message: /train-images-idx3-ubyte\.gz: Fashion-MNIST source file not found \(on Debian\/Ubuntu: sudo apt-get install dataset-fashion-mnist/ });
  const odd = await fakeSource(join(tmp, 'src-odd'), { label: (i) => (i === 3 ? 12 : 0) });
  const e = await t.throwsAsync(buildDataset({ sourceDir: odd, outDir: join(tmp, 'o2') }), { instanceOf: DatasetError, message: /image 3 has class 12, which no group of the grouping includes/ });
  t.regex(e.file, /train-labels-idx1-ubyte\.gz$/);
  const small = await fakeSource(join(tmp, 'src-small'), { size: 27 });
  await t.throwsAsync(buildDataset({ sourceDir: small, outDir: join(tmp, 'o3') }), { instanceOf: DatasetError, message: /images are 27x27, expected 28x28/ });
});

test('invalid options and groupings are refused', async (t) => {
  const cases = [
    [{ outDir: '' }, 'outDir'], [{ sourceDir: 3 }, 'sourceDir'], [{ force: 'yes' }, 'force'], [{ grouping: [] }, 'grouping'],
    [{ grouping: [{ label: 2, name: 'a', classes: [0] }] }, 'grouping[0].label'],
    [{ grouping: [{ label: 1, name: '', classes: [0] }] }, 'grouping[0].name'],
    [{ grouping: [{ label: 1, name: 'a', classes: [] }] }, 'grouping[0].classes'],
    [{ grouping: [{ label: 1, name: 'a', classes: [0] }, { label: 1, name: 'b', classes: [1] }] }, 'grouping[1].label'],
    [{ grouping: [{ label: 1, name: 'a', classes: [0] }, { label: 2, name: 'b', classes: [0] }] }, 'grouping[1].classes'],
  ];
  for (const [opts, option] of cases) {
    const e = await t.throwsAsync(buildDataset({ outDir: join(tmp, 'never'), ...opts }), { instanceOf: InvalidOptionError });
    t.is(e.option, option);
  }
  t.false(existsSync(join(tmp, 'never')));
});

test('loadDataset checks fields and shapes, naming the file and the field', async (t) => {
  const f = (shape, data = new Float32Array(shape.reduce((a, b) => a * b, 1))) => ({ dtype: 'float32', shape, data });
  const y = (n) => ({ dtype: 'float64', shape: [n], data: new Float64Array(n).fill(1) });
  const cases = [
    ['no-target.npy', { features: f([2, 28, 28]) }, 'target', /missing field/],
    ['no-features.npy', { target: y(2) }, 'features', /missing field/],
    ['bad-features.npy', { features: { dtype: 'uint8', shape: [2, 28, 28], data: new Uint8Array(1568) }, target: y(2) }, 'features', /expected float32 of shape \(N, H, W\), got uint8/],
    ['flat-features.npy', { features: f([2, 784]), target: y(2) }, 'features', /got float32 \(2, 784\)/],
    ['short-target.npy', { features: f([2, 28, 28]), target: y(3) }, 'target', /shape \(2,\)/],
    ['names.npy', { features: f([2, 28, 28]), target: y(2), class_names: ['a', 1] }, 'class_names', /list of str/],
    ['str-features.npy', { features: 'x', target: y(2) }, 'features', /expected a numpy array/],
  ];
  for (const [name, value, field, message] of cases) {
    const p = join(tmp, name);
    await saveNpy(p, value);
    const e = await t.throwsAsync(loadDataset(p), { instanceOf: DatasetError, message });
    t.is(e.field, field, name);
    t.is(e.file, p);
  }
  const plain = join(tmp, 'plain.npy');
  await saveNpy(plain, f([1, 28, 28]));
  await t.throwsAsync(loadDataset(plain), { instanceOf: DatasetError, message: /expected a pickled dict/ });
  await t.throwsAsync(loadDataset(join(tmp, 'absent.npy')), { instanceOf: DatasetError, message: /file not found/ });
  const ok = join(tmp, 'ok.npy');
  await saveNpy(ok, { features: f([2, 28, 28]), target: y(2) });
  const d = await loadDataset(ok);
  t.is(d.classNames, undefined);
  t.deepEqual(d.target.shape, [2]);
});
