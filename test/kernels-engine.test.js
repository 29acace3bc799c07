// The convolution engine (native/core/kernels: oneDNN on blocked activations) against libtorch:
// each op's output, input/weight/residual gradients and BatchNorm's running statistics, and
// whole training steps, at 1 and 2 threads, on this CPU's best instruction set (in this
// process) and on lower ones (child processes with ONEDNN_MAX_CPU_ISA), plus the facts that
// it really runs, stays out with kernels: 'plain', and trains deterministically.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import test from 'ava';

import { info, trainModel } from '../dist/index.js';
import { native } from '../dist/torch/native.js';
import { testIf } from './support/conditional.js';
import { accuracyProblems, cases, expectedNames } from './support/engine-cases.js';
import { realImages, withoutTimings } from './support/data.js';

const binding = native();
const here = dirname(fileURLToPath(import.meta.url));
const engine = info().convEngine;
const engineOn = !engine.startsWith('off');
// Without the engine (a build without libdnnl-dev) these are skipped, the reason in their titles.
const withEngine = testIf(engineOn, `convolution engine ${engine}`);

test('info() says whether the convolution engine is in, and what it runs', (t) => {
  t.is(typeof engine, 'string');
  if (engineOn) t.regex(engine, /^onednn 2\.\d+\.\d+ \S+ \(nChw(8|16)c\)$/);
  else t.regex(engine, /^off: /);
});

function check(t, label, diffs, { spec, gradientsOnly }) {
  const names = expectedNames(spec);
  if (names) t.deepEqual(diffs.map((d) => d.name), names, label);
  else for (const expected of ['logits', 'loss', 'eval logits']) t.true(diffs.some((d) => d.name === expected), `${label}: ${expected}`);
  t.deepEqual(accuracyProblems(diffs, { model: spec.op === 'model', gradientsOnly }), [], label);
}

for (const threads of [1, 2]) {
  for (const c of cases) {
    withEngine(`engine [${engine.split(' ')[2] ?? '?'}, ${threads} thread(s)]: ${c.name}`, (t) => {
      check(t, c.name, binding._compareKernels({ ...c.spec, seed: 5, threads }), c);
    });
  }
}

// oneDNN's AVX2 and SSE4.1 code on a CPU that has more: each in one child process. Whether the
// engine runs at that instruction set at all is asked first, when the tests are registered.
const engineRun = (isa, ...args) => spawnSync(process.execPath, [join(here, 'support', 'engine-run.mjs'), ...args], {
  env: { ...process.env, ONEDNN_MAX_CPU_ISA: isa, DNNL_MAX_CPU_ISA: isa },
  encoding: 'utf8',
  maxBuffer: 64 << 20,
});
for (const isa of ['AVX2', 'SSE41']) {
  // A probe that fails registers the test, which then fails with the child's error.
  const probe = engineOn ? engineRun(isa, '--engine-only') : undefined;
  const there = probe?.status === 0 ? JSON.parse(probe.stdout).engine : '';
  const atIsa = engineOn ? testIf(!there.startsWith('off'), `convolution engine at ${isa}: ${there}`) : withEngine;
  atIsa(`engine at ONEDNN_MAX_CPU_ISA=${isa}: every case at 1 and 2 threads`, (t) => {
    const child = engineRun(isa);
    t.is(child.status, 0, child.stderr);
    const out = JSON.parse(child.stdout);
    const lower = isa === 'AVX2' ? 'avx2' : 'sse41';
    t.true(out.engine.includes(` ${lower}`) || !engine.includes('avx512'), `${isa}: ${out.engine}`);
    t.is(out.results.length, 2 * cases.length);
    for (const r of out.results) {
      t.is(r.error, undefined, `${r.name} [${r.threads}]`);
      if (r.diffs) check(t, `${isa} ${r.name} [${r.threads} thread(s)]`, r.diffs, cases.find((c) => c.name === r.name));
    }
  });
}

const resnet = (depth) => ({ kind: 'resnet', depth, numClasses: 5, channels: 1, height: 28, width: 28 });
const opsOf = (depth, kernels) => new Map(binding._profileStep(resnet(depth), {
  optimizer: 'adam', learningRate: 0.001, batchSize: 4, threads: 1, kernels, warmup: 0, steps: 1,
}).ops.map((op) => [op.name, op.calls]));

withEngine('the engine runs the ResNet blocks with kernels: fused, and not with plain or at depth 2', (t) => {
  const fused = opsOf(8, 'fused');
  for (const name of ['torchfit::conv2d_blocked', 'torchfit::conv2d_blocked_backward', 'torchfit::batch_norm_blocked',
    'torchfit::batch_norm_blocked_backward', 'torchfit::to_blocked', 'torchfit::from_blocked']) {
    t.true(fused.has(name), name);
  }
  // Depth 8: 6 block convolutions, 2 1x1 shortcuts and 6 BatchNorms; the 1-channel stem stays on
  // libtorch's BatchNorm.
  t.is(fused.get('torchfit::conv2d_blocked'), 8);
  t.is(fused.get('torchfit::batch_norm_blocked'), 6);
  t.false(fused.has('aten::mkldnn_convolution'));
  t.is(fused.get('aten::native_batch_norm'), 1);
  const plain = opsOf(8, 'plain');
  t.false([...plain.keys()].some((n) => n.startsWith('torchfit::')));
  t.false(opsOf(2, 'fused').has('torchfit::conv2d_blocked'));
});

withEngine('CNN: conv2 runs on the engine with kernels: fused', (t) => {
  const ops = new Set(binding._profileStep({ kind: 'cnn', depth: 0, numClasses: 5, channels: 1, height: 28, width: 28 }, {
    optimizer: 'sgd', learningRate: 0.01, batchSize: 4, threads: 1, kernels: 'fused', warmup: 0, steps: 1,
  }).ops.map((op) => op.name));
  t.true(ops.has('torchfit::conv2d_blocked') && ops.has('torchfit::conv2d_blocked_backward'));
  t.false(ops.has('aten::mkldnn_convolution'));
});

withEngine('ResNet depth 8 on the engine: same seed, same history bit for bit; evaluate and predict agree with training', async (t) => {
  const train = await realImages(192);
  const validation = await realImages(64, 192);
  const run = () => trainModel({ model: resnet(8), train, validation, epochs: 2, batchSize: 32, seed: 11, threads: 2, verbose: 0 });
  const a = await run();
  const b = await run();
  t.deepEqual(withoutTimings(a.history), withoutTimings(b.history));
  const evaluated = await a.model.evaluate(validation.x, validation.y);
  t.is(evaluated.loss, a.history.valLoss.at(-1));
  t.is(evaluated.accuracy, a.history.valAccuracy.at(-1));
  const probs = await a.model.predict(validation.x);
  t.deepEqual(probs.shape, [64, 5]);
  a.model.dispose();
  b.model.dispose();
});
