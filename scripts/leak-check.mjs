#!/usr/bin/env node
/**
 * Leak check: N cycles (default 50) of train a tiny CNN (256 images, 1 epoch,
 * 1 thread) -> evaluate -> predict -> save -> Model.load -> predict -> dispose
 * both. Prints RSS, V8 heap, external memory and liveTensors() after every
 * cycle (after a full GC), then the growth per cycle after the warm-up
 * (least-squares slope over the cycles after the first `--warmup`, default 10;
 * and the Theil-Sen slope, which one-off jumps of RSS barely move).
 *
 * Usage:
 *   node scripts/leak-check.mjs [--cycles 50] [--warmup 10] [--images 256] [--model cnn|resnet] [--json]
 *
 * --json adds a last line `JSON {records, growth}` for programs (test/leak.test.js).
 *
 * RSS under glibc's default malloc moves by tens of MB between cycles (freed
 * blocks kept in per-thread arenas, a dynamic mmap threshold); to see small
 * leaks, run with MALLOC_MMAP_THRESHOLD_=131072 MALLOC_ARENA_MAX=2, which
 * makes every large buffer come from mmap and go back to the system when freed.
 *
 * Exit code 1 when liveTensors() is not back to its starting value after a
 * cycle. test/leak.test.js imports runCycles() and slope() from here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { labelsToZeroBased, liveTensors, loadDataset, Model, takeRows, trainModel } from '../dist/index.js';

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

/** Images 0..n-1 of the training file with labels 0..4, and n test images after them. */
export async function leakData(n, file = fileURLToPath(new URL('../data/fashion_mnist_dataset_train.npy', import.meta.url))) {
  const d = await loadDataset(file);
  const labels = labelsToZeroBased(d.target);
  const part = (start) => {
    const idx = Int32Array.from({ length: n }, (_, i) => start + i);
    return { x: takeRows(d.features, idx), y: Int32Array.from(idx, (i) => labels[i]) };
  };
  return { train: part(0), test: part(30_000) };
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

function parseArgs(argv) {
  const opts = { cycles: 50, warmup: 10, images: 256, model: 'cnn', json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--cycles') opts.cycles = Number(argv[++i]);
    else if (a === '--warmup') opts.warmup = Number(argv[++i]);
    else if (a === '--images') opts.images = Number(argv[++i]);
    else if (a === '--model') opts.model = argv[++i];
    else if (a === '--json') opts.json = true;
    else if (a === '--help' || a === '-h') { console.log('node scripts/leak-check.mjs [--cycles 50] [--warmup 10] [--images 256] [--model cnn|resnet]'); process.exit(0); }
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(Number.isInteger(opts.cycles) && opts.cycles > opts.warmup + 1)) throw new Error('--cycles must exceed --warmup by at least 2');
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const data = await leakData(opts.images);
  await fullGc();
  const start = process.memoryUsage();
  console.log(`leak check: ${opts.cycles} cycles of train (${opts.model}, ${opts.images} images, 1 epoch) -> evaluate -> predict -> save -> load -> predict -> dispose`);
  const env = ['MALLOC_MMAP_THRESHOLD_', 'MALLOC_ARENA_MAX'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`).join(' ');
  console.log(`start: rss ${(start.rss / MB).toFixed(1)} MB, liveTensors ${liveTensors()}${env ? ` (${env})` : ''}`);
  console.log('cycle   rss MB   heap MB   external MB   liveTensors');
  let leaked = false;
  const started = Date.now();
  const records = await runCycles({
    cycles: opts.cycles,
    model: opts.model,
    data,
    onCycle: (r) => {
      if (r.live !== r.baseline) leaked = true;
      console.log(`${String(r.cycle).padStart(5)} ${r.rssMb.toFixed(1).padStart(8)} ${r.heapMb.toFixed(1).padStart(9)} ${r.externalMb.toFixed(1).padStart(13)} ${String(r.live).padStart(13)}${r.live === r.baseline ? '' : `  (baseline ${r.baseline})`}`);
    },
  });
  const g = growth(records, opts.warmup);
  const first = records.find((r) => r.cycle === opts.warmup + 1) ?? records[0];
  const last = records[records.length - 1];
  console.log(`\n${opts.cycles} cycles in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`after the ${opts.warmup}-cycle warm-up (${g.cycles} cycles): RSS ${g.rss >= 0 ? '+' : ''}${g.rss.toFixed(3)} MB/cycle (least squares; Theil-Sen ${g.rssRobust.toFixed(3)}), ` +
    `${first.rssMb.toFixed(1)} -> ${last.rssMb.toFixed(1)} MB; V8 heap ${g.heap.toFixed(3)} MB/cycle; external ${g.external.toFixed(3)} MB/cycle`);
  console.log(`liveTensors: ${leaked ? 'NOT back to the baseline after some cycle' : `back to ${records[0].baseline} after every cycle`}`);
  if (opts.json) console.log(`JSON ${JSON.stringify({ records, growth: g })}`);
  if (leaked) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
