#!/usr/bin/env node
// ms per training step of a relu CNN written with the layers API against the same network in
// eager PyTorch (reference: ReluCNN), side by side: rounds alternate ours and Python's,
// each on the same images, batch, threads and optimizer (Adam); steady-state epochs only.
//   node scripts/bench/layers.mjs [--images 6400] [--epochs 3] [--rounds 3] [--threads N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { labelsToZeroBased, loadDataset, takeRows, trainModel, trainTestSplit } from '../../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '6400' },
    epochs: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: String(availableParallelism()) },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const images = Number(values.images);
const epochs = Number(values.epochs);
const threads = Number(values.threads);

// The same network as reference/models.py's ReluCNN.
const RELU_CNN = {
  layers: [
    { type: 'conv2d', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' },
    { type: 'batchNormalization' },
    { type: 'maxPooling2d' },
    { type: 'conv2d', filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' },
    { type: 'batchNormalization' },
    { type: 'maxPooling2d' },
    { type: 'flatten' },
    { type: 'dense', units: 5, activation: 'softmax' },
  ],
};

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const steady = (xs) => median(xs.length > 1 ? xs.slice(1) : xs);

// The Python port's training rows: its split (sklearn's, random_state 0), first `images`.
const data = await loadDataset(join(root, 'data', 'fashion_mnist_dataset_train.npy'));
const n = data.features.shape[0];
const { train } = trainTestSplit(n, { testSize: 0.1, randomState: 0 });
const idx = train.slice(0, images);
const x = takeRows(data.features, idx);
const labels = labelsToZeroBased(data.target);
const y = Int32Array.from(idx, (i) => labels[i]);

async function ours(kernels) {
  const { history, model } = await trainModel({ model: RELU_CNN, train: { x, y }, epochs, batchSize: 128, threads, kernels, seed: 0 });
  model.dispose();
  return steady(history.msPerStep);
}

const dir = mkdtempSync(join(tmpdir(), 'bench-layers-'));
function python() {
  const out = join(dir, 'py.json');
  const r = spawnSync(values.python, [join(root, 'reference', 'notebook_port.py'), '--models', 'relu_cnn', '--limit', String(images),
    '--epochs', String(epochs), '--threads', String(threads), '--device', 'cpu', '--heldout', 'none', '--quiet', '--json', out],
  { cwd: root, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  const result = JSON.parse(readFileSync(out, 'utf8'));
  return steady(result.models.relu_cnn.history.ms_per_step);
}

const load = loadavg()[0];
const rows = { fused: [], plain: [], python: [] };
for (let round = 0; round < Number(values.rounds); round++) {
  rows.fused.push(await ours('fused'));
  rows.plain.push(await ours('plain'));
  rows.python.push(python());
  console.log(`round ${round + 1}: ours fused ${rows.fused.at(-1).toFixed(1)} ms/step, ours plain ${rows.plain.at(-1).toFixed(1)}, PyTorch eager ${rows.python.at(-1).toFixed(1)}`);
}
rmSync(dir, { recursive: true, force: true });
const py = median(rows.python);
console.log(`\nrelu CNN (layers API), ${images} images, batch 128, ${threads} threads, Adam; medians of ${values.rounds} rounds (load ${load.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end)`);
for (const k of ['fused', 'plain']) console.log(`ours (${k}): ${median(rows[k]).toFixed(1)} ms/step, ratio to PyTorch eager ${(median(rows[k]) / py).toFixed(2)}`);
console.log(`PyTorch eager: ${py.toFixed(1)} ms/step`);
