#!/usr/bin/env node
// predict() on 1,024 images against PyTorch eager's model(x) under torch.no_grad()
// (reference/predict_bench.py), interleaved run by run, medians of medians.
//   node scripts/bench/predict.mjs [--models cnn,resnet] [--depth 20] [--threads 2] [--rounds 3] [--kernels fused]
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { info, trainModel } from '../../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'cnn,resnet' },
    depth: { type: 'string', default: '20' },
    threads: { type: 'string', default: String(availableParallelism()) },
    images: { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '3' },
    reps: { type: 'string', default: '7' },
    kernels: { type: 'string', default: 'fused' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const threads = Number(values.threads);
const images = Number(values.images);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const random = (n) => ({ dtype: 'float32', shape: [n, 28, 28], data: Float32Array.from({ length: n * 784 }, () => Math.random()) });

console.log(`predict on ${images} images, ${threads} threads, kernels ${values.kernels}; engine: ${info().convEngine}; load average ${loadavg()[0].toFixed(2)}`);
for (const name of values.models.split(',')) {
  const depth = Number(values.depth);
  const model = name === 'cnn' ? 'cnn' : { kind: 'resnet', depth };
  const label = name === 'cnn' ? 'CNN' : `ResNet v1 depth ${depth}`;
  // A model with trained BatchNorm statistics: one short epoch on random images.
  const { model: trained } = await trainModel({
    model, train: { x: random(256), y: Int32Array.from({ length: 256 }, (_, i) => i % 5) }, epochs: 1, batchSize: 64,
    seed: 0, threads, kernels: values.kernels, verbose: 0,
  });
  const x = random(images);
  const ours = [];
  const python = [];
  for (let round = 0; round < Number(values.rounds); round += 1) {
    await trained.predict(x);  // warm-up
    const times = [];
    for (let i = 0; i < Number(values.reps); i += 1) {
      const start = performance.now();
      await trained.predict(x);
      times.push(performance.now() - start);
    }
    ours.push(median(times));
    const py = spawnSync(values.python, [join(root, 'reference', 'predict_bench.py'), '--model', name, '--depth', String(depth),
      '--images', String(images), '--threads', String(threads), '--reps', values.reps], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
    if (py.status !== 0) throw new Error(`predict_bench.py failed: ${py.stderr}`);
    python.push(JSON.parse(py.stdout.trim().split('\n').at(-1)).ms);
  }
  trained.dispose();
  const o = median(ours);
  const p = median(python);
  console.log(`${label}: ours ${o.toFixed(1)} ms, PyTorch no_grad model(x) ${p.toFixed(1)} ms, ratio ${(o / p).toFixed(2)} ` +
    `(rounds: ours ${ours.map((v) => v.toFixed(0)).join('/')}, python ${python.map((v) => v.toFixed(0)).join('/')}); load ${loadavg()[0].toFixed(2)}`);
}
