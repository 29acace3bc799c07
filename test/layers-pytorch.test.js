// A saved layers model used from Python: the generated nn.Module (scripts/tools/export-pytorch.mjs) loads
// the checkpoint's state_dict with strict=True and predicts the same probabilities.
// Skipped when /usr/bin/python3 lacks torch or numpy.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { saveNpy, trainModel } from '../dist/index.js';
import { realImages } from './support/data.js';
import { needs, python } from './support/conditional.js';
import { PYTHON } from './support/python.js';

const EXPORT = fileURLToPath(new URL('../scripts/tools/export-pytorch.mjs', import.meta.url));
const withTorch = needs(python('torch', 'numpy'));
const dir = mkdtempSync(join(tmpdir(), 'torchfit-export-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const RUN = `
import json, sys
import numpy as np
import torch
sys.path.insert(0, sys.argv[1])
from exported import Exported
model = Exported()
model.load_state_dict(torch.load(sys.argv[2])["state_dict"], strict=True)
model.eval()
x = torch.from_numpy(np.load(sys.argv[3])).unsqueeze(1)
with torch.no_grad():
    p = torch.softmax(model(x), 1)
json.dump(p.flatten().tolist(), open(sys.argv[4], "w"))
`;

withTorch('Python loads a saved residual model into the generated module and predicts the same', async (t) => {
  t.timeout(120_000);
  const train = await realImages(512);
  const model = {
    layers: [
      { type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' },
      { type: 'batchNormalization', momentum: 0.9 },
      { type: 'residual', layers: [
        { type: 'conv2d', filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'gelu' },
        { type: 'batchNormalization' }, { type: 'conv2d', filters: 16, kernelSize: [1, 3], padding: 'same', useBias: false },
      ], shortcut: [{ type: 'conv2d', filters: 16, kernelSize: 1, strides: 2 }], activation: 'leakyRelu' },
      { type: 'maxPooling2d', poolSize: 3, strides: 2, padding: 'same' },
      { type: 'averagePooling2d', poolSize: 2, padding: 'same' },
      { type: 'residual', layers: [{ type: 'activation', activation: 'tanh' }] },
      { type: 'flatten' }, { type: 'batchNormalization' }, { type: 'dropout', rate: 0.3 },
      { type: 'dense', units: 32, activation: 'elu', kernelInitializer: 'heUniform' },
      { type: 'dense', units: 5, activation: 'softmax' },
    ],
  };
  const { model: trained } = await trainModel({ model, train, epochs: 1, batchSize: 64, threads: 2 });
  const checkpoint = join(dir, 'model.pt');
  await trained.save(checkpoint);
  const probe = await realImages(200, 30_000);
  const ours = await trained.predict(probe.x);
  trained.dispose();
  const exported = spawnSync(process.execPath, [EXPORT, checkpoint, '--class', 'Exported', '--out', join(dir, 'exported.py')], { encoding: 'utf8' });
  t.is(exported.status, 0, exported.stderr);
  await saveNpy(join(dir, 'x.npy'), probe.x);
  writeFileSync(join(dir, 'run.py'), RUN);
  const out = join(dir, 'p.json');
  const r = spawnSync(PYTHON, [join(dir, 'run.py'), dir, checkpoint, join(dir, 'x.npy'), out], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const theirs = JSON.parse(readFileSync(out, 'utf8'));
  t.is(theirs.length, ours.data.length);
  let max = 0;
  for (let i = 0; i < theirs.length; i++) max = Math.max(max, Math.abs(theirs[i] - ours.data[i]));
  t.log(`max |p_ours - p_python| = ${max.toExponential(2)}`);
  t.true(max < 1e-5, `probabilities differ by up to ${max}`);
});

const REWRITE = `
import json, sys
import torch
ckpt = torch.load(sys.argv[1])
layers = json.loads(ckpt["model"]["layers"])
if sys.argv[3] == "wider":
    layers[1]["units"] = 1 << 20
    layers.append({"type": "dense", "units": 5})
elif sys.argv[3] == "text":
    layers = "not json"
ckpt["model"]["layers"] = layers if isinstance(layers, str) else json.dumps(layers)
torch.save(ckpt, sys.argv[2])
`;

withTorch('a layers checkpoint whose description was altered fails with CheckpointError, before any allocation', async (t) => {
  const { Model, CheckpointError } = await import('../dist/index.js');
  const train = await realImages(256);
  const { model } = await trainModel({ model: { layers: [{ type: 'flatten' }, { type: 'dense', units: 5 }] }, train, epochs: 1, batchSize: 64, threads: 2 });
  const path = join(dir, 'small.pt');
  await model.save(path);
  model.dispose();
  writeFileSync(join(dir, 'rewrite.py'), REWRITE);
  for (const [how, message] of [
    ['wider', `field 'model.layers' describes ${785 * 2 ** 20 + 5 * 2 ** 20 + 5} parameters, more than the state_dict holds`],
    ['text', "field 'model.layers' is not valid JSON"],
  ]) {
    const altered = join(dir, `altered-${how}.pt`);
    const r = spawnSync(PYTHON, [join(dir, 'rewrite.py'), path, altered, how], { encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    const error = await t.throwsAsync(Model.load(altered), { instanceOf: CheckpointError });
    t.is(error.message, `${altered}: ${message}`);
  }
});
