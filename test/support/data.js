// Real Fashion-MNIST images for the training tests, without loading the 188 MB training file in
// every test process. The rows the tests use (SLICE_ROWS) are copied once from
// data/fashion_mnist_dataset_train.npy (built by `npm run setup`) into a cache file of uint8 pixels
// and labels; each later request reads just its rows from that file. A pixel is stored as the
// integer the data set was built from (its float is that integer / 255 in float32, exactly), so the
// images are bit-identical to the file's and every figure the tests assert stays the same.
//
// The cache lives in node_modules/.cache/torchfit-test/ (TORCHFIT_TEST_CACHE overrides it); its name
// carries the training file's size and modification time and the row ranges, so a rebuilt data set
// or a new range makes a new one. Rows outside SLICE_ROWS still work: they come from the whole
// file, loaded once per process (add their range here to make them fast).
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { labelsToZeroBased, loadDataset, takeRows } from '../../dist/index.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const trainFile = join(root, 'data', 'fashion_mnist_dataset_train.npy');
const cacheDir = process.env.TORCHFIT_TEST_CACHE ?? join(root, 'node_modules', '.cache', 'torchfit-test');

/** [start, end) row ranges of the training file that the tests read (17,996 images, 14 MB as uint8). */
export const SLICE_ROWS = [[0, 14_096], [20_000, 20_300], [30_000, 30_300], [40_000, 40_300], [50_000, 53_000]];

const PIXELS = 28 * 28;
const SCALE = Float32Array.from({ length: 256 }, (_, i) => i / 255); // as the data set was built

function missing() {
  return new Error(`${trainFile} is missing: run npm run setup`);
}

let full;
async function fullFile() {
  if (!existsSync(trainFile)) throw missing();
  full ??= loadDataset(trainFile).then((d) => ({ features: d.features, labels: labelsToZeroBased(d.target) }));
  return full;
}

const sliceRows = () => SLICE_ROWS.reduce((n, [a, b]) => n + b - a, 0);

function sliceName() {
  const { size, mtimeMs } = statSync(trainFile);
  return `train-slice-${size}-${Math.round(mtimeMs)}-${SLICE_ROWS.map(([a, b]) => `${a}_${b}`).join('-')}.bin`;
}

/** Writes the slice: for each row, 784 uint8 pixels; then one uint8 label per row. */
async function writeSlice(path) {
  const { features, labels } = await fullFile();
  if (features.shape[1] * features.shape[2] !== PIXELS) throw new Error(`${trainFile}: expected 28x28 images, got ${features.shape.join('x')}`);
  const rows = sliceRows();
  const out = Buffer.alloc(rows * (PIXELS + 1));
  let row = 0;
  for (const [a, b] of SLICE_ROWS) {
    for (let r = a; r < b; r++, row++) {
      for (let p = 0; p < PIXELS; p++) {
        const v = features.data[r * PIXELS + p];
        const u = Math.round(v * 255);
        // The slice must reproduce the file exactly; a data set built otherwise cannot be sliced.
        if (!(u >= 0 && u <= 255 && SCALE[u] === v)) throw new Error(`${trainFile}: row ${r} pixel ${p} is ${v}, not an integer / 255`);
        out[row * PIXELS + p] = u;
      }
      out[rows * PIXELS + row] = labels[r];
    }
  }
  mkdirSync(dirname(path), { recursive: true });
  // Two test processes may build it at once: each writes its own file and renames it into place.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, out);
  renameSync(tmp, path);
  for (const f of readdirSync(dirname(path))) {
    if (f.startsWith('train-slice-') && f !== sliceName() && !f.endsWith('.tmp')) rmSync(join(dirname(path), f), { force: true });
  }
}

let slice;
/** The cache file's path, built on first use. */
async function slicePath() {
  if (!existsSync(trainFile)) throw missing();
  slice ??= (async () => {
    const path = join(cacheDir, sliceName());
    // A file of another length is left over from an interrupted or foreign write: rebuild it.
    if (!existsSync(path) || statSync(path).size !== sliceRows() * (PIXELS + 1)) await writeSlice(path);
    return path;
  })();
  return slice;
}

/** Where rows [start, start + n) sit in the slice, or -1 when they are not all in it. */
function sliceRow(n, start) {
  let before = 0;
  for (const [a, b] of SLICE_ROWS) {
    if (start >= a && start + n <= b) return before + start - a;
    before += b - a;
  }
  return -1;
}

/**
 * Images start..start+n-1 of the 60,000 training images as float32 [n, 28, 28] in [0, 1], with
 * their labels 0..4: the same values as takeRows on the loaded training file.
 */
export async function realImages(n, start = 0) {
  const at = sliceRow(n, start);
  if (at < 0) {
    const { features, labels } = await fullFile();
    const idx = Int32Array.from({ length: n }, (_, i) => start + i);
    return { x: takeRows(features, idx), y: Int32Array.from(idx, (i) => labels[i]) };
  }
  const path = await slicePath();
  const rows = sliceRows();
  const pixels = Buffer.alloc(n * PIXELS);
  const labels = Buffer.alloc(n);
  const fd = openSync(path, 'r');
  try {
    const got = readSync(fd, pixels, 0, pixels.length, at * PIXELS) + readSync(fd, labels, 0, n, rows * PIXELS + at);
    if (got !== pixels.length + n) throw new Error(`${path}: short read (${got} of ${pixels.length + n} bytes); delete it to rebuild`);
  } finally {
    closeSync(fd);
  }
  const data = new Float32Array(n * PIXELS);
  for (let i = 0; i < data.length; i++) data[i] = SCALE[pixels[i]];
  return { x: { dtype: 'float32', shape: [n, 28, 28], data }, y: Int32Array.from(labels) };
}

/** History without the wall-clock fields, for determinism checks. */
export function withoutTimings(history) {
  const { seconds, msPerStep, ...rest } = history;
  return rest;
}
