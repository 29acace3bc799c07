#!/usr/bin/env node
/**
 * Long fuzzing run of the .npy reader and restricted unpickler (parseNpy) with the
 * generators of test/support/npy-fuzz.js. Every input must either parse (and then
 * the result is checked: element counts, typed-array kinds, a write/read round trip
 * for plain arrays) or throw NpyFormatError / PickleSecurityError. Anything else
 * (TypeError, RangeError, a hang) is a bug.
 *
 * Usage:
 *   node scripts/long/fuzz-npy.mjs [--minutes 10] [--seed N] [--out DIR]     (npm run fuzz)
 *
 * The fuzzing runs in a worker thread; the main thread watches a heartbeat and
 * reports a hang (no input finished for 30 s) with the input that hung. A
 * failing or hanging input is written to DIR (default: the OS temp folder) and
 * the exit code is 1. At the end it prints how many inputs were tried, how many
 * were refused with which error code, how many parsed, and the peak RSS.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

import fc from 'fast-check';

import { classify, fuzzInput, fuzzSeeds } from '../../test/support/npy-fuzz.js';

// --- the long run -----------------------------------------------------------------

function parseArgs(argv) {
  const opts = { minutes: 10, seed: Date.now() % 2 ** 31, out: tmpdir() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--minutes') opts.minutes = Number(argv[++i]);
    else if (a === '--seed') opts.seed = Number(argv[++i]);
    else if (a === '--out') opts.out = argv[++i];
    else if (a === '--help' || a === '-h') { console.log('node scripts/long/fuzz-npy.mjs [--minutes 10] [--seed N] [--out DIR]'); process.exit(0); }
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(opts.minutes > 0)) throw new Error('--minutes must be > 0');
  return opts;
}

const SNAPSHOT_BYTES = 4 << 20;

function workerMain({ seed, deadline, shared }) {
  const heartbeat = new Int32Array(shared, 0, 2); // [inputs finished (wraps), length of the current input]
  const current = new Uint8Array(shared, 8);
  const counts = {};
  let tried = 0;
  let lastReport = Date.now();
  const arb = fuzzInput();
  let batch = 0;
  while (Date.now() < deadline) {
    try {
      fc.assert(fc.property(arb, (bytes) => {
        const len = Math.min(bytes.length, current.length);
        current.set(bytes.subarray(0, len));
        Atomics.store(heartbeat, 1, len);
        const outcome = classify(bytes);
        counts[outcome] = (counts[outcome] ?? 0) + 1;
        tried++;
        Atomics.add(heartbeat, 0, 1);
        if (Date.now() - lastReport > 2000) {
          lastReport = Date.now();
          parentPort.postMessage({ type: 'progress', tried, counts });
        }
      }), { numRuns: 2000, seed: seed + batch, endOnFailure: false });
    } catch (error) {
      const example = error?.counterexample?.[0];
      parentPort.postMessage({ type: 'finding', tried, counts, seed: seed + batch, message: String(error?.message ?? error).slice(0, 4000), input: example ? Buffer.from(example) : undefined });
      return;
    }
    batch++;
  }
  parentPort.postMessage({ type: 'done', tried, counts });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const deadline = started + opts.minutes * 60_000;
  const shared = new SharedArrayBuffer(8 + SNAPSHOT_BYTES);
  const heartbeat = new Int32Array(shared, 0, 2);
  console.log(`fuzzing parseNpy for ${opts.minutes} min, seed ${opts.seed}, ${fuzzSeeds().length} seed files`);
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { fuzzLong: true, seed: opts.seed, deadline, shared } });
  let peakRss = process.memoryUsage().rss;
  let last = { tried: 0, counts: {} };
  let finding;
  let lastBeat = -1;
  let lastBeatAt = Date.now();
  let hung = false;
  const watch = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const beat = Atomics.load(heartbeat, 0);
    if (beat !== lastBeat) { lastBeat = beat; lastBeatAt = Date.now(); return; }
    if (Date.now() - lastBeatAt > 30_000 && !hung) {
      hung = true;
      const len = Atomics.load(heartbeat, 1);
      const input = Buffer.from(new Uint8Array(shared, 8, len));
      const file = join(opts.out, `torchfit-fuzz-hang-${opts.seed}.npy`);
      writeFileSync(file, input);
      console.error(`HANG: no input finished for 30 s; the input being parsed (${len} bytes) is in ${file}`);
      worker.terminate();
    }
  }, 250);
  const progress = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    console.log(`  ${s.toFixed(0)} s: ${last.tried} inputs (${(last.tried / s).toFixed(0)}/s), rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
  }, 30_000);
  worker.on('message', (m) => {
    last = m;
    if (m.type === 'finding') finding = m;
  });
  const exitCode = await new Promise((res) => worker.on('exit', res));
  clearInterval(watch);
  clearInterval(progress);
  peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  const seconds = (Date.now() - started) / 1000;
  const { counts } = last;
  // After a hang or a finding the last progress message is behind: the heartbeat counts every finished input.
  const tried = Math.max(last.tried, Atomics.load(heartbeat, 0));
  const parsed = counts.parsed ?? 0;
  console.log(`\n${tried} inputs in ${seconds.toFixed(0)} s (${(tried / seconds).toFixed(0)}/s)`);
  console.log(`  parsed:  ${parsed} (${((100 * parsed) / Math.max(1, tried)).toFixed(1)}%)`);
  for (const [code, n] of Object.entries(counts).filter(([k]) => k !== 'parsed').sort((a, b) => b[1] - a[1])) {
    console.log(`  refused: ${n} with ${code} (${((100 * n) / Math.max(1, tried)).toFixed(1)}%)`);
  }
  console.log(`  peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MB`);
  if (finding) {
    const file = join(opts.out, `torchfit-fuzz-finding-${finding.seed}.npy`);
    if (finding.input) writeFileSync(file, finding.input);
    console.error(`\nFINDING (fast-check seed ${finding.seed}${finding.input ? `, shrunk input in ${file}` : ''}):\n${finding.message}`);
    process.exitCode = 1;
  } else if (hung || exitCode !== 0) {
    process.exitCode = 1;
  } else {
    console.log('no finding: every input parsed cleanly or was refused with a typed error');
  }
}

if (!isMainThread && workerData?.fuzzLong) {
  workerMain(workerData);
} else if (isMainThread && process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
