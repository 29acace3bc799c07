#!/usr/bin/env node
// What training control costs per step. Alone: the CNN on real images without user callbacks,
// with an onEpochEnd (the worker waits for it once an epoch), and with an onBatchEnd reported
// every step (batchProgressIntervalMs 0: the worker waits for JavaScript after every step, the
// worst case). Data-parallel (2 ranks in this process, Gloo): without and with a timeLimitMs,
// which makes the ranks compare their stop flags after every step (one 2-element all-reduce).
// Variants are interleaved round by round so all see the same load; prints median ms/step,
// each variant's ratio to its baseline, and the load average.
//   node scripts/bench/control.mjs [--rounds 5] [--steps 40] [--batch-size 32] [--threads 1]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { labelsToZeroBased, loadDataset, trainModel } from '../../dist/index.js';
import { freePort } from '../../dist/launch/launcher.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'data/fashion_mnist_dataset_train.npy' },
    rounds: { type: 'string', default: '5' },
    steps: { type: 'string', default: '40' },
    'batch-size': { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
  },
});
const batchSize = Number(values['batch-size']);
const steps = Number(values.steps);
const threads = Number(values.threads);
const data = await loadDataset(values.data);
const labels = labelsToZeroBased(data.target);
const n = batchSize * steps;
const train = { x: { ...data.features, shape: [n, 28, 28], data: data.features.data.subarray(0, n * 784) }, y: Int32Array.from(labels.subarray(0, n)) };
const common = { model: 'cnn', train, epochs: 1, batchSize, threads, earlyStopping: false };

// msPerStep of one epoch (the first step of a fresh model included alike in every variant).
const alone = (extra) => async () => {
  const r = await trainModel({ ...common, ...extra });
  r.model.dispose();
  return r.history.msPerStep[0];
};
const ranks = (extra) => async () => {
  const port = await freePort();
  const half = { x: { ...train.x, shape: [n / 2, 28, 28], data: train.x.data.subarray(0, (n / 2) * 784) }, y: train.y.subarray(0, n / 2) };
  const rs = await Promise.all([0, 1].map((rank) => trainModel({ ...common, train: half, ...extra, distributed: { rank, worldSize: 2, masterPort: port } })));
  for (const r of rs) r.model.dispose();
  return rs[0].history.msPerStep[0];
};
const variants = {
  'alone, no callbacks': alone({}),
  'alone, onEpochEnd': alone({ onEpochEnd: () => {} }),
  'alone, onBatchEnd every step': alone({ batchProgressIntervalMs: 0, onBatchEnd: () => {} }),
  '2 ranks, no stop checks': ranks({}),
  '2 ranks, timeLimitMs (check every step)': ranks({ timeLimitMs: 3_600_000 }),
};
const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const names = Object.keys(variants);
for (let round = 0; round < Number(values.rounds); round++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + round) % names.length];
    times[name].push(await variants[name]());
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const baseline = { alone: median(times['alone, no callbacks']), ranks: median(times['2 ranks, no stop checks']) };
console.log(`CNN, batch ${batchSize}, ${steps} steps an epoch (2 ranks: ${steps / 2} each), ${threads} thread(s), ${values.rounds} rounds`);
for (const name of names) {
  const m = median(times[name]);
  const base = name.startsWith('alone') ? baseline.alone : baseline.ranks;
  console.log(`${name.padEnd(42)} ${m.toFixed(3)} ms/step  x${(m / base).toFixed(3)}`);
}
console.log(`load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
