#!/usr/bin/env node
// channels_last (N, H, W, C) images become (N, C, H, W) before training: the same transpose
// in a TypeScript loop and natively (the addon's path, at::parallel_for over images), timed
// side by side on random data of Fashion-MNIST's and CIFAR-10's sizes. Prints medians of
// --repeats runs each and the load average.
//   node scripts/bench/layout.mjs [--repeats 5]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { native } from '../../dist/torch/native.js';

const { values } = parseArgs({ options: { repeats: { type: 'string', default: '5' } } });
const repeats = Number(values.repeats);

function typescriptTranspose(data, [n, h, w, c]) {
  const out = new Float32Array(data.length);
  const plane = h * w;
  for (let i = 0; i < n; i++) {
    const base = i * plane * c;
    for (let p = 0; p < plane; p++) {
      for (let k = 0; k < c; k++) out[base + k * plane + p] = data[base + p * c + k];
    }
  }
  return out;
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

const loads = [loadavg()[0]];
for (const shape of [[60_000, 28, 28, 1], [50_000, 32, 32, 3]]) {
  const [n, h, w, c] = shape;
  const data = new Float32Array(n * h * w * c);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761 % 1000) / 1000;
  const ts = [];
  const nat = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    typescriptTranspose(data, shape);
    ts.push(performance.now() - t0);
    nat.push(native()._toNchw(data, [n, c, h, w]).ms);
  }
  loads.push(loadavg()[0]);
  const mb = (data.length * 4) / 2 ** 20;
  console.log(`(${shape.join(', ')}) ${mb.toFixed(0)} MiB: TypeScript loop ${median(ts).toFixed(0)} ms, native ${median(nat).toFixed(0)} ms` +
    ` (native / TypeScript ${(median(nat) / median(ts)).toFixed(2)})` + (c === 1 ? '; with one channel training skips the transpose (same bytes)' : ''));
}
console.log(`load average ${Math.min(...loads).toFixed(2)}..${Math.max(...loads).toFixed(2)}, ${repeats} runs each`);
