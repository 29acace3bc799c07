#!/usr/bin/env node
// A/B timing of trainModel({ kernels: 'fused' }) against { kernels: 'plain' } on the real
// training images, interleaved in one process so both see the same machine load: each round
// trains every variant for one block of steps (continuing its own model), alternating which
// goes first; prints the median ms/step of each and the load average.
//   node scripts/bench/kernels.mjs [--model cnn|resnet] [--depth 2] [--rounds 8] [--steps 20]
//                                  [--batch-size 128] [--threads 2]
import { loadavg } from 'node:os';

import { trainModel } from '../../dist/index.js';
import { abOptions, modelChoice, trainingRows } from './common.mjs';

const values = abOptions({ rounds: 8 });
const batch = Number(values['batch-size']);
const steps = Number(values.steps);
const train = await trainingRows(values.data, batch * steps);
const model = modelChoice(values);

const variants = ['fused', 'plain'];
const times = { fused: [], plain: [] };
const models = {};
const loads = [loadavg()[0]];
for (let round = 0; round <= Number(values.rounds); round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const kernels of order) {
    const result = await trainModel({
      model, train, epochs: 1, batchSize: batch, kernels, seed: round, threads: Number(values.threads),
      earlyStopping: false, ...(models[kernels] ? { resume: models[kernels] } : {}),
    });
    models[kernels] = result.model;
    if (round > 0) times[kernels].push(result.history.msPerStep.at(-1));  // round 0 warms up
  }
  loads.push(loadavg()[0]);
}
for (const m of Object.values(models)) m.dispose();

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const name = values.model === 'cnn' ? 'CNN' : `ResNet depth ${values.depth}`;
console.log(`${name}, batch ${batch}, ${values.threads} threads, ${values.rounds} rounds of ${steps} steps per variant; ` +
  `load average ${Math.min(...loads).toFixed(2)}..${Math.max(...loads).toFixed(2)}`);
for (const kernels of variants) {
  console.log(`  ${kernels.padEnd(6)} median ${median(times[kernels]).toFixed(1)} ms/step  (rounds: ${times[kernels].map((t) => t.toFixed(1)).join(' ')})`);
}
console.log(`  fused / plain: ${(median(times.fused) / median(times.plain)).toFixed(3)}`);
