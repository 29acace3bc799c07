#!/usr/bin/env node
// Cost of trainModel's augment option per training step: the CNN (or a ResNet) on the real
// training images, without augmentation and with several augment settings, interleaved in one
// process (each round trains every variant for one block of steps, continuing its own model,
// the order rotating) so all see the same machine load. Prints median ms/step, the extra
// ms/step of each setting against none, and the load average. Then the augmentation alone:
// median ms of the internal _augmentBatch on one batch of the same images (each call also
// copies the batch in and out), which a busy machine blurs less than whole steps.
//   node scripts/bench/augment.mjs [--model cnn|resnet] [--depth 2] [--rounds 6] [--steps 20]
//                                  [--batch-size 128] [--threads 2]
import { loadavg } from 'node:os';

import { trainModel } from '../../dist/index.js';
import { abOptions, modelChoice, trainingRows } from './common.mjs';
import { resolveAugment } from '../../dist/torch/augment.js';
import { native } from '../../dist/torch/native.js';

const values = abOptions({ rounds: 6 });
const batch = Number(values['batch-size']);
const steps = Number(values.steps);
const train = await trainingRows(values.data, batch * steps);
const model = modelChoice(values);

const variants = {
  none: undefined,
  flip: { horizontalFlip: true },
  'shift+flip': { widthShift: 0.1, heightShift: 0.1, horizontalFlip: true },
  'crop+flip': { randomCrop: { padding: 4 }, horizontalFlip: true },
  'rotate+zoom+shift': { rotation: 15, zoom: 0.1, widthShift: 0.1, heightShift: 0.1, fillMode: 'reflect' },
};
const names = Object.keys(variants);
const times = Object.fromEntries(names.map((n) => [n, []]));
const models = {};
const loads = [loadavg()[0]];
for (let round = 0; round <= Number(values.rounds); round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]);
  for (const name of order) {
    const result = await trainModel({
      model, train, epochs: 1, batchSize: batch, seed: round, threads: Number(values.threads), earlyStopping: false,
      ...(variants[name] ? { augment: variants[name] } : {}), ...(models[name] ? { resume: models[name] } : {}),
    });
    models[name] = result.model;
    if (round > 0) times[name].push(result.history.msPerStep.at(-1));  // round 0 warms up
  }
  loads.push(loadavg()[0]);
}
for (const m of Object.values(models)) m.dispose();

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const label = values.model === 'cnn' ? 'CNN' : `ResNet depth ${values.depth}`;
console.log(`${label}, batch ${batch}, ${values.threads} threads, ${values.rounds} rounds of ${steps} steps per variant; ` +
  `load average ${Math.min(...loads).toFixed(2)}..${Math.max(...loads).toFixed(2)}`);
const base = median(times.none);
for (const name of names) {
  const m = median(times[name]);
  console.log(`  ${name.padEnd(18)} median ${m.toFixed(1)} ms/step  (+${(m - base).toFixed(1)} ms, x${(m / base).toFixed(3)})` +
    `  rounds: ${times[name].map((t) => t.toFixed(1)).join(' ')}`);
}

const [h, w] = train.x.shape.slice(1);
const batchImages = train.x.data.subarray(0, batch * h * w);
console.log(`augmentation alone, one batch of ${batch} ${h}x${w} images (median of 50 calls):`);
for (const name of names.slice(1)) {
  const config = resolveAugment(variants[name]);
  const ms = [];
  for (let i = 0; i < 55; i++) {
    const t0 = performance.now();
    native()._augmentBatch(batchImages, [batch, 1, h, w], config, i);
    if (i >= 5) ms.push(performance.now() - t0);
  }
  console.log(`  ${name.padEnd(18)} ${median(ms).toFixed(2)} ms`);
}
console.log(`load average now ${loadavg()[0].toFixed(2)}`);
