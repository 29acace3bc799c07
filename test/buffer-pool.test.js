// The recycled-buffer pool behind the engine's activations and gradients: once a training step
// has run, the next takes back the blocks the last one gave instead of asking Linux for fresh
// pages. A step whose working set passes the pool's fixed 256 MiB floor (ResNet-20 at batch 256
// keeps about 340 MB) is the case that matters: with a fixed cap the pool evicted part of every
// step's blocks and the next step page-faulted them in again (5,700 faults a step here, at
// about 10 us each on this VM). Counted in child processes, so nothing else of the test run
// touches the count; a count, not a time.
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

function faultsAfter(t, timed) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, String(timed)], { encoding: 'utf8' });
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
