// Leaks and out-of-memory: 15 cycles of train/evaluate/predict/save/load/dispose return liveTensors() to its
// baseline every time with a flat RSS after warm-up (`npm run leak` runs 50); an allocation libtorch
// cannot make rejects with a TrainingError, frees what the job held, and the process trains again.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

import { InvalidOptionError, liveTensors, Tensor, TrainingError, trainModel } from '../dist/index.js';
import { testIf } from './support/conditional.js';
import { fullGc, leakData } from './support/leak-cycles.js';

const CYCLES = 15;
const WARMUP = 5;
const LEAK_CHILD = fileURLToPath(new URL('./support/leak-child.mjs', import.meta.url));

test.serial(`${CYCLES} train/evaluate/predict/save/load/dispose cycles: liveTensors back to baseline each time, flat RSS`, (t) => {
  t.timeout(240_000);
  // In a child process with glibc told to mmap every large buffer and to keep two arenas: its RSS then
  // moves by well under 1 MB between cycles instead of tens of MB, so a leak of 2 MB/cycle stands out.
  const r = spawnSync(process.execPath, [LEAK_CHILD, String(CYCLES), String(WARMUP)], {
    encoding: 'utf8',
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2' },
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('JSON '));
  if (!line) return t.fail(`the leak-check child printed no result (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  const { records, growth } = JSON.parse(line.slice(5));
  t.is(records.length, CYCLES);
  for (const rec of records) t.is(rec.live, rec.baseline, `cycle ${rec.cycle}: ${rec.live} live tensors, baseline ${rec.baseline}`);
  t.log(`RSS ${records.map((rec) => rec.rssMb.toFixed(1)).join(' ')} MB; after ${WARMUP} warm-up cycles: RSS ${growth.rss.toFixed(3)} MB/cycle ` +
    `(least squares; Theil-Sen ${growth.rssRobust.toFixed(3)}), V8 heap ${growth.heap.toFixed(3)} MB/cycle`);
  t.true(growth.rss < 2, `RSS grows by ${growth.rss.toFixed(2)} MB per cycle after warm-up (least squares)`);
  t.true(growth.heap < 0.5, `the V8 heap grows by ${growth.heap.toFixed(2)} MB per cycle after warm-up`);
  t.is(r.status, 0, r.stderr.slice(-2000));
  return undefined;
});

// Out of memory. With Linux's heuristic overcommit (mode 0) a single allocation larger than RAM + swap is
// refused at once, so these ask for far more than the machine has without using it. Under mode 1 (always
// overcommit) the allocation would succeed and really use the memory: skipped there.
const overcommit = (() => {
  try {
    return readFileSync('/proc/sys/vm/overcommit_memory', 'utf8').trim();
  } catch {
    return 'unknown';
  }
})();
const swapBytes = (() => {
  try {
    const m = /SwapTotal:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
})();
const ceiling = totalmem() + swapBytes;
const canFailAllocations = overcommit === '0' || overcommit === '2';
const withFailingAllocations = testIf(canFailAllocations,
  `vm.overcommit_memory is ${overcommit}: an absurd allocation could succeed and really use the memory`);

function checkOom(t, error, what) {
  t.true(error instanceof TrainingError, `${what}: expected a TrainingError, got ${error?.constructor?.name}: ${error?.message}`);
  // libtorch 1.13's CPU allocator says "can't allocate memory"; the addon maps it to ERR_OUT_OF_MEMORY.
  t.is(error?.code, 'ERR_OUT_OF_MEMORY', `${what}: code ${error?.code}`);
  t.regex(error?.message ?? '', /allocate|out of memory|not enough memory/i, what);
  t.log(`${what}: ${error?.code}: ${error?.message?.slice(0, 160)}`);
}

withFailingAllocations.serial('a model too large for the machine: trainModel rejects with a TrainingError and the process trains again', async (t) => {
  t.timeout(120_000);
  const data = await leakData(256);
  await fullGc();
  const baseline = liveTensors();
  // Two 1000x1000 images (8 MB) and 100,000 classes: the CNN's dense layer alone is
  // 64*249*249 inputs x 100,000 outputs x 4 bytes = 1.6 TB, far beyond RAM + swap.
  const x = { dtype: 'float32', shape: [2, 1000, 1000], data: new Float32Array(2 * 1000 * 1000) };
  const dense = 64 * 249 * 249 * 100_000 * 4;
  t.true(dense > 10 * ceiling, 'the request must dwarf the machine');
  const error = await t.throwsAsync(trainModel({ model: 'cnn', train: { x, y: [0, 99_999] }, numClasses: 100_000, batchSize: 2, epochs: 1, threads: 1 }));
  checkOom(t, error, 'trainModel with a 1.6 TB dense layer');
  await fullGc();
  t.is(liveTensors(), baseline, 'the failed job freed what it held');
  const again = await trainModel({ model: 'cnn', train: data.train, epochs: 1, threads: 1, batchSize: 64 });
  t.true(Number.isFinite(again.history.loss[0]), 'the process trains again');
  t.true((await again.model.evaluate(data.test.x, data.test.y)).accuracy > 0);
  again.model.dispose();
});

// One batch of N images makes the CNN's first convolution output N x 32 x 26 x 26 float32 = 86,528 N bytes.
// Choose N so that this is 1.25x RAM + swap; the images themselves are uint8 in a Tensor (784 N bytes,
// converted to float32 on the worker thread: 3,136 N bytes more), about 1/20 of the refused request.
// libtorch's own ops (kernels: 'plain') make that allocation; the fused kernels never hold the first
// convolution's output, and their largest tensors (a quarter of it and less) could each be granted and
// then exhaust the machine page by page, which no allocator check can refuse.
const n = Math.ceil((1.25 * ceiling) / 86_528);
const transient = n * (784 + 3136);
const withRoomForTheImages = canFailAllocations ? testIf(transient <= 0.5 * freemem(),
  `${n} images would need ${(transient / 2 ** 30).toFixed(1)} GB of the ${(freemem() / 2 ** 30).toFixed(1)} GB free`) : withFailingAllocations;

withRoomForTheImages.serial('an absurd evaluation batch: evaluate/predict reject with a TrainingError, the model and process keep working', async (t) => {
  t.timeout(180_000);
  const data = await leakData(256);
  const { model } = await trainModel({ model: 'cnn', train: data.train, epochs: 1, threads: 1, batchSize: 64, kernels: 'plain' });
  const before = await model.evaluate(data.test.x, data.test.y);
  // batchSize is bounded by the options (2^24); 2^24 here means "all N images in one batch".
  await t.throwsAsync(trainModel({ model: 'cnn', train: data.train, epochs: 1, evalBatchSize: 2 ** 25 }), { instanceOf: InvalidOptionError });
  let images = Tensor.from(new Uint8Array(n * 784), [n, 28, 28], { dtype: 'uint8' });
  const labels = new Int32Array(n);
  await fullGc();
  const baseline = liveTensors();
  const evalError = await t.throwsAsync(model.evaluate(images, labels, { batchSize: 2 ** 24 }));
  checkOom(t, evalError, `evaluate(${n} images in one batch)`);
  const predictError = await t.throwsAsync(model.predict(images, { batchSize: 2 ** 24 }));
  checkOom(t, predictError, `predict(${n} images in one batch)`);
  t.is(liveTensors(), baseline, 'the failed jobs freed their tensors');
  // The same input in sane batches is fine, and the model is unchanged.
  images.dispose();
  images = undefined;
  t.deepEqual(await model.evaluate(data.test.x, data.test.y), before);
  const again = await trainModel({ model: 'cnn', train: data.train, epochs: 1, threads: 1, batchSize: 64, kernels: 'plain', resume: model });
  t.deepEqual(again.history.epoch, [1, 2], 'the model trains further after the failures');
  model.dispose();
  await fullGc();
});
