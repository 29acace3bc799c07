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
 *   node scripts/long/leak-check.mjs [--cycles 50] [--warmup 10] [--images 256] [--model cnn|resnet] [--json]
 *
 * --json adds a last line `JSON {records, growth}` for programs.
 *
 * RSS under glibc's default malloc moves by tens of MB between cycles (freed
 * blocks kept in per-thread arenas, a dynamic mmap threshold); to see small
 * leaks, run with MALLOC_MMAP_THRESHOLD_=131072 MALLOC_ARENA_MAX=2, which
 * makes every large buffer come from mmap and go back to the system when freed.
 *
 * Exit code 1 when liveTensors() is not back to its starting value after a
 * cycle. The cycles themselves are in test/support/leak-cycles.js, shared with test/leak.test.js.
 */
import { liveTensors } from '../../dist/index.js';
import { fullGc, growth, leakData, runCycles } from '../../test/support/leak-cycles.js';

const MB = 2 ** 20;

function parseArgs(argv) {
  const opts = { cycles: 50, warmup: 10, images: 256, model: 'cnn', json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--cycles') opts.cycles = Number(argv[++i]);
    else if (a === '--warmup') opts.warmup = Number(argv[++i]);
    else if (a === '--images') opts.images = Number(argv[++i]);
    else if (a === '--model') opts.model = argv[++i];
    else if (a === '--json') opts.json = true;
    else if (a === '--help' || a === '-h') { console.log('node scripts/long/leak-check.mjs [--cycles 50] [--warmup 10] [--images 256] [--model cnn|resnet]'); process.exit(0); }
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

await main();
