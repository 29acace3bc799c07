// Checkpoints shared with Python: our file is a torch.save-compatible zip whose state_dict loads (strict) into
// the reference port's models (reference/models.py) and predicts the same probabilities; and weights
// written by the port load into torchfit and predict the same. Skipped when /usr/bin/python3 lacks torch.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Model, saveNpy, trainModel } from '../dist/index.js';
import { realImages } from './support/data.js';
import { needs, python } from './support/conditional.js';
import { PYTHON } from './support/python.js';

const INTEROP = fileURLToPath(new URL('../reference/interop.py', import.meta.url));
const withTorch = needs(python('torch', 'numpy'));
const dir = mkdtempSync(join(tmpdir(), 'torchfit-interop-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

function interop(...args) {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(PYTHON, [INTEROP, ...args, '--out', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`interop.py ${args[0]} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(readFileSync(out, 'utf8'));
}

let probeFiles;
/** 300 images the models never trained on, written as .npy for Python. */
async function probe() {
  if (probeFiles) return probeFiles;
  const data = await realImages(300, 20_000);
  const images = join(dir, 'x.npy');
  const labels = join(dir, 'y.npy');
  await saveNpy(images, data.x);
  await saveNpy(labels, { dtype: 'int32', shape: [data.y.length], data: data.y });
  probeFiles = { ...data, images, labels };
  return probeFiles;
}

function compare(t, ours, theirs, what) {
  t.is(ours.length, theirs.length, what);
  let max = 0;
  for (let i = 0; i < ours.length; i++) max = Math.max(max, Math.abs(ours[i] - theirs[i]));
  t.log(`${what}: max |p_ours - p_python| = ${max.toExponential(2)}`);
  t.true(max < 1e-4, `${what}: probabilities differ by up to ${max}`);
  return max;
}

for (const choice of ['cnn', { kind: 'resnet', depth: 2 }]) {
  const name = choice === 'cnn' ? 'CNN' : 'ResNet depth 2';
  withTorch.serial(`our ${name} checkpoint loads into the Python port (torch.load(path)['state_dict']) with the same predictions and accuracy`, async (t) => {
    t.timeout(120_000);
    const train = await realImages(512);
    const p = await probe();
    const { model } = await trainModel({ model: choice, train, epochs: 1, threads: 1, seed: 4 });
    const path = join(dir, `ours-${choice === 'cnn' ? 'cnn' : 'resnet'}.pt`);
    await model.save(path);
    const ours = await model.predict(p.x);
    const { accuracy } = await model.evaluate(p.x, p.y);
    model.dispose();
    const py = interop('predict', '--checkpoint', path, '--images', p.images, '--labels', p.labels);
    t.is(py.load, '<All keys matched successfully>', 'strict load_state_dict matched every key');
    t.is(py.kind, choice === 'cnn' ? 'cnn' : 'resnet');
    if (choice === 'cnn') {
      for (const m of ['conv1', 'bn1', 'bn2', 'conv2', 'bn3', 'bn4', 'bn5', 'fc']) t.true(py.keys.some((k) => k.startsWith(`${m}.`)), `module ${m}`);
    }
    t.deepEqual(py.shape, [300, 5]);
    compare(t, ours.data, py.probs, name);
    t.is(py.accuracy, accuracy, 'same test accuracy');
  });
}

for (const [kind, depth] of [['cnn', 0], ['resnet', 8]]) {
  withTorch.serial(`${kind}${depth ? ` depth ${depth}` : ''} weights written by the Python port (plain state_dict and our format) load with the same predictions`, async (t) => {
    t.timeout(120_000);
    const p = await probe();
    const plain = join(dir, `python-state-dict-${kind}.pt`);
    const ours = join(dir, `python-torchfit-format-${kind}.pt`);
    const py = interop('export', '--images', p.images, '--labels', p.labels, '--plain', plain, '--torchfit', ours, '--seed', '3',
      '--kind', kind, '--depth', String(depth || 2));
    const config = { kind, depth, numClasses: 5, channels: 1, height: 28, width: 28, batchNormMomentum: 0.99 };

    // torch.save(model.state_dict()): an OrderedDict with _metadata; the architecture is read from its keys.
    const fromPlain = await Model.load(plain);
    t.deepEqual(fromPlain.config, config);
    t.is(fromPlain.metadata.loadedFrom, 'state_dict');
    compare(t, (await fromPlain.predict(p.x)).data, py.probs, `Python state_dict (${kind})`);
    t.is((await fromPlain.evaluate(p.x, p.y)).accuracy, py.accuracy, 'same accuracy');
    fromPlain.dispose();

    // The same weights in our format (written by Python) load, and predict what Python predicts.
    const model = await Model.load(ours);
    t.deepEqual(model.config, config);
    t.is(model.metadata.writtenBy, 'reference/interop.py');
    const probs = await model.predict(p.x);
    compare(t, probs.data, py.probs, `Python-written ${kind} in our format`);
    const { accuracy } = await model.evaluate(p.x, p.y);
    t.is(accuracy, py.accuracy, 'same accuracy');
    t.deepEqual([...(await model.predictClasses(p.x))], py.classes);
    // And back again: what we save from it is what Python reads.
    const back = join(dir, `python-roundtrip-${kind}.pt`);
    await model.save(back);
    model.dispose();
    const again = interop('predict', '--checkpoint', back, '--images', p.images, '--labels', p.labels);
    compare(t, again.probs, py.probs, 'Python -> torchfit -> Python');
  });
}
