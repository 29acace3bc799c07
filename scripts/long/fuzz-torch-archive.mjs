#!/usr/bin/env node
/**
 * Long fuzzing run of Model.load's first step, readTorchArchive (our zip reader
 * and the restricted unpickler with its torch allow-list). Seeds: a checkpoint
 * torchfit writes and a plain state_dict-style archive. Each input mutates the
 * data.pkl (flips, interesting bytes, pickle opcodes, truncation, splices) and
 * repacks the zip with correct CRCs, so the mutations reach the unpickler, or
 * mutates the archive bytes as they are (reaching the zip reader). Every input
 * must give a value or CheckpointError / PickleSecurityError; anything else is
 * a bug (exit 1, the input written to the temp folder).
 *
 * Usage: node scripts/long/fuzz-torch-archive.mjs [--minutes 3] [--seed N]
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CheckpointError, PickleSecurityError, readTorchArchive, trainModel } from '../../dist/index.js';
import { readStoredZip } from '../../dist/data/zip-read.js';
import { dictPickle, storedZip, tensorPickle, torchArchive } from '../../test/support/torch-archive.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const minutes = arg('--minutes', 3);
let seed = arg('--seed', 1) >>> 0 || 1;
const random = () => {
  // xorshift32: reproducible from --seed.
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 2 ** 32;
};
const pick = (n) => Math.floor(random() * n);

async function seeds() {
  const n = 64;
  const x = { dtype: 'float32', shape: [n, 28, 28], data: Float32Array.from({ length: n * 784 }, () => Math.random()) };
  const y = Int32Array.from({ length: n }, (_, i) => i % 5);
  const { model } = await trainModel({ model: { kind: 'resnet', depth: 2 }, train: { x, y }, epochs: 1, batchSize: 32, threads: 1 });
  const path = join(tmpdir(), `fuzz-torch-seed-${process.pid}.pt`);
  await model.save(path);
  model.dispose();
  const { readFileSync, rmSync } = await import('node:fs');
  const ours = readFileSync(path);
  rmSync(path);
  const plain = torchArchive(dictPickle([
    ['w', tensorPickle({ key: '0', numel: 6, offset: 0, size: [2, 3], stride: [3, 1] })],
    ['n', tensorPickle({ key: '1', storage: 'LongStorage', numel: 1, size: [], stride: [] })],
  ]), { 0: Float32Array.of(1, 2, 3, 4, 5, 6), 1: BigInt64Array.of(3n) });
  return [ours, plain];
}

const OPCODES = [...'()0.2RbcQsuXJKMqhte}]N\x85\x86\x87\x88\x89\x8a\x8c\x93\x94\x95'].map((c) => c.charCodeAt(0));
function mutatePickle(p) {
  let b = Buffer.from(p);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = pick(Math.max(1, b.length));
    switch (pick(6)) {
      case 0: b[at] ^= 1 << pick(8); break;
      case 1: b[at] = [0, 1, 0x0a, 0x7f, 0x80, 0xff][pick(6)]; break;
      case 2: b[at] = OPCODES[pick(OPCODES.length)]; break;
      case 3: b = b.subarray(0, at); break;
      case 4: { const from = pick(b.length); const len = 1 + pick(64); b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + len), b.subarray(at)]); break; }
      default: { const len = 1 + pick(16); b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]); break; }
    }
  }
  return b;
}

const [ours, plain] = await seeds();
const counts = {};
let tried = 0;
const deadline = Date.now() + minutes * 60_000;
while (Date.now() < deadline) {
  for (let k = 0; k < 200; k++) {
    const base = random() < 0.7 ? ours : plain;
    let input;
    if (random() < 0.8) {
      const { entries } = readStoredZip(base, (m) => { throw new Error(m); });
      input = storedZip(entries.map((e) => [e.name, e.name.endsWith('data.pkl') ? mutatePickle(e.data) : e.data]));
    } else {
      input = Buffer.from(base);
      for (let i = 0; i < 1 + pick(4); i++) input[pick(input.length)] ^= 1 << pick(8);
    }
    tried++;
    try {
      readTorchArchive(input, 'fuzz.pt');
      counts.parsed = (counts.parsed ?? 0) + 1;
    } catch (error) {
      if (!(error instanceof CheckpointError || error instanceof PickleSecurityError)) {
        const file = join(tmpdir(), `fuzz-torch-failure-${Date.now()}.pt`);
        writeFileSync(file, input);
        console.error(`untyped error on input ${tried} (written to ${file}):`, error);
        process.exit(1);
      }
      counts[error.code] = (counts[error.code] ?? 0) + 1;
    }
  }
}
const rss = process.resourceUsage().maxRSS / 1024;
console.log(`${tried} inputs in ${minutes} min (${Math.round(tried / (minutes * 60))}/s): ${JSON.stringify(counts)}; peak RSS ${rss.toFixed(0)} MB`);
