// Checkpoints that never corrupt: a process saving over the same path again and again is SIGKILLed at random
// moments; every time, the path still holds a complete checkpoint that loads and predicts. Plus: resuming
// a checkpoint of another architecture, and checkpoints altered by Python's torch.save (wrong shapes...).
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CheckpointError, InvalidOptionError, Model, trainModel } from '../dist/index.js';
import { realImages } from './support/data.js';
import { needs, python } from './support/conditional.js';
import { PYTHON } from './support/python.js';

const DIST = new URL('../dist/index.js', import.meta.url).href;
const INTEROP = fileURLToPath(new URL('../reference/interop.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'torchfit-ckpt-crash-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

// The child: loads two different models, saves A to P, says READY, then saves B, A, B, ... over P forever.
const CHILD = `
const tf = await import(process.env.TORCHFIT_DIST);
const [pa, pb, p] = process.argv.slice(2);
const a = await tf.Model.load(pa);
const b = await tf.Model.load(pb);
await a.save(p);
process.stdout.write('READY\\n');
for (let i = 1; ; i++) {
  await (i % 2 ? b : a).save(p);
  process.stdout.write('SAVED ' + i + '\\n');
}
`;

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Starts the child, waits for READY, lets it save for `delayMs`, SIGKILLs it; returns how many saves it reported. */
function runAndKill(args, delayMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(dir, 'child.mjs'), ...args], { env: { ...process.env, TORCHFIT_DIST: DIST }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let ready = false;
    child.stdout.on('data', (d) => {
      out += d;
      if (!ready && out.includes('READY\n')) {
        ready = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!ready) return reject(new Error(`child exited (${code ?? signal}) before READY: ${err.slice(-3000)}`));
      const saves = [...out.matchAll(/SAVED (\d+)/g)].map((m) => Number(m[1]));
      return resolve({ signal, saves: saves.length === 0 ? 0 : saves[saves.length - 1] });
    });
  });
}

test.serial('SIGKILL during repeated saves never leaves a corrupt or half-written checkpoint', async (t) => {
  t.timeout(240_000);
  const train = await realImages(256);
  const probe = await realImages(64, 9000);
  const a = await trainModel({ model: 'cnn', train, epochs: 1, threads: 1, seed: 1 });
  const b = await trainModel({ model: 'cnn', train, epochs: 1, threads: 1, seed: 2, optimizer: { name: 'sgd', learningRate: 0.05 } });
  const pa = join(dir, 'a.pt');
  const pb = join(dir, 'b.pt');
  await a.model.save(pa);
  await b.model.save(pb);
  const probsA = (await a.model.predict(probe.x)).data;
  const probsB = (await b.model.predict(probe.x)).data;
  t.true(maxAbsDiff(probsA, probsB) > 1e-3, 'the two models must be told apart by their predictions');
  a.model.dispose();
  b.model.dispose();
  const bytesA = readFileSync(pa);
  const bytesB = readFileSync(pb);
  // Is a re-save byte-identical? Then P must always be byte-identical to A or B.
  const reloaded = await Model.load(pa);
  await reloaded.save(join(dir, 'a-again.pt'));
  reloaded.dispose();
  const deterministic = readFileSync(join(dir, 'a-again.pt')).equals(bytesA);
  t.log(`checkpoint ${bytesA.length} bytes; re-saving is ${deterministic ? '' : 'not '}byte-identical`);

  writeFileSync(join(dir, 'child.mjs'), CHILD);
  const work = join(dir, 'work');
  mkdirSync(work);
  const p = join(work, 'model.pt');
  const kills = 8;
  let totalSaves = 0;
  for (let k = 0; k < kills; k++) {
    // Random moments: from right after the first save to a few dozen saves later.
    const delay = Math.floor(Math.random() * (k % 2 === 0 ? 60 : 600));
    const { signal, saves } = await runAndKill([pa, pb, p], delay);
    t.is(signal, 'SIGKILL');
    totalSaves += saves;
    t.true(existsSync(p), `kill ${k}: ${p} is gone`);
    const bytes = readFileSync(p);
    if (deterministic) t.true(bytes.equals(bytesA) || bytes.equals(bytesB), `kill ${k} after ${saves} saves: ${p} (${bytes.length} bytes) is neither complete checkpoint`);
    const loaded = await Model.load(p);
    const probs = (await loaded.predict(probe.x)).data;
    loaded.dispose();
    const dA = maxAbsDiff(probs, probsA);
    const dB = maxAbsDiff(probs, probsB);
    t.true(dA === 0 || dB === 0, `kill ${k}: predictions match neither model (max diff ${dA} / ${dB})`);
    for (let i = 0; i < probe.y.length; i++) {
      let sum = 0;
      for (let j = 0; j < 5; j++) sum += probs[i * 5 + j];
      if (Math.abs(sum - 1) > 1e-4) { t.fail(`kill ${k}: probabilities of image ${i} sum to ${sum}`); break; }
    }
  }
  // A kill between open() and rename() leaves the temporary file behind (it never replaces P)...
  const leftovers = readdirSync(work).filter((f) => f !== 'model.pt');
  t.true(leftovers.every((f) => /^\.model\.pt\.tmp-\w+-\d+-\d+$/.test(f)), `unexpected files: ${leftovers.join(', ')}`);
  t.log(`${kills} kills after ${totalSaves} completed saves in all; ${leftovers.length} temporary file(s) left by kills mid-save`);
  t.true(totalSaves > 0, 'the child never completed a save: the kills tested nothing');
  // ...and the next save by a live process removes those of dead processes, keeping files it does not own.
  const foreign = join(work, '.model.pt.tmp-otherhost-1-1');
  writeFileSync(foreign, 'another host is saving');
  const survivor = await Model.load(p);
  await survivor.save(p);
  survivor.dispose();
  t.deepEqual(readdirSync(work).sort(), ['.model.pt.tmp-otherhost-1-1', 'model.pt']);
});

test.serial('resuming a checkpoint of another architecture gives InvalidOptionError naming resume', async (t) => {
  t.timeout(120_000);
  const train = await realImages(256);
  const { model } = await trainModel({ model: { kind: 'resnet', depth: 2 }, train, epochs: 1, threads: 1 });
  const path = join(dir, 'resnet2.pt');
  await model.save(path);
  model.dispose();
  const loaded = await Model.load(path);
  const cases = [
    [{ model: 'cnn', train }, /expected a Model of the same architecture \(cnn, 5 classes, 28x28x1\), received "resnet depth 2, 5 classes, 28x28x1"/],
    [{ model: { kind: 'resnet', depth: 8 }, train }, /received "resnet depth 2, 5 classes, 28x28x1"/],
    [{ model: { kind: 'resnet', depth: 2 }, train: { x: train.x, y: Int32Array.from(train.y, (v) => v % 3) } }, /\(resnet, 3 classes, 28x28x1\)/],
    [{ model: { kind: 'resnet', depth: 2 }, train: { x: { dtype: 'float32', shape: [4, 32, 32], data: new Float32Array(4 * 1024) }, y: [0, 1, 2, 4] }, batchSize: 4 }, /\(resnet, 5 classes, 32x32x1\), received "resnet depth 2, 5 classes, 28x28x1"/],
    [{ model: { kind: 'resnet', depth: 2 }, train: { x: { dtype: 'float32', shape: [4, 28, 28, 3], data: new Float32Array(4 * 784 * 3) }, y: [0, 1, 2, 4] }, batchSize: 4 }, /\(resnet, 5 classes, 28x28x3\), received "resnet depth 2, 5 classes, 28x28x1"/],
  ];
  for (const [options, message] of cases) {
    const error = await t.throwsAsync(trainModel({ epochs: 1, threads: 1, resume: loaded, ...options }), { instanceOf: InvalidOptionError });
    t.is(error?.code, 'ERR_INVALID_OPTION');
    t.is(error?.option, 'resume');
    t.regex(error?.message ?? '', message);
  }
  // The refused resumes left the model as it was: it still trains further.
  const ok = await trainModel({ model: { kind: 'resnet', depth: 2 }, train, epochs: 1, threads: 1, resume: loaded });
  t.deepEqual(ok.history.epoch, [1, 2]);
  loaded.dispose();
});

const withTorch = needs(python('torch', 'numpy'));

async function pythonVariants() {
  const train = await realImages(256);
  const { model } = await trainModel({ model: 'cnn', train, epochs: 1, threads: 1 });
  const path = join(dir, 'cnn-for-python.pt');
  await model.save(path);
  const probe = await realImages(32, 9100);
  const expected = (await model.predict(probe.x)).data;
  model.dispose();
  const out = join(dir, 'variants.json');
  const r = spawnSync(PYTHON, [INTEROP, 'variants', '--checkpoint', path, '--dir', join(dir, 'variants'), '--out', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`interop.py variants failed: ${r.stderr}`);
  return { variants: JSON.parse(readFileSync(out, 'utf8')), probe, expected };
}

withTorch.serial('checkpoints altered with Python torch.save give CheckpointError naming the entry or field', async (t) => {
  t.timeout(120_000);
  const { variants, probe, expected } = await pythonVariants();
  t.true(variants.length >= 10);
  for (const v of variants.filter((x) => x.error !== null)) {
    const error = await t.throwsAsync(Model.load(v.path), { instanceOf: CheckpointError }, v.name);
    t.is(error?.code, 'ERR_CHECKPOINT', v.name);
    t.is(error?.file, v.path, v.name);
    t.regex(error?.message ?? '', new RegExp(v.message), v.name);
  }
  // Re-saved by Python without the optimizer state, or as a plain state_dict: loads, same predictions.
  const loadable = variants.filter((v) => v.error === null && v.name !== 'resaved-with-optimizer').map((v) => v.name);
  t.deepEqual(loadable, ['plain-dict-state-dict', 'plain-ordered-state-dict', 'resaved-without-optimizer']);
  for (const name of loadable) {
    const loaded = await Model.load(variants.find((v) => v.name === name).path);
    t.deepEqual((await loaded.predict(probe.x)).data, expected, name);
    loaded.dispose();
  }
});

// Python's torch.load + torch.save turns the c10::List<Tensor> of optimizer slots into a generic list;
// our reader (src/torch/checkpoint-read.ts) accepts both.
withTorch.serial('a checkpoint re-saved by Python with its optimizer state loads', async (t) => {
  t.timeout(120_000);
  const { variants, probe, expected } = await pythonVariants();
  const resaved = variants.find((v) => v.name === 'resaved-with-optimizer');
  const loaded = await Model.load(resaved.path);
  t.deepEqual((await loaded.predict(probe.x)).data, expected);
  t.true(loaded.handle.config().hasOptimizerState);
  loaded.dispose();
});
