#!/usr/bin/env node
// Epoch times of the notebook's CNN on the full training split (54,000 images, global
// batch 128): one process with 1 and with 2 threads, and 2 ranks (batch 64 each, 1
// thread each) over Gloo on 127.0.0.1. Each configuration runs in its own processes,
// one after the other. Usage: node scripts/bench/distributed.mjs [--epochs 2]
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { epochs: { type: 'string' }, worker: { type: 'string' } } });

async function worker(job) {
  const { labelsToZeroBased, loadDataset, notebookSplit, takeRows, trainModel } = await import(join(root, 'dist', 'index.js'));
  const data = await loadDataset(join(root, 'data', 'fashion_mnist_dataset_train.npy'));
  const labels = labelsToZeroBased(data.target);
  const split = notebookSplit(data.features.shape[0], 0);
  const part = (idx) => ({ x: takeRows(data.features, idx), y: Int32Array.from(idx, (i) => labels[i]) });
  const result = await trainModel({
    model: 'cnn', train: part(split.train), validation: part(split.val), epochs: job.epochs, batchSize: job.batchSize,
    threads: job.threads, earlyStopping: false, seed: 0, ...(job.distributed ? { distributed: job.distributed } : {}),
  });
  process.stdout.write(`RESULT ${JSON.stringify(result.history)}\n`);
  result.model.dispose();
}

function run(job) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--worker', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`worker ${JSON.stringify(job)} exited with ${code}`));
      else resolve(JSON.parse(line.slice(7)));
    });
  });
}

function freePort() {
  return import(join(root, 'dist', 'launch', 'launcher.js')).then((m) => m.freePort());
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function row(name, history, processes) {
  // The first epoch carries warm-up; with more than one, it is left out of the median.
  const pick = (v) => (v.length > 1 ? v.slice(1) : v);
  const last = history.valAccuracy.length - 1;
  console.log(`| ${name} | ${processes} | ${median(pick(history.seconds)).toFixed(1)} | ${median(pick(history.msPerStep)).toFixed(1)} | ` +
    `${history.seconds.map((s) => s.toFixed(1)).join(', ')} | ${(history.valAccuracy[last] * 100).toFixed(2)} % |`);
}

if (values.worker) {
  await worker(JSON.parse(values.worker));
} else {
  const epochs = Number(values.epochs ?? 2);
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`CNN, 54,000 training images, global batch 128, ${epochs} epoch(s) per configuration; load average at start: ${load()}`);
  console.log('\n| configuration | processes | s/epoch (median) | ms/step | every epoch (s) | final val accuracy |\n|---|---|---|---|---|---|');
  row('1 process, 1 thread, batch 128', await run({ epochs, batchSize: 128, threads: 1 }), 1);
  row('1 process, 2 threads, batch 128', await run({ epochs, batchSize: 128, threads: 2 }), 1);
  const port = await freePort();
  const ranks = await Promise.all([0, 1].map((rank) =>
    run({ epochs, batchSize: 64, threads: 1, distributed: { rank, worldSize: 2, masterPort: port, timeoutMs: 120_000 } })));
  row('2 ranks (Gloo, 127.0.0.1), 1 thread each, batch 64 each', ranks[0], 2);
  console.log(`\nload average at the end: ${load()}`);
}
