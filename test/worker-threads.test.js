// The addon in worker_threads: it loads and trains in two workers at once and in the main thread, results
// come back through postMessage, workers exit cleanly, and stopping a worker mid-training leaves the
// process able to train again (the stop scenarios run in a child process, so a native crash fails one test).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import { liveTensors, trainModel } from '../dist/index.js';
import { realImages, withoutTimings } from './support/data.js';

const DIST = new URL('../dist/index.js', import.meta.url).href;

// Runs in each worker (CommonJS eval code; the library is ESM, so it is imported dynamically).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const tf = await import(workerData.dist);
  const { x, y, epochs, seed, report } = workerData;
  const train = { x: { dtype: 'float32', shape: [y.length, 28, 28], data: x }, y };
  let batches = 0;
  const { model, history } = await tf.trainModel({
    model: { kind: 'resnet', depth: 2 }, train, epochs, seed, threads: 1, batchSize: 64,
    batchProgressIntervalMs: 0,
    onBatchEnd: () => { if (report && batches++ === 0) parentPort.postMessage({ type: 'training' }); },
  });
  const probs = await model.predict(train.x);
  const evaluation = await model.evaluate(train.x, train.y);
  parentPort.postMessage({ type: 'result', history, probs: probs.data, evaluation, live: tf.liveTensors(), info: tf.info() });
  model.dispose();
})().catch((error) => {
  parentPort.postMessage({ type: 'error', name: error?.constructor?.name, code: error?.code, message: String(error?.message ?? error) });
  process.exitCode = 2;
});
`;

function startWorker(data, options = {}) {
  const worker = new Worker(WORKER, { eval: true, workerData: { dist: DIST, epochs: 1, seed: 7, report: false, ...data }, ...options });
  const messages = [];
  const result = new Promise((resolve, reject) => {
    worker.on('message', (m) => {
      messages.push(m);
      if (m.type === 'result') resolve(m);
      if (m.type === 'error') reject(new Error(`worker failed: ${m.name} ${m.code}: ${m.message}`));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`worker exited (${code}) before sending a result`)));
  });
  const exit = new Promise((resolve) => worker.on('exit', resolve));
  return { worker, result, exit, messages };
}

async function mainTrain(train, seed = 7) {
  const { model, history } = await trainModel({ model: { kind: 'resnet', depth: 2 }, train, epochs: 1, seed, threads: 1, batchSize: 64 });
  const probs = await model.predict(train.x);
  const evaluation = await model.evaluate(train.x, train.y);
  model.dispose();
  return { history, probs: probs.data, evaluation };
}

test.serial('two workers and the main thread train at the same time, with identical results for the same seed', async (t) => {
  t.timeout(120_000);
  const train = await realImages(256);
  const baseline = liveTensors();
  // Each worker gets its own copy of the images (structured clone).
  const a = startWorker({ x: train.x.data, y: train.y });
  const b = startWorker({ x: train.x.data, y: train.y });
  const [ra, rb, rm] = await Promise.all([a.result, b.result, mainTrain(train)]);
  t.is(await a.exit, 0, 'worker A exit code');
  t.is(await b.exit, 0, 'worker B exit code');
  for (const r of [ra, rb]) {
    t.is(r.info.libtorchVersion, (await import('../dist/index.js')).info().libtorchVersion);
    t.true(r.live > 0, 'the worker saw its model in liveTensors()');
    t.deepEqual(r.history.epoch, [1]);
    t.true(Number.isFinite(r.history.loss[0]));
    t.true(r.probs instanceof Float32Array, 'predictions cross postMessage as a Float32Array');
    t.is(r.probs.length, 256 * 5);
  }
  // Same data, same seed, CPU, one thread each: the three runs are bit-identical even side by side.
  t.deepEqual(withoutTimings(ra.history), withoutTimings(rm.history));
  t.deepEqual(withoutTimings(rb.history), withoutTimings(rm.history));
  t.deepEqual(ra.probs, rm.probs);
  t.deepEqual(rb.probs, rm.probs);
  t.deepEqual(ra.evaluation, rm.evaluation);
  t.is(liveTensors(), baseline, 'every tensor of the workers and the main thread was freed');
});

// Runs `code` (an ES module) in a separate Node process, so that a native crash fails one test, not the file.
function runIsolated(code) {
  const dirPath = mkdtempSync(join(tmpdir(), 'torchfit-workers-'));
  try {
    const file = join(dirPath, 'scenario.mjs');
    writeFileSync(file, code);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 150_000, env: { ...process.env, TORCHFIT_DIST: DIST } });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    return { status: r.status, signal: r.signal, stderr: r.stderr, result: line ? JSON.parse(line.slice(7)) : undefined };
  } finally {
    rmSync(dirPath, { recursive: true, force: true });
  }
}

// The scenario: a worker trains (30 epochs), the main thread terminates it after its first batch, then the
// main thread trains again and a fresh worker trains again. `stop` chooses how the worker is stopped.
const scenario = (stop) => `
import { Worker } from 'node:worker_threads';
const tf = await import(process.env.TORCHFIT_DIST);
const n = 256;
const x = new Float32Array(n * 784).map((_, i) => ((i * 7919) % 255) / 255);
const y = Int32Array.from({ length: n }, (_, i) => i % 5);
const code = \`
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const tf = await import(process.env.TORCHFIT_DIST);
  const controller = new AbortController();
  const onMessage = (m) => { if (m === 'abort') controller.abort(); if (m === 'exit') process.exit(3); };
  parentPort.on('message', onMessage);
  const train = { x: { dtype: 'float32', shape: [workerData.y.length, 28, 28], data: workerData.x }, y: workerData.y };
  let first = true;
  try {
    const { model, history } = await tf.trainModel({ model: { kind: 'resnet', depth: 2 }, train, epochs: workerData.epochs, threads: 1,
      batchSize: 64, seed: 3, signal: controller.signal, batchProgressIntervalMs: 0,
      onBatchEnd: () => { if (first) { first = false; parentPort.postMessage({ type: 'training' }); } } });
    parentPort.postMessage({ type: 'result', loss: history.loss });
    model.dispose();
    parentPort.off('message', onMessage); // nothing left to keep the worker alive: it exits by itself (code 0)
  } catch (error) {
    // Stay alive (the listener) until the main thread terminates this worker.
    parentPort.postMessage({ type: 'stopped', name: error.constructor.name, code: error.code });
  }
})();
\`;
const start = (epochs) => new Worker(code, { eval: true, workerData: { x, y, epochs } });
const next = (w, type) => new Promise((resolve, reject) => {
  w.on('message', (m) => m.type === type && resolve(m));
  w.on('error', reject);
});
const baseline = tf.liveTensors();
const victim = start(30);
const victimExited = new Promise((r) => victim.on('exit', r));
await next(victim, 'training');
let stopped;
${stop === 'terminate' ? `const terminateCode = await victim.terminate();`
    : stop === 'exit' ? `victim.postMessage('exit'); const terminateCode = await victimExited;`
      : `victim.postMessage('abort'); stopped = await next(victim, 'stopped'); const terminateCode = await victim.terminate();`}
// The process goes on: the main thread trains, then a fresh worker trains.
const train = { x: { dtype: 'float32', shape: [n, 28, 28], data: x }, y };
const { model, history } = await tf.trainModel({ model: { kind: 'resnet', depth: 2 }, train, epochs: 1, threads: 1, batchSize: 64, seed: 3 });
model.dispose();
const fresh = start(1);
const freshExited = new Promise((r) => fresh.on('exit', r)); // listen now: 'exit' can follow the last message in the same tick
const freshResult = await next(fresh, 'result');
const freshExit = await freshExited;
const deadline = Date.now() + 60_000;
while (tf.liveTensors() !== baseline && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
console.log('RESULT ' + JSON.stringify({ terminateCode, stopped, mainLoss: history.loss, freshLoss: freshResult.loss, freshExit, live: tf.liveTensors(), baseline }));
`;

function checkScenario(t, run, expectedCode) {
  t.is(run.signal, null, `the process was killed by ${run.signal}: ${run.stderr.slice(-600)}`);
  t.is(run.status, 0, `the process exited with ${run.status}: ${run.stderr.slice(-600)}`);
  if (!run.result) return t.fail('no result');
  t.is(run.result.terminateCode, expectedCode);
  t.true(Number.isFinite(run.result.mainLoss[0]));
  t.deepEqual(run.result.freshLoss, run.result.mainLoss, 'same seed, same data: the fresh worker trains like the main thread');
  t.is(run.result.freshExit, 0);
  t.is(run.result.live, run.result.baseline, 'tensors of the stopped worker leaked');
  return undefined;
}

test.serial('aborting the training in a worker, then terminate(): the process keeps working and trains again', (t) => {
  t.timeout(180_000);
  const run = runIsolated(scenario('abort'));
  checkScenario(t, run, 1);
  t.deepEqual(run.result?.stopped, { type: 'stopped', name: 'AbortError', code: 'ABORT_ERR' });
});

// Regression test: with the addon built at the start of this work, tearing down a worker's environment while
// one of its native jobs (train, evaluate, predict) was in flight made node-addon-api's
// AsyncWorker::OnAsyncWorkComplete throw an unthrowable Napi::Error, and std::terminate() aborted the whole
// process (SIGABRT, exit 134).
test.serial('terminate() a worker mid-training: the process keeps working and trains again', (t) => {
  t.timeout(180_000);
  const run = runIsolated(scenario('terminate'));
  checkScenario(t, run, 1);
});

// Regression test: process.exit() inside a worker while it trained used to abort the whole process, either
// as above or when the next progress record reached TrainWorker::OnProgress in the terminating environment
// ("FATAL ERROR: Error::Error napi_define_properties").
test.serial('process.exit() in a worker mid-training ends only that worker', (t) => {
  t.timeout(180_000);
  const run = runIsolated(scenario('exit'));
  checkScenario(t, run, 3);
});

test.serial('a worker that disposes nothing and exits still frees its models when its environment ends', async (t) => {
  t.timeout(120_000);
  const train = await realImages(128);
  const baseline = liveTensors();
  const code = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const tf = await import(workerData.dist);
  const train = { x: { dtype: 'float32', shape: [128, 28, 28], data: workerData.x }, y: workerData.y };
  const { model } = await tf.trainModel({ model: 'cnn', train, epochs: 1, threads: 1 });
  const t = tf.Tensor.from(new Float32Array(784), [1, 28, 28]);
  parentPort.postMessage({ live: tf.liveTensors(), classes: Array.from(await model.predictClasses(t)) });
  // Neither model nor t is disposed: the worker simply ends.
})();
`;
  const worker = new Worker(code, { eval: true, workerData: { dist: DIST, x: train.x.data, y: train.y } });
  // Listen for 'exit' now: Node can emit the last 'message' and 'exit' in the same tick.
  const exited = new Promise((resolve) => worker.on('exit', resolve));
  const message = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  t.true(message.live > baseline);
  t.is(message.classes.length, 1);
  t.is(await exited, 0);
  const deadline = Date.now() + 30_000;
  while (liveTensors() !== baseline && Date.now() < deadline) await new Promise((res) => setTimeout(res, 250));
  t.is(liveTensors(), baseline, "an ended worker's undisposed model and tensor stay alive");
});
