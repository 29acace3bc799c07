/**
 * Leak-check cycles: train a tiny CNN (256 images, 1 epoch, 1 thread) -> evaluate
 * -> predict -> save -> Model.load -> predict -> dispose both, with RSS, V8 heap,
 * external memory and liveTensors() recorded after a full GC, and the growth per
 * cycle after a warm-up (least squares and Theil-Sen). Used by test/leak.test.js
 * (through test/support/leak-child.mjs) and scripts/long/leak-check.mjs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { liveTensors, Model, trainModel } from '../../dist/index.js';
import { realImages } from './data.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const MB = 2 ** 20;

/** Least-squares slope of ys over xs. */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}

/**
 * Theil-Sen slope (median of the pairwise slopes): a one-off jump of RSS (malloc handing a new arena to
 * the process) moves it far less than the least-squares slope, a steady leak moves both.
 */
export function robustSlope(xs, ys) {
  const slopes = [];
  for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) slopes.push((ys[j] - ys[i]) / (xs[j] - xs[i]));
  slopes.sort((a, b) => a - b);
  const m = slopes.length >> 1;
  return slopes.length === 0 ? NaN : slopes.length % 2 ? slopes[m] : (slopes[m - 1] + slopes[m]) / 2;
}

/** A full collection, twice (finalizers of the first can free more), with a turn of the event loop between. */
export async function fullGc() {
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
}

/** Images 0..n-1 of the training file with labels 0..4, and n test images from row 30,000 (the test slice for n <= 300). */
export async function leakData(n) {
  return { train: await realImages(n, 0), test: await realImages(n, 30_000) };
}

/**
 * Runs `cycles` cycles and calls onCycle({ cycle, rssMb, heapMb, externalMb, live, baseline }) after each,
 * after a full GC. Returns the records.
 */
export async function runCycles({ cycles = 50, model = 'cnn', data, onCycle = () => {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'torchfit-leak-'));
  const records = [];
  try {
    await fullGc();
    const baseline = liveTensors();
    const choice = model === 'cnn' ? 'cnn' : { kind: 'resnet', depth: 2 };
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const { model: trained } = await trainModel({ model: choice, train: data.train, epochs: 1, threads: 1, seed: cycle, batchSize: 64 });
      await trained.evaluate(data.test.x, data.test.y);
      const probs = await trained.predict(data.test.x);
      const path = join(dir, `cycle-${cycle % 2}.pt`);
      await trained.save(path);
      const loaded = await Model.load(path);
      const again = await loaded.predict(data.test.x);
      if (again.data.length !== probs.data.length) throw new Error('a loaded model predicted a different number of values');
      trained.dispose();
      loaded.dispose();
      await fullGc();
      const mem = process.memoryUsage();
      const record = { cycle, rssMb: mem.rss / MB, heapMb: mem.heapUsed / MB, externalMb: mem.external / MB, live: liveTensors(), baseline };
      records.push(record);
      onCycle(record);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return records;
}

/** Growth per cycle (MB/cycle) of each series over the cycles after `warmup`. */
export function growth(records, warmup) {
  const after = records.filter((r) => r.cycle > warmup);
  const xs = after.map((r) => r.cycle);
  return {
    cycles: after.length,
    rss: slope(xs, after.map((r) => r.rssMb)),
    rssRobust: robustSlope(xs, after.map((r) => r.rssMb)),
    heap: slope(xs, after.map((r) => r.heapMb)),
    external: slope(xs, after.map((r) => r.externalMb)),
  };
}
