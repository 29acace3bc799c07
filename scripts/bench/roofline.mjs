#!/usr/bin/env node
// Roofline report for the ResNet's convolutions: this CPU's float32 peak, measured with a small
// FMA loop (native _fmaPeak; the best of several tries, since a peak is a maximum), then per
// layer the achieved GFLOP/s and share of that peak, forward and backward, on the convolution
// engine and on libtorch's own path (NCHW conv2d, TF padding as an explicit pad, as the plain
// models run it); then the whole training step against the step's FLOP limit.
//   node scripts/bench/roofline.mjs [--depth 20] [--batch-size 128] [--threads 2] [--reps 10] [--json out.json]
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { info } from '../../dist/index.js';
import { native } from '../../dist/torch/native.js';

const { values } = parseArgs({
  options: {
    depth: { type: 'string', default: '20' },
    'batch-size': { type: 'string', default: '128' },
    threads: { type: 'string', default: String(availableParallelism()) },
    reps: { type: 'string', default: '10' },
    size: { type: 'string', default: '28' },
    json: { type: 'string' },
  },
});
const depth = Number(values.depth);
const batch = Number(values['batch-size']);
const threads = Number(values.threads);
const reps = Number(values.reps);
const size = Number(values.size);
if ((depth - 2) % 6 !== 0 || depth < 8) throw new Error('--depth must be 6n+2 with n >= 1 (8, 14, 20, 32, 44, ...)');
const binding = native();
const engine = info().convEngine;
const engineOn = !engine.startsWith('off');

// The ResNet v1's convolutions (notebook's resnet_layer, conv_first=False), grouped by shape.
function resnetConvs() {
  const n = (depth - 2) / 6;
  const layers = new Map();
  const add = (name, spec, inputGrad = true) => {
    const key = JSON.stringify({ ...spec, inputGrad });
    const entry = layers.get(key) ?? { name, spec: { ...spec, inputGrad }, count: 0 };
    entry.count += 1;
    layers.set(key, entry);
  };
  // The stem sees the 1-channel images (the engine leaves it to the fused 1-channel kernel).
  let hw = size;
  let channels = 16;
  for (let stack = 0; stack < 3; stack += 1) {
    const filters = 16 << stack;
    for (let b = 0; b < n; b += 1) {
      const stride = stack > 0 && b === 0 ? 2 : 1;
      const out = Math.ceil(hw / stride);
      add(`${channels}->${filters} 3x3 s${stride} @${hw}`, { inChannels: channels, outChannels: filters, height: hw, width: hw, kernel: 3, stride });
      add(`${filters}->${filters} 3x3 s1 @${out}`, { inChannels: filters, outChannels: filters, height: out, width: out, kernel: 3, stride: 1 });
      if (stride !== 1 || channels !== filters) {
        add(`${channels}->${filters} 1x1 s${stride} @${hw} (shortcut)`, { inChannels: channels, outChannels: filters, height: hw, width: hw, kernel: 1, stride });
      }
      channels = filters;
      hw = out;
    }
  }
  return [...layers.values()];
}

const peaks = [];
for (let i = 0; i < 5; i += 1) peaks.push(binding._fmaPeak({ threads, seconds: 0.3 }).gflops);
const peakIsa = binding._fmaPeak({ threads: 1, seconds: 0.05 }).isa;
const peak = Math.max(...peaks);
const peak1 = Math.max(...[0, 1, 2].map(() => binding._fmaPeak({ threads: 1, seconds: 0.3 }).gflops));
const loadStart = loadavg()[0];
console.log(`${cpus()[0]?.model ?? 'CPU'}, ${threads} threads, batch ${batch}, ResNet v1 depth ${depth} on ${size}x${size}; engine: ${engine}`);
console.log(`measured float32 FMA peak (${peakIsa}): ${peak.toFixed(0)} GFLOP/s at ${threads} threads (best of ${peaks.map((p) => p.toFixed(0)).join(', ')}), ` +
  `${peak1.toFixed(0)} at 1 thread; load average ${loadStart.toFixed(2)}`);

const paths = engineOn ? ['engine', 'libtorch'] : ['libtorch'];
const rows = [];
const totals = Object.fromEntries(paths.map((p) => [p, { ms: 0 }]));
let stepGflop = 0;
for (const layer of resnetConvs()) {
  const row = { name: layer.name, count: layer.count };
  for (const path of paths) {
    const t = binding._timeConv({ ...layer.spec, batch, path, reps, threads });
    row[path] = t;
    totals[path].ms += layer.count * (t.forwardMs + t.backwardMs);
  }
  const t = row[paths[0]];
  row.gflop = t.forwardGflop + t.backwardGflop;
  stepGflop += layer.count * row.gflop;
  rows.push(row);
}

const pad = (s, n) => String(s).padStart(n);
const rate = (gflop, ms) => gflop / (ms / 1e3);
const share = (gflop, ms) => `${((100 * rate(gflop, ms)) / peak).toFixed(0)}%`;
console.log(`\n${'layer'.padEnd(30)} ${pad('count', 5)} ${pad('GFLOP', 6)} | ${paths.map((p) => `${p}: fwd ms  GF/s  peak | bwd ms  GF/s  peak`).join(' | ')}`);
for (const r of rows) {
  const cells = paths.map((p) => {
    const t = r[p];
    return `${pad(t.forwardMs.toFixed(2), 13 + p.length - 6)} ${pad(rate(t.forwardGflop, t.forwardMs).toFixed(0), 5)} ${pad(share(t.forwardGflop, t.forwardMs), 5)} | ` +
      `${pad(t.backwardMs.toFixed(2), 6)} ${pad(rate(t.backwardGflop, t.backwardMs).toFixed(0), 5)} ${pad(share(t.backwardGflop, t.backwardMs), 5)}`;
  });
  console.log(`${r.name.padEnd(30)} ${pad(r.count, 5)} ${pad(r.gflop.toFixed(2), 6)} | ${cells.join(' | ')}`);
}

// The whole training step: every convolution's FLOPs (the stem's included) at the peak is the
// step's FLOP limit; the measured step (fit's own, native _profileStep) against it.
const stemGflop = (2 * batch * 16 * 9 * size * size * 2) / 1e9;  // forward + weight gradient, no image gradient
stepGflop += stemGflop;
const limitMs = (stepGflop / peak) * 1e3;
console.log(`\nconvolutions per training step: ${stepGflop.toFixed(1)} GFLOP -> FLOP limit ${limitMs.toFixed(1)} ms/step at ${peak.toFixed(0)} GFLOP/s`);
for (const p of paths) {
  console.log(`  ${p.padEnd(8)} convolutions alone: ${totals[p].ms.toFixed(1)} ms/step (${(totals[p].ms / limitMs).toFixed(2)}x the limit, ` +
    `${rate(stepGflop - stemGflop, totals[p].ms).toFixed(0)} GFLOP/s)`);
}
const spec = { kind: 'resnet', depth, numClasses: 5, channels: 1, height: size, width: size };
const steps = {};
for (const kernels of engineOn ? ['fused', 'plain'] : ['plain']) {
  steps[kernels] = binding._profileStep(spec, { optimizer: 'adam', learningRate: 0.001, batchSize: batch, threads, kernels, warmup: 3, steps: 10 }).msPerStep;
  console.log(`  whole step, kernels ${kernels.padEnd(5)}: ${steps[kernels].toFixed(1)} ms/step (${(steps[kernels] / limitMs).toFixed(2)}x the FLOP limit)`);
}
console.log(`load average ${loadStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end`);
if (values.json) {
  writeFileSync(values.json, JSON.stringify({ cpu: cpus()[0]?.model, threads, batch, depth, engine, peak, peaks, peak1, rows, stepGflop, limitMs, totals, steps, load: [loadStart, loadavg()[0]] }, null, 1));
}
