#!/usr/bin/env node
// CUDA checks for scripts/gpu/check.sh: both models train on cuda:0, evaluation agrees with
// the history, abort works, tensors are freed, and one full CNN epoch (54,000 images with
// validation) is timed. Prints JSON.
import { AbortError, info, labelsToZeroBased, liveTensors, loadDataset, notebookSplit, takeRows, trainModel } from '../../dist/index.js';

const out = { info: info(), checks: {} };
const data = await loadDataset('data/fashion_mnist_dataset_train.npy');
const labels = labelsToZeroBased(data.target);
const split = notebookSplit(data.features.shape[0], 0);
const part = (idx) => ({ x: takeRows(data.features, idx), y: Int32Array.from(idx, (i) => labels[i]) });
const train = part(split.train);
const val = part(split.val);

for (const model of ['cnn', { kind: 'resnet', depth: 2 }, { kind: 'resnet', depth: 20 }]) {
  const name = typeof model === 'string' ? model : `resnet${model.depth}`;
  const r = await trainModel({ model, train, validation: val, epochs: 2, device: 'cuda', earlyStopping: false });
  const e = await r.model.evaluate(val.x, val.y);
  out.checks[name] = {
    device: r.device, secondsPerEpoch: r.history.seconds, msPerStep: r.history.msPerStep,
    valAccuracy: r.history.valAccuracy, evaluateMatches: Math.abs(e.accuracy - r.history.valAccuracy[1]) < 1e-6,
  };
  r.model.dispose();
}
const controller = new AbortController();
setTimeout(() => controller.abort(), 200);
try {
  await trainModel({ model: 'cnn', train, epochs: 5, device: 'cuda', signal: controller.signal });
  out.checks.abort = 'did not abort';
} catch (error) {
  out.checks.abort = error instanceof AbortError ? 'ok' : String(error);
}
out.checks.liveTensorsAfter = liveTensors();
console.log(JSON.stringify(out, null, 1));
