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

// The engine's own BatchNorm loops (training BatchNorm and the residual block) in every build
// of them this CPU runs, not only the one picked for it.
const { active, available } = binding._kernelIsas();
for (const isa of available.filter((name) => name !== active)) {
  for (const c of cases.filter((k) => k.spec.op === 'block_blocked' || (k.spec.op === 'bn_blocked' && k.spec.training !== false))) {
    withEngine(`engine BatchNorm loops [${isa}, 2 threads]: ${c.name}`, (t) => {
      check(t, c.name, binding._compareKernels({ ...c.spec, seed: 5, threads: 2, isa }), c);
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

// Which kernels oneDNN ran, from its own log (ONEDNN_VERBOSE=1 prints one line per
// execution: ...,convolution,<implementation>,<pass>,...,<problem>,<ms>).
const convKernelsRun = (spec) => {
  const script = `import { native } from '../dist/torch/native.js'; native()._compareKernels(${JSON.stringify({ ...spec, seed: 5, threads: 1 })});`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: here, env: { ...process.env, ONEDNN_VERBOSE: '1', DNNL_VERBOSE: '1' }, encoding: 'utf8', maxBuffer: 64 << 20,
  });
  const runs = new Set();
  for (const line of child.stdout.split('\n')) {
    const f = line.split(',');
    // Ours only: libtorch's reference path runs oneDNN too, on an input it padded itself
    // ('same'), where ours pads inside the primitive (the problem reads ih<height>).
    if (f[0] === 'onednn_verbose' && f[1] === 'exec' && f[3] === 'convolution' && line.includes(`_ih${spec.height}oh`)) {
      runs.add(`${f[5]} ${f[4]}`);
    }
  }
  return { status: child.status, stderr: child.stderr, runs: [...runs].sort() };
};
const avx512 = engine.includes('avx512');
testIf(engineOn && avx512, `oneDNN's Winograd kernels are AVX-512 only; engine: ${engine}`)(
  'Winograd runs where it was measured to pay: oneDNN\'s for every pass of small 64-channel problems and the weight gradient at 16, ours for every pass of large ones and the weight gradient of large 16-channel ones', (t) => {
    const wide = convKernelsRun({ op: 'conv_blocked', batch: 2, channels: 64, outChannels: 64, height: 7, width: 7 });
    t.is(wide.status, 0, wide.stderr);
    for (const pass of ['forward_training', 'backward_data', 'backward_weights']) {
      t.true(wide.runs.includes(`${pass} jit_wino_4x3:avx512_core`), `${pass}: ${wide.runs.join('; ')}`);
    }
    const narrow = convKernelsRun({ op: 'conv_blocked', batch: 2, channels: 16, outChannels: 16, height: 14, width: 14 });
    t.is(narrow.status, 0, narrow.stderr);
    t.true(narrow.runs.includes('backward_weights jit_wino_4x3:avx512_core'), narrow.runs.join('; '));
    t.false(narrow.runs.some((r) => r.startsWith('forward_training jit_wino') || r.startsWith('backward_data jit_wino')), narrow.runs.join('; '));
    // 64 tiles and more: all three passes leave oneDNN for our own loops.
    const large = convKernelsRun({ op: 'conv_blocked', batch: 16, channels: 64, outChannels: 64, height: 7, width: 7 });
    t.is(large.status, 0, large.stderr);
    t.deepEqual(large.runs.filter((r) => /^(forward_training|backward_data|backward_weights) /.test(r)), [], large.runs.join('; '));
    // At 16 channels only the weight gradient is ours; the forward and input gradient stay direct.
    const large16 = convKernelsRun({ op: 'conv_blocked', batch: 4, channels: 16, outChannels: 16, height: 28, width: 28 });
    t.is(large16.status, 0, large16.stderr);
    t.false(large16.runs.some((r) => r.startsWith('backward_weights')), large16.runs.join('; '));
    t.true(large16.runs.some((r) => r.startsWith('forward_training jit:')), large16.runs.join('; '));
    t.true(large16.runs.some((r) => r.startsWith('backward_data jit:')), large16.runs.join('; '));
  });

// A layers model whose convolutions include shapes oneDNN serves only with its reference code
// on some CPUs (a blocked 3-channel input, a 5x5 stride-2 kernel): models must leave those to
// libtorch. Our primitives are the ones with a user scratchpad in oneDNN's log.
test('no convolution of ours runs oneDNN\'s reference code (a layers model with odd channel counts and kernels)', (t) => {
  if (!engineOn) return t.pass(`nothing to check: convolution engine ${engine}`);
  const layers = [
    { type: 'conv2d', filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' },
    { type: 'conv2d', filters: 3, kernelSize: 3, activation: 'relu' },
    { type: 'conv2d', filters: 5, kernelSize: 3, activation: 'relu' },
    { type: 'conv2d', filters: 16, kernelSize: 5, strides: 2, padding: 'same' },
    { type: 'flatten' },
    { type: 'dense', units: 5, activation: 'softmax' },
  ];
  const script = `
    import { native } from '../dist/torch/native.js';
    import { resolveModelChoice } from '../dist/models/describe.js';
    import { nativeModelSpec } from '../dist/models/native-spec.js';
    const spec = nativeModelSpec(resolveModelChoice({ layers: ${JSON.stringify(layers)} }), 5, [3, 20, 20]);
    native()._profileStep(spec, { optimizer: 'sgd', learningRate: 0.01, batchSize: 4, threads: 1, kernels: 'fused', warmup: 0, steps: 1 });`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: here, env: { ...process.env, ONEDNN_VERBOSE: '1', DNNL_VERBOSE: '1' }, encoding: 'utf8', maxBuffer: 64 << 20,
  });
  t.is(child.status, 0, child.stderr);
  const ours = child.stdout.split('\n').filter((l) => l.startsWith('onednn_verbose,exec,') && l.includes(',convolution,') && l.includes('attr-scratchpad:user'));
  t.true(ours.length > 0, 'the engine ran some of the convolutions');
  const slow = ours.filter((l) => l.split(',')[4].includes('ref'));
  t.deepEqual(slow, []);
});

const resnet = (depth) => ({ kind: 'resnet', depth, numClasses: 5, channels: 1, height: 28, width: 28 });
const opsOf = (depth, kernels) => new Map(binding._profileStep(resnet(depth), {
  optimizer: 'adam', learningRate: 0.001, batchSize: 4, threads: 1, kernels, warmup: 0, steps: 1,
}).ops.map((op) => [op.name, op.calls]));

withEngine('the engine runs the ResNet blocks with kernels: fused, and not with plain or at depth 2', (t) => {
  const fused = opsOf(8, 'fused');
  for (const name of ['torchfit::residual_block_blocked', 'torchfit::residual_block_blocked_backward',
    'torchfit::conv2d_blocked', 'torchfit::conv_backward_data', 'torchfit::conv_backward_weights',
    'torchfit::batch_norm_blocked', 'torchfit::batch_norm_blocked_backward', 'torchfit::to_blocked', 'torchfit::from_blocked']) {
    t.true(fused.has(name), name);
  }
  // Depth 8: 3 blocks, each one op forward and one backward; 6 block convolutions, 2 1x1
  // shortcuts and 6 BatchNorms; the 1-channel stem stays on libtorch's BatchNorm. Blocks
  // hand each other pre-masked gradients: only the last one runs its own ReLU backward.
  t.is(fused.get('torchfit::residual_block_blocked'), 3);
  t.is(fused.get('torchfit::residual_block_blocked_backward'), 3);
  // At batch 4 one of them, 32->32 on 14x14 (64 tiles), runs our own Winograd loop; its
  // weight gradient and those of the two 16->16 on 28x28 (196 tiles) too.
  t.is(fused.get('torchfit::conv2d_blocked'), 7);
  t.is(fused.get('torchfit::winograd_forward'), 1);
  t.is(fused.get('torchfit::conv_backward_data'), 7);
  t.is(fused.get('torchfit::winograd_backward_data'), 1);
  t.is(fused.get('torchfit::conv_backward_weights'), 5);
  t.is(fused.get('torchfit::winograd_backward_weights'), 3);
  t.is(fused.get('torchfit::batch_norm_blocked'), 6);
  t.is(fused.get('torchfit::batch_norm_blocked_backward'), 6);
  t.is(fused.get('torchfit::relu_backward_blocked'), 1);
  t.false(fused.has('torchfit::conv2d_blocked_backward'));
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
