// csvLogger: Keras's CSVLogger file, byte for byte (columns, 0-based epochs, Python's number
// formats, csv quoting, '\r\n'), with and without validation, after a reduceLROnPlateau, appended.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test from 'ava';

import { csvLogger, reduceLROnPlateau, TorchfitError, trainModel } from '../dist/index.js';
import { pythonRepr } from '../dist/torch/csv-logger.js';
import { realImages } from './support/data.js';

const dir = mkdtempSync(join(tmpdir(), 'torchfit-csv-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const base = async () => ({ model: { kind: 'resnet', depth: 2 }, train: await realImages(384), batchSize: 128, threads: 1 });
const validation = () => realImages(128, 50_000);

test('with validation: epoch,accuracy,loss,val_accuracy,val_loss and one row per epoch', async (t) => {
  mkdirSync(join(dir, 'own'));
  const path = join(dir, 'own', 'val.csv');
  writeFileSync(path, 'an old log\r\n');
  const result = await trainModel({ ...(await base()), validation: await validation(), epochs: 3, callbacks: [csvLogger({ path })] });
  const h = result.history;
  const rows = h.epoch.map((e, i) => [e - 1, pythonRepr(h.accuracy[i]), pythonRepr(h.loss[i]), pythonRepr(h.valAccuracy[i]), pythonRepr(h.valLoss[i])].join(','));
  t.is(readFileSync(path, 'latin1'), ['epoch,accuracy,loss,val_accuracy,val_loss', ...rows, ''].join('\r\n'), 'the old log is replaced');
  t.regex(rows[0], /^0,0\.\d+,\d\.\d+,0\.\d+,\d\.\d+$/);
  t.deepEqual(readdirSync(join(dir, 'own')).filter((f) => f.startsWith('.')), [], 'no temporary file left');
  result.model.dispose();
});

test('without validation Keras adds empty val_ columns (NA); a plateau callback before it adds lr (float32, as numpy prints it)', async (t) => {
  const path = join(dir, 'lr.csv');
  const result = await trainModel({
    ...(await base()), epochs: 3, optimizer: { name: 'adam', learningRate: 0.001 },
    callbacks: [reduceLROnPlateau({ monitor: 'loss', mode: 'max', factor: 0.1, patience: 1 }), csvLogger({ path, separator: ';' })],
  });
  const h = result.history;
  t.deepEqual(h.learningRate, [0.001, 0.001, 0.0001]);
  const lr = ['0.001', '0.001', '1e-04'];  // str(np.float32(0.0001)) is '1e-04'
  const rows = h.epoch.map((e, i) => [e - 1, pythonRepr(h.accuracy[i]), pythonRepr(h.loss[i]), lr[i], 'NA', 'NA', 'NA'].join(';'));
  t.is(readFileSync(path, 'latin1'), ['epoch;accuracy;loss;lr;val_accuracy;val_loss;val_lr', ...rows, ''].join('\r\n'));
  result.model.dispose();
});

test('append: rows follow the file\'s content, the header only in a new file; epochs continue with initialEpoch', async (t) => {
  const path = join(dir, 'append.csv');
  const options = await base();
  const first = await trainModel({ ...options, epochs: 1, callbacks: [csvLogger({ path, append: true })] });
  const second = await trainModel({ ...options, epochs: 3, initialEpoch: 1, resume: first.model, callbacks: [csvLogger({ path, append: true })] });
  const h = second.history;
  t.deepEqual(h.epoch, [1, 2, 3]);
  const rows = h.epoch.map((e, i) => [e - 1, pythonRepr(h.accuracy[i]), pythonRepr(h.loss[i]), 'NA', 'NA'].join(','));
  t.is(readFileSync(path, 'latin1'), ['epoch,accuracy,loss,val_accuracy,val_loss', ...rows, ''].join('\r\n'));
  second.model.dispose();
});

test('a log that cannot be written fails before training with ERR_CSV_LOGGER', async (t) => {
  const path = join(dir, 'missing-folder', 'log.csv');
  const error = await t.throwsAsync(trainModel({ ...(await base()), epochs: 1, callbacks: [csvLogger({ path })] }), { instanceOf: TorchfitError });
  t.is(error.code, 'ERR_CSV_LOGGER');
  t.is(error.message, `csvLogger: cannot write ${path}: its folder does not exist`);
  t.false(existsSync(join(dir, 'missing-folder')));
});
