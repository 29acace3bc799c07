#!/usr/bin/env node
// What classWeight costs per training step: the same run with and without class weights,
// alternated --repeat times, median ms/step over the epochs after the first (CNN by default).
//   node scripts/bench/weighted-loss.mjs --model cnn --images 12800 --epochs 3 --repeat 3
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { trainModel } from '../../dist/index.js';
import { realImages } from '../../test/support/data.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'cnn' }, images: { type: 'string', default: '12800' }, epochs: { type: 'string', default: '3' },
    repeat: { type: 'string', default: '3' }, threads: { type: 'string', default: '2' }, kernels: { type: 'string', default: 'fused' },
  },
});
const train = await realImages(Number(values.images));
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const runs = { plain: [], weighted: [] };
const before = loadavg()[0];
for (let r = 0; r < Number(values.repeat); r++) {
  for (const kind of ['plain', 'weighted']) {
    const result = await trainModel({
      model: values.model === 'resnet' ? { kind: 'resnet', depth: 20 } : values.model, train, epochs: Number(values.epochs), batchSize: 128,
      threads: Number(values.threads), kernels: values.kernels, ...(kind === 'weighted' ? { classWeight: [1, 2, 0.5, 1, 3] } : {}),
    });
    runs[kind].push(...result.history.msPerStep.slice(1));
    result.model.dispose();
  }
}
const [p, w] = [median(runs.plain), median(runs.weighted)];
console.log(`${values.model} (${values.kernels}), ${values.images} images, batch 128, ${values.threads} threads; load ${before.toFixed(2)} -> ${loadavg()[0].toFixed(2)}`);
console.log(`ms/step median: unweighted ${p.toFixed(2)}, classWeight ${w.toFixed(2)}, ratio ${(w / p).toFixed(3)} (${runs.plain.length} epochs each)`);
