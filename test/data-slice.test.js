// The cached image slice the training tests read (test/support/data.js) holds exactly the training
// file's rows and labels; rows outside it still come from the file.
import test from 'ava';

import { labelsToZeroBased, loadDataset, takeRows } from '../dist/index.js';
import { realImages, SLICE_ROWS, trainFile } from './support/data.js';

const file = await loadDataset(trainFile);
const labels = labelsToZeroBased(file.target);
const fromFile = (n, start) => {
  const idx = Int32Array.from({ length: n }, (_, i) => start + i);
  return { x: takeRows(file.features, idx), y: Int32Array.from(idx, (i) => labels[i]) };
};

test('every row of the slice is bit-identical to the training file, labels included', async (t) => {
  for (const [a, b] of SLICE_ROWS) {
    const ours = await realImages(b - a, a);
    const theirs = fromFile(b - a, a);
    t.deepEqual(ours.x.shape, [b - a, 28, 28]);
    t.is(ours.x.dtype, 'float32');
    t.true(Buffer.from(ours.x.data.buffer).equals(Buffer.from(theirs.x.data.buffer)), `rows ${a}..${b}`);
    t.deepEqual([...ours.y], [...theirs.y], `labels of rows ${a}..${b}`);
  }
});

test('a window inside a range, and rows outside the slice (read from the file)', async (t) => {
  for (const [n, start] of [[32, 9100], [3, 14_093], [5, 14_094], [100, 25_000]]) {
    const ours = await realImages(n, start);
    const theirs = fromFile(n, start);
    t.true(Buffer.from(ours.x.data.buffer).equals(Buffer.from(theirs.x.data.buffer)), `${n} rows from ${start}`);
    t.deepEqual([...ours.y], [...theirs.y], `${n} labels from ${start}`);
  }
});
