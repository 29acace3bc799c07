#!/usr/bin/env node
// One benchmark run of ours: load, split, train one model, evaluate; prints JSON in the
// Python reference port's schema (reference/notebook_port.py --json) so train.mjs
// can put them side by side. Run in its own process so peak RSS is this run's alone.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { info, labelsToZeroBased, loadDataset, notebookSplit, takeRows, trainModel } from '../../dist/index.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'data/fashion_mnist_dataset_train.npy' },
    model: { type: 'string', default: 'cnn' },
    depth: { type: 'string', default: '2' },
    epochs: { type: 'string', default: '3' },
    'batch-size': { type: 'string', default: '128' },
    threads: { type: 'string' },
    device: { type: 'string', default: 'cpu' },
    seed: { type: 'string', default: '0' },
    limit: { type: 'string' },
    json: { type: 'string' },
    kernels: { type: 'string', default: 'fused' },
  },
});

const loadStart = performance.now();
const data = await loadDataset(values.data);
const loadSeconds = (performance.now() - loadStart) / 1000;
const labels = labelsToZeroBased(data.target);
const split = notebookSplit(data.features.shape[0], 0);
const part = (idx, limit) => {
  const chosen = limit ? idx.subarray(0, limit) : idx;
  return { x: takeRows(data.features, chosen), y: Int32Array.from(chosen, (i) => labels[i]) };
};
const limit = values.limit ? Number(values.limit) : undefined;
const train = part(split.train, limit);
const val = part(split.val);
const test = part(split.test);
const kind = values.model;
const depth = Number(values.depth);
const threads = values.threads ? Number(values.threads) : undefined;

const started = performance.now();
const result = await trainModel({
  model: kind === 'cnn' ? 'cnn' : { kind: 'resnet', depth },
  train,
  validation: val,
  epochs: Number(values.epochs),
  batchSize: Number(values['batch-size']),
  earlyStopping: kind === 'cnn' ? { monitor: 'val_loss', patience: 10 } : false,
  seed: Number(values.seed),
  kernels: values.kernels,
  device: values.device,
  ...(threads ? { threads } : {}),
  verbose: 2,
});
const fitSeconds = (performance.now() - started) / 1000;
const testEval = await result.model.evaluate(test.x, test.y);
const summary = result.model.summary();
const h = result.history;
const last = h.epoch.length - 1;
const out = {
  framework: 'torchfit',
  kernels: values.kernels,
  libtorch: info().libtorchVersion,
  threads: threads ?? info().threads,
  device: result.device,
  load_seconds: loadSeconds,
  models: {
    [kind]: {
      depth: kind === 'resnet' ? depth : null,
      params: { total: summary.totalParams, trainable: summary.trainableParams, non_trainable: summary.nonTrainableParams },
      steps_per_epoch: Math.ceil(train.y.length / Number(values['batch-size'])),
      stopped_epoch: result.stoppedEpoch ?? null,
      epochs_run: h.epoch.length,
      fit_seconds: fitSeconds,
      history: { epoch: h.epoch, loss: h.loss, accuracy: h.accuracy, val_loss: h.valLoss, val_accuracy: h.valAccuracy, seconds: h.seconds, ms_per_step: h.msPerStep },
      final: {
        train: { loss: h.loss[last], accuracy: h.accuracy[last] },
        val: { loss: h.valLoss[last], accuracy: h.valAccuracy[last] },
        test: testEval,
      },
    },
  },
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
};
result.model.dispose();
const text = JSON.stringify(out, null, 1);
if (values.json) writeFileSync(values.json, text);
else console.log(text);
