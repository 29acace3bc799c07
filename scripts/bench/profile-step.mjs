#!/usr/bin/env node
// Where one of OUR training steps spends its time: runs fit's own step under libtorch's
// profiler (native _profileStep, random 28x28 data) and prints self/total ms per op per step.
//   node scripts/bench/profile-step.mjs [--model cnn|resnet] [--depth 2] [--kernels fused|plain]
//                                 [--batch-size 128] [--threads 2] [--steps 10] [--top 25] [--by-shape]
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { native } from '../../dist/torch/native.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'cnn' },
    depth: { type: 'string', default: '2' },
    kernels: { type: 'string', default: 'fused' },
    'batch-size': { type: 'string', default: '128' },
    threads: { type: 'string', default: String(availableParallelism()) },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '5' },
    top: { type: 'string', default: '25' },
    'by-shape': { type: 'boolean', default: false },
  },
});

const binding = native();
const cnn = values.model === 'cnn';
const spec = { kind: cnn ? 'cnn' : 'resnet', depth: cnn ? 0 : Number(values.depth), numClasses: 5, channels: 1, height: 28, width: 28 };
const result = binding._profileStep(spec, {
  optimizer: cnn ? 'sgd' : 'adam',
  learningRate: cnn ? 0.01 : 0.001,
  batchSize: Number(values['batch-size']),
  threads: Number(values.threads),
  kernels: values.kernels,
  warmup: Number(values.warmup),
  steps: Number(values.steps),
  byShape: values['by-shape'],
});
const profiledTotal = result.ops.reduce((sum, op) => sum + op.selfMs, 0);
console.log(`${values.model}${cnn ? '' : ` depth ${values.depth}`}, kernels ${values.kernels}, batch ${values['batch-size']}, ` +
  `${values.threads} threads: ${result.msPerStep.toFixed(1)} ms/step unprofiled (median); ` +
  `profiled ops sum to ${profiledTotal.toFixed(1)} ms/step; load average ${loadavg()[0].toFixed(2)}`);
console.log(`${'op'.padEnd(64)} ${'self ms'.padStart(8)} ${'total ms'.padStart(9)} ${'calls'.padStart(6)}`);
for (const op of result.ops.slice(0, Number(values.top))) {
  console.log(`${op.name.slice(0, 64).padEnd(64)} ${op.selfMs.toFixed(2).padStart(8)} ${op.totalMs.toFixed(2).padStart(9)} ${op.calls.toFixed(0).padStart(6)}`);
}
