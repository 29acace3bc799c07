import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdx, readIdx, readIdxImages, readIdxLabels } from '../dist/data/index.js';
import { DatasetError } from '../dist/errors.js';
import { file, needs } from './support/conditional.js';
import { idxFile } from './support/idx-writer.js';

const SOURCE = '/usr/share/datasets/fashion-mnist';
const tmp = await mkdtemp(join(tmpdir(), 'torchfit-idx-'));
test.after.always(() => rm(tmp, { recursive: true, force: true }));

const idx = idxFile;

test('parses images and labels, gzipped or not', async (t) => {
  const images = idx(IDX_IMAGES_MAGIC, [2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  await writeFile(join(tmp, 'img.gz'), gzipSync(images));
  await writeFile(join(tmp, 'lbl'), idx(IDX_LABELS_MAGIC, [2], [9, 0]));
  const x = await readIdxImages(join(tmp, 'img.gz'));
  t.is(x.dtype, 'uint8');
  t.deepEqual(x.shape, [2, 2, 3]);
  t.deepEqual(Array.from(x.data), [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  t.deepEqual(await readIdxLabels(join(tmp, 'lbl')), { dtype: 'uint8', shape: [2], data: Uint8Array.from([9, 0]) });
  t.deepEqual((await readIdx(join(tmp, 'img.gz'))).shape, [2, 2, 3]);
});

test('bad magic numbers, dimensions and lengths raise DatasetError naming the file', async (t) => {
  const err = (buf, magic, message) => {
    const e = t.throws(() => parseIdx(buf, 'f.idx', magic), { instanceOf: DatasetError, message });
    t.is(e.code, 'ERR_DATASET');
    t.is(e.file, 'f.idx');
  };
  err(idx(IDX_LABELS_MAGIC, [1], [1]), IDX_IMAGES_MAGIC, /bad IDX magic number 0x00000801: expected 0x00000803 \(images\)/);
  err(idx(IDX_IMAGES_MAGIC, [1, 1, 1], [1]), IDX_LABELS_MAGIC, /expected 0x00000801 \(labels\)/);
  err(idx(0x00000d01, [1], [0, 0, 0, 0]), undefined, /unsupported IDX magic number 0x00000d01/);
  err(Buffer.from([0, 0]), undefined, /not an IDX file/);
  err(idx(IDX_IMAGES_MAGIC, [1], []).subarray(0, 10), IDX_IMAGES_MAGIC, /truncated IDX header: 3 dimensions need 16 bytes/);
  err(idx(IDX_IMAGES_MAGIC, [2, 2, 2], [1, 2, 3]), IDX_IMAGES_MAGIC, /need 8 data bytes, the file has 3 \(truncated\)/);
  err(idx(IDX_LABELS_MAGIC, [2], [1, 2, 3]), IDX_LABELS_MAGIC, /need 2 data bytes, the file has 3 \(trailing bytes\)/);
  err(idx(IDX_IMAGES_MAGIC, [4294967295, 4294967295, 4294967295], []), IDX_IMAGES_MAGIC, /truncated/);
  await writeFile(join(tmp, 'bad.gz'), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
  await t.throwsAsync(readIdxLabels(join(tmp, 'bad.gz')), { instanceOf: DatasetError, message: /corrupt gzip data/ });
  await t.throwsAsync(readIdxLabels(join(tmp, 'missing.gz')), { instanceOf: DatasetError, message: /cannot read the IDX file/ });
});

needs(file(join(SOURCE, 'train-labels-idx1-ubyte.gz'), 'apt-get install dataset-fashion-mnist'))("Debian's Fashion-MNIST files read with the expected shapes", async (t) => {
  const [x, y, xt, yt] = await Promise.all([
    readIdxImages(join(SOURCE, 'train-images-idx3-ubyte.gz')), readIdxLabels(join(SOURCE, 'train-labels-idx1-ubyte.gz')),
    readIdxImages(join(SOURCE, 't10k-images-idx3-ubyte.gz')), readIdxLabels(join(SOURCE, 't10k-labels-idx1-ubyte.gz')),
  ]);
  t.deepEqual(x.shape, [60000, 28, 28]);
  t.deepEqual(y.shape, [60000]);
  t.deepEqual(xt.shape, [10000, 28, 28]);
  t.deepEqual(yt.shape, [10000]);
  const counts = new Array(10).fill(0);
  for (const v of y.data) counts[v]++;
  t.deepEqual(counts, new Array(10).fill(6000));
  // The first training image is an ankle boot (class 9), as in every Fashion-MNIST copy.
  t.is(y.data[0], 9);
});
