// The recycled-buffer pool behind the engine's activations and gradients: once a training step
// has run, the next takes back the blocks the last one gave instead of asking Linux for fresh
// pages (about 10 us a fault on this VM). Two cases that did not: a step whose working set
// passes the pool's fixed 256 MiB floor (ResNet-20 at batch 256 keeps about 340 MB: with a fixed
// cap the pool evicted part of every step, 5,700 faults a step), and fit's validation (an
// evaluate job inside the training job freed the pool when it ended, and at 1,024 images a
// batch it displaced the training blocks: 19,700 faults an epoch for ResNet-20). Counted in
// child processes, so nothing else of the test run touches the count; a count, not a time.
import { spawnSync } from 'node:child_process';

import { info } from '../dist/index.js';
import { testIf } from './support/conditional.js';

const engine = info().convEngine;
const withEngine = testIf(!engine.startsWith('off'), `convolution engine ${engine}`);

// Prints the process's minor page faults after `warmup` + `timed` (+ 1 profiled) steps.
const CHILD = `
import { native } from './dist/torch/native.js';
const [timed] = process.argv.slice(1).map(Number);
native()._profileStep({ kind: 'resnet', depth: 20, numClasses: 5, channels: 1, height: 28, width: 28 },
  { optimizer: 'adam', learningRate: 0.001, batchSize: 256, threads: 2, kernels: 'fused', warmup: 2, steps: 1, timed, byShape: false });
console.log('FAULTS ' + process.resourceUsage().minorPageFault);
`;

// Prints the minor page faults of a ResNet-20 fit on 512 random images, with validation on 1,024.
const FIT_CHILD = `
import { trainModel } from './dist/index.js';
const [epochs] = process.argv.slice(1).map(Number);
let seed = 1;
const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const images = (n) => ({ x: { dtype: 'float32', shape: [n, 28, 28], data: Float32Array.from({ length: n * 784 }, next) },
  y: Int32Array.from({ length: n }, (_, i) => i % 5) });
const train = images(512), validation = images(1024);
const before = process.resourceUsage().minorPageFault;
await trainModel({ model: { kind: 'resnet', depth: 20 }, train, validation, epochs, batchSize: 128, threads: 2, earlyStopping: false });
console.log('FAULTS ' + (process.resourceUsage().minorPageFault - before));
`;

function faultsAfter(t, timed, child = CHILD) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', child, String(timed)], { encoding: 'utf8' });
  const line = r.stdout.split('\n').find((l) => l.startsWith('FAULTS '));
  if (r.status !== 0 || !line) t.fail(`child exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return Number(line?.slice(7));
}

withEngine('steady training steps reuse their buffers: ResNet-20 at batch 256 page-faults under 1,500 times a step', (t) => {
  t.timeout(180_000);
  const extraSteps = 10;
  const perStep = (faultsAfter(t, 2 + extraSteps) - faultsAfter(t, 2)) / extraSteps;
  t.log(`${perStep.toFixed(0)} page faults per steady step`);
  t.true(perStep < 1500, `${perStep.toFixed(0)} page faults per step`);
});

withEngine('validation inside fit keeps the training blocks: each further epoch of ResNet-20 page-faults under 5,000 times', (t) => {
  t.timeout(180_000);
  const perEpoch = (faultsAfter(t, 3, FIT_CHILD) - faultsAfter(t, 1, FIT_CHILD)) / 2;
  t.log(`${perEpoch.toFixed(0)} page faults per further epoch (4 steps and a validation pass of 1,024 images)`);
  t.true(perEpoch < 5000, `${perEpoch.toFixed(0)} page faults per epoch`);
});
