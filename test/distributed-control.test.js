// Training control with data-parallel ranks (Gloo, in this process): a stop() on one rank, the
// time limit and the callbacks' decisions are taken alike by every rank, at the same step.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test from 'ava';

import { modelCheckpoint, reduceLROnPlateau, trainModel } from '../dist/index.js';
import { freePort } from './support/distributed.js';
import { realImages, withoutTimings } from './support/data.js';

const dir = mkdtempSync(join(tmpdir(), 'torchfit-dist-control-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** Two ranks in this process; extra[rank] adds options to that rank only. */
async function twoRanks(common, extra) {
  const port = await freePort();
  const results = await Promise.all([0, 1].map((rank) => trainModel({
    ...common, ...extra[rank], distributed: { rank, worldSize: 2, masterPort: port, timeoutMs: 30_000 },
  })));
  for (const r of results) r.model.dispose();
  return results;
}

const common = async () => ({
  model: 'cnn', train: await realImages(512), validation: await realImages(128, 50_000), batchSize: 32, threads: 1, earlyStopping: false,
});

test.serial('stop() in rank 0\'s onEpochEnd ends both ranks after that epoch', async (t) => {
  const [a, b] = await twoRanks({ ...(await common()), epochs: 4 }, [{ onEpochEnd: (log, control) => { if (log.epoch === 2) control.stop(); } }, {}]);
  t.deepEqual(a.history.epoch, [1, 2]);
  t.deepEqual(withoutTimings(b.history), withoutTimings(a.history));
  t.deepEqual([a.stoppedEpoch, a.stopReason, b.stoppedEpoch, b.stopReason], [2, 'stop', 2, 'stop']);
});

test.serial('stop() in rank 1\'s onBatchEnd ends both ranks\' epoch at the same step', async (t) => {
  const steps = [];
  const [a, b] = await twoRanks({ ...(await common()), epochs: 3 }, [
    { onEpochEnd: (log) => steps.push(log.steps) },
    { batchProgressIntervalMs: 0, onBatchEnd: (log, control) => { if (log.epoch === 2 && log.step === 3) control.stop(); } },
  ]);
  t.deepEqual(steps, [8, 3], 'rank 0 ran 3 steps of epoch 2 too (8 per epoch: 256 images a rank)');
  t.deepEqual(withoutTimings(b.history), withoutTimings(a.history));
  t.is(b.stopReason, 'stop');
  t.is(a.stopReason, 'stop');
});

test.serial('a time limit on one rank stops both at the same step', async (t) => {
  const [a, b] = await twoRanks({ ...(await common()), epochs: 500 }, [{ timeLimitMs: 1000 }, {}]);
  t.deepEqual([a.stopReason, b.stopReason], ['timeLimit', 'timeLimit']);
  t.deepEqual(withoutTimings(b.history), withoutTimings(a.history));
  t.true(a.history.epoch.length < 500, `${a.history.epoch.length} epochs`);
});

test.serial('plateau reductions and checkpoint decisions agree on both ranks; files come from rank 0 only', async (t) => {
  const callbacks = (name) => [reduceLROnPlateau({ monitor: 'loss', mode: 'max', factor: 0.5, patience: 1 }), modelCheckpoint({ path: join(dir, name, 'm-{epoch}.pt'), monitor: 'loss' })];
  const [a, b] = await twoRanks({ ...(await common()), epochs: 4 }, [{ callbacks: callbacks('a') }, { callbacks: callbacks('b') }]);
  t.deepEqual(withoutTimings(b.history), withoutTimings(a.history));
  // The training loss falls every epoch: in mode 'max' the rate halves after epochs 2 and 3.
  t.deepEqual(a.history.learningRate, [0.01, 0.01, 0.005, 0.0025]);
  t.deepEqual(readdirSync(join(dir, 'a')).sort(), ['m-1.pt', 'm-2.pt', 'm-3.pt', 'm-4.pt']);
  t.throws(() => readdirSync(join(dir, 'b')), { code: 'ENOENT' });
});
