// Data-parallel training over c10d/Gloo: ranks as separate processes on 127.0.0.1
// (test/support/distributed-rank.mjs), plus option checks and failures in-process.
import test from 'ava';

import { distributedFromEnv, DistributedError, info, InvalidOptionError, trainModel } from '../dist/index.js';
import { chooseBackend, resolveDistributed } from '../dist/torch/distributed.js';
import { _dataParallelProbe } from '../dist/torch/distributed-probe.js';
import { freePort, spawnRank } from './support/distributed.js';
import { realImages } from './support/data.js';

const images = (n) => ({ dtype: 'float32', shape: [n, 28, 28], data: new Float32Array(n * 784) });
const labels = (n) => Int32Array.from({ length: n }, (_, i) => i % 5);
const maxAbsDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const maxAbs = (a) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

test('this build carries Gloo (libgloo-dev) and reports it', (t) => {
  t.deepEqual(info().distributed, { gloo: true, nccl: false });
});

test('distributed options are validated with messages naming the option', async (t) => {
  const base = { model: 'cnn', train: { x: images(8), y: labels(8) }, batchSize: 2 };
  const cases = [
    [{ rank: 0 }, 'distributed.worldSize', 'Invalid option distributed.worldSize: expected an integer from 1 to 65535, received undefined'],
    [{ rank: 2, worldSize: 2 }, 'distributed.rank', 'Invalid option distributed.rank: expected an integer from 0 to 1 (worldSize - 1), received 2'],
    [{ rank: 0, worldSize: 2, masterPort: 70000 }, 'distributed.masterPort', 'Invalid option distributed.masterPort: expected an integer from 1 to 65535, received 70000'],
    [{ rank: 0, worldSize: 2, masterAddr: 'a host' }, 'distributed.masterAddr', 'Invalid option distributed.masterAddr: expected a host name or IP address, received "a host"'],
    [{ rank: 0, worldSize: 2, timeoutMs: 5 }, 'distributed.timeoutMs', 'Invalid option distributed.timeoutMs: expected an integer from 100 to 86400000 (milliseconds), received 5'],
    [{ rank: 0, worldSize: 2, backend: 'mpi' }, 'distributed.backend', "Invalid option distributed.backend: expected 'auto', 'gloo' or 'nccl', received \"mpi\""],
    [{ rank: 0, worldSize: 2, port: 1 }, 'distributed.port', "Invalid option distributed.port: expected one of rank, worldSize, masterAddr, masterPort, timeoutMs, rendezvousTimeoutMs, backend, interface, bucketCapMb, received unknown option 'port'"],
    [{ rank: 0, worldSize: 2, rendezvousTimeoutMs: 1.5 }, 'distributed.rendezvousTimeoutMs', 'Invalid option distributed.rendezvousTimeoutMs: expected an integer from 100 to 86400000 (milliseconds), received 1.5'],
    ['yes', 'distributed', "Invalid option distributed: expected 'env' or { rank, worldSize, masterAddr?, masterPort?, timeoutMs?, rendezvousTimeoutMs?, backend?, interface?, bucketCapMb? }, received \"yes\""],
  ];
  for (const [distributed, option, message] of cases) {
    const error = await t.throwsAsync(trainModel({ ...base, distributed }), { instanceOf: InvalidOptionError });
    t.is(error.option, option);
    t.is(error.message, message);
  }
});

test('batchSize is per rank; the nccl backend needs CUDA', async (t) => {
  const x = images(10);
  const nccl = await t.throwsAsync(
    trainModel({ model: 'cnn', train: { x, y: labels(10) }, batchSize: 2, device: 'cpu', distributed: { rank: 0, worldSize: 2, backend: 'nccl' } }),
    { instanceOf: InvalidOptionError });
  t.is(nccl.option, 'distributed.backend');
});

test('a build without a backend fails with a DistributedError naming what to install', (t) => {
  const resolved = resolveDistributed({ rank: 0, worldSize: 2 });
  const without = { distributed: { gloo: false, nccl: false } };
  const gloo = t.throws(() => chooseBackend(resolved, 'cpu', without), { instanceOf: DistributedError });
  t.is(gloo.code, 'ERR_DISTRIBUTED_UNAVAILABLE');
  t.regex(gloo.message, /sudo apt-get install libgloo-dev\), then rebuild \(npx torchfit build/);
  const nccl = t.throws(() => chooseBackend({ ...resolved, backend: 'nccl' }, 'cuda:0', without), { instanceOf: DistributedError });
  t.is(nccl.code, 'ERR_DISTRIBUTED_UNAVAILABLE');
  t.regex(nccl.message, /no NCCL/);
  // 'auto' picks NCCL for CUDA devices only when the build has it, Gloo otherwise.
  t.is(chooseBackend(resolved, 'cuda:1', { distributed: { gloo: true, nccl: true } }).backend, 'nccl');
  t.is(chooseBackend(resolved, 'cuda:1', { distributed: { gloo: true, nccl: false } }).backend, 'gloo');
  t.is(chooseBackend(resolved, 'cpu', { distributed: { gloo: true, nccl: true } }).backend, 'gloo');
});

test('distributedFromEnv reads what torchrun sets, and names what is missing', (t) => {
  t.deepEqual(distributedFromEnv({ RANK: '1', WORLD_SIZE: '4', MASTER_ADDR: '10.0.0.5', MASTER_PORT: '23456' }),
    { rank: 1, worldSize: 4, masterAddr: '10.0.0.5', masterPort: 23456 });
  t.deepEqual(distributedFromEnv({ RANK: '0', WORLD_SIZE: '2' }), { rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort: 29500 });
  const error = t.throws(() => distributedFromEnv({ WORLD_SIZE: '2' }), { instanceOf: InvalidOptionError });
  t.is(error.message, "Invalid option env.RANK: expected an integer from 0 to 1 (distributed: 'env' reads RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT), received undefined");
  t.throws(() => distributedFromEnv({ RANK: '2', WORLD_SIZE: '2' }), { message: /env\.RANK/ });
});

test('the all-reduced gradients of 2 processes equal one process\'s gradient of the combined batch (no BatchNorm)', async (t) => {
  const port = await freePort();
  // Rank 1 starts from other weights (seed 99): the broadcast from rank 0 must replace them.
  // Buckets of 1 KiB split the parameters into several all-reduces.
  const distributed = (rank) => ({ rank, worldSize: 2, masterPort: port, timeoutMs: 30_000, bucketCapMb: 1 / 1024 });
  const ranks = [
    spawnRank({ kind: 'probe', n: 24, start: 0, seed: 7, distributed: distributed(0) }),
    spawnRank({ kind: 'probe', n: 24, start: 24, seed: 99, distributed: distributed(1) }),
  ];
  const [r0, r1] = await Promise.all(ranks.map((r) => r.done));
  t.is(r0.code, 0, r0.stderr);
  t.is(r1.code, 0, r1.stderr);
  const both = await realImages(48, 0);
  const single = await _dataParallelProbe({ x: both.x.data, shape: [48, 1, 28, 28], y: both.y, numClasses: 5, seed: 7 });
  const a = r0.result;
  const b = r1.result;
  t.deepEqual(a.parameters, [...single.parameters], 'rank 0 starts from the seed-7 weights');
  t.deepEqual(b.parameters, a.parameters, 'rank 1 received rank 0\'s weights');
  t.deepEqual(b.gradients, a.gradients, 'both ranks hold the same averaged gradients');
  const reference = [...single.gradients];
  const tolerance = 1e-5 * Math.max(1, maxAbs(reference));
  t.true(maxAbsDiff(a.gradients, reference) <= tolerance, `averaged vs combined: ${maxAbsDiff(a.gradients, reference)}`);
  // The comparison can fail: each rank's own gradient is far from the combined one.
  t.true(maxAbsDiff(a.localGradients, reference) > 100 * tolerance, `rank 0 alone: ${maxAbsDiff(a.localGradients, reference)}`);
  t.true(maxAbsDiff(b.localGradients, reference) > 100 * tolerance, `rank 1 alone: ${maxAbsDiff(b.localGradients, reference)}`);
  t.true(Math.abs((a.loss + b.loss) / 2 - single.loss) < 1e-5, 'the mean of the two losses is the combined loss');
});

test('2 ranks of the CNN match 1 process with the same global batch, and agree with each other', async (t) => {
  const port = await freePort();
  // Same images, seed (initial weights, shuffle order) and global batch (2 x 16 vs 32): only
  // the data-parallel mechanics differ, BatchNorm's per-rank batch statistics above all.
  // 750 steps, the last epoch at a tenth of the learning rate, so that BatchNorm's moving
  // statistics (momentum 0.99) catch up with the weights and validation accuracy settles
  // (docs/parity.md); seeds 3 to 6 gave differences of 0.1 to 0.9 points.
  const learningRates = [0.05, 0.05, 0.005];
  const common = { model: 'cnn', epochs: 3, seed: 3, threads: 1, earlyStopping: false, optimizer: { name: 'sgd', learningRate: 0.05 } };
  const data = { trainN: 8000, valN: 2000, valStart: 50_000 };
  const distributed = (rank) => ({ rank, worldSize: 2, masterPort: port, timeoutMs: 60_000 });
  const ranks = [0, 1].map((rank) => spawnRank({ kind: 'train', ...data, learningRates, options: { ...common, batchSize: 16 }, distributed: distributed(rank) }));
  const train = await realImages(data.trainN);
  const validation = await realImages(data.valN, data.valStart);
  const single = await trainModel({ ...common, lrSchedule: (epoch) => learningRates[epoch], batchSize: 32, train, validation });
  single.model.dispose();
  const [r0, r1] = await Promise.all(ranks.map((r) => r.done));
  t.is(r0.code, 0, r0.stderr);
  t.is(r1.code, 0, r1.stderr);
  const { seconds: _s0, msPerStep: _m0, ...h0 } = r0.result.history;
  const { seconds: _s1, msPerStep: _m1, ...h1 } = r1.result.history;
  t.deepEqual(h1, h0, 'every rank reports the same history');
  t.deepEqual(r1.result.probabilities, r0.result.probabilities, 'the ranks end with the same weights and BatchNorm statistics');
  t.deepEqual(r0.result.distributed, { rank: 0, worldSize: 2, backend: 'gloo' });
  t.deepEqual(h0.learningRate, learningRates);
  const one = single.history.valAccuracy[2];
  const two = h0.valAccuracy[2];
  t.true(one > 0.85, `the 1-process run learned: ${one}`);
  t.true(Math.abs(two - one) <= 0.015, `validation accuracy, 2 ranks ${two} vs 1 process ${one}`);
});

test('a rank that never arrives makes the other fail after distributed.rendezvousTimeoutMs, and it can train again', async (t) => {
  const train = await realImages(64);
  const port = await freePort();
  const error = await t.throwsAsync(trainModel({ model: 'cnn', train, epochs: 1, batchSize: 16, threads: 1, distributed: { rank: 0, worldSize: 2, masterPort: port, rendezvousTimeoutMs: 1500 } }),
    { instanceOf: DistributedError });
  t.is(error.code, 'ERR_DISTRIBUTED_TIMEOUT');
  t.is(error.message, 'distributed rank 0 of 2: rank(s) 1 did not arrive within distributed.rendezvousTimeoutMs (1500 ms)');
  const client = await t.throwsAsync(trainModel({ model: 'cnn', train, epochs: 1, batchSize: 16, threads: 1, distributed: { rank: 1, worldSize: 2, masterPort: port, rendezvousTimeoutMs: 1500 } }),
    { instanceOf: DistributedError });
  t.is(client.code, 'ERR_DISTRIBUTED_TIMEOUT');
  t.regex(client.message, new RegExp(`^distributed rank 1 of 2: reaching rank 0's rendezvous store at 127\\.0\\.0\\.1:${port} \\(is rank 0 running\\?\\) got no answer within distributed\\.rendezvousTimeoutMs \\(1500 ms\\)`));
  const alone = await trainModel({ model: 'cnn', train, epochs: 1, batchSize: 16, threads: 1 });
  t.is(alone.history.loss.length, 1);
  alone.model.dispose();
});

test('a world of one rank trains exactly as one process does, bit for bit', async (t) => {
  const train = await realImages(256);
  const validation = await realImages(64, 50_000);
  const common = { model: 'cnn', train, validation, epochs: 2, batchSize: 32, threads: 1, seed: 4 };
  const alone = await trainModel(common);
  const world = await trainModel({ ...common, distributed: { rank: 0, worldSize: 1, masterPort: await freePort() } });
  const { seconds: _a, msPerStep: _b, ...h1 } = alone.history;
  const { seconds: _c, msPerStep: _d, ...h2 } = world.history;
  t.deepEqual(h2, h1);
  t.deepEqual(world.distributed, { rank: 0, worldSize: 1, backend: 'gloo' });
  t.is(alone.distributed, undefined);
  alone.model.dispose();
  world.model.dispose();
});

test('consecutive runs on one port meet the new store, not the closing one (the notebook trains the CNN, then the ResNet)', async (t) => {
  const port = await freePort();
  const train = await realImages(128);
  const rank = async (r) => {
    const losses = [];
    for (const model of ['cnn', 'resnet', 'cnn']) {
      const result = await trainModel({ model, train, epochs: 1, batchSize: 16, threads: 1, distributed: { rank: r, worldSize: 2, masterPort: port, timeoutMs: 20_000 } });
      losses.push(result.history.loss[0]);
      result.model.dispose();
    }
    return losses;
  };
  const [a, b] = await Promise.all([rank(0), rank(1)]);
  t.deepEqual(b, a);
  t.is(a.length, 3);
});

test('ranks given different data refuse to train instead of hanging', async (t) => {
  const port = await freePort();
  const distributed = (rank) => ({ rank, worldSize: 2, masterPort: port, timeoutMs: 20_000 });
  const run = async (rank, n) => trainModel({ model: 'cnn', train: await realImages(n), epochs: 1, batchSize: 8, threads: 1, distributed: distributed(rank) });
  const results = await Promise.allSettled([run(0, 64), run(1, 80)]);
  for (const [rank, r] of results.entries()) {
    t.is(r.status, 'rejected');
    t.true(r.reason instanceof DistributedError);
    t.is(r.reason.code, 'ERR_DISTRIBUTED');
    t.true(r.reason.message.startsWith(`distributed rank ${rank} of 2: the ranks disagree on the number of training images (this rank: ${rank === 0 ? 64 : 80}`), r.reason.message);
  }
});

test('a cancelled rank rejects with AbortError and its peer fails fast instead of hanging', async (t) => {
  const port = await freePort();
  const train = await realImages(512);
  const controller = new AbortController();
  const distributed = (rank) => ({ rank, worldSize: 2, masterPort: port, timeoutMs: 60_000 });
  const common = { model: 'cnn', train, epochs: 3, batchSize: 16, threads: 1 };
  const results = await Promise.allSettled([
    trainModel({ ...common, distributed: distributed(0) }),
    trainModel({ ...common, distributed: distributed(1), signal: controller.signal, onEpochEnd: () => controller.abort() }),
  ]);
  t.is(results[1].status, 'rejected');
  t.is(results[1].reason.name, 'AbortError');
  t.is(results[0].status, 'rejected');
  t.true(results[0].reason instanceof DistributedError, String(results[0].reason));
  t.is(results[0].reason.code, 'ERR_DISTRIBUTED', 'a closed connection, not the 60 s timeout');
  t.regex(results[0].reason.message, /^distributed rank 0 of 2: .* failed: .*another rank probably died, was cancelled or failed/);
});

test('a killed rank makes the other fail with a DistributedError; the survivor trains again', async (t) => {
  const port = await freePort();
  const job = { kind: 'train', trainN: 1024, valN: 256, valStart: 50_000, options: { model: 'cnn', epochs: 3, batchSize: 32, threads: 1 } };
  const distributed = (rank) => ({ rank, worldSize: 2, masterPort: port, timeoutMs: 10_000 });
  const [survivor, killed] = await Promise.all([
    spawnRank({ ...job, distributed: distributed(0) }).done,
    spawnRank({ ...job, distributed: distributed(1), killAfterEpoch: 1 }).done,
  ]);
  t.is(killed.signal, 'SIGKILL');
  t.is(survivor.code, 0, survivor.stderr);
  const { error, trainedAgain } = survivor.result;
  t.is(error.name, 'DistributedError');
  t.true(['ERR_DISTRIBUTED', 'ERR_DISTRIBUTED_TIMEOUT'].includes(error.code), error.code);
  t.true(error.message.startsWith('distributed rank 0 of 2: '), error.message);
  t.true(trainedAgain);
});

test('a frozen rank (SIGSTOP) makes the other fail with ERR_DISTRIBUTED_TIMEOUT', async (t) => {
  const port = await freePort();
  const job = { kind: 'train', trainN: 1024, valN: 256, valStart: 50_000, options: { model: 'cnn', epochs: 3, batchSize: 32, threads: 1 } };
  const distributed = (rank) => ({ rank, worldSize: 2, masterPort: port, timeoutMs: 3000 });
  const frozen = spawnRank({ ...job, distributed: distributed(1), stopAfterEpoch: 1 });
  const survivor = await spawnRank({ ...job, distributed: distributed(0) }).done;
  frozen.child.kill('SIGKILL');
  await frozen.done;
  t.is(survivor.code, 0, survivor.stderr);
  t.is(survivor.result.error.name, 'DistributedError');
  t.is(survivor.result.error.code, 'ERR_DISTRIBUTED_TIMEOUT', survivor.result.error.message);
  t.regex(survivor.result.error.message, /^distributed rank 0 of 2: .* got no answer within distributed\.timeoutMs \(3000 ms\)/);
  t.true(survivor.result.trainedAgain);
});
