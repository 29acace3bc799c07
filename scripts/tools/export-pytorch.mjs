#!/usr/bin/env node
// Writes the PyTorch nn.Module source of a layers model, so its weights can be used from Python.
//   node scripts/tools/export-pytorch.mjs MODEL.pt [--class Name] [--out model.py]
//   node scripts/tools/export-pytorch.mjs DESCRIPTION.json [--class Name] [--out model.py]
// DESCRIPTION.json: { "layers": [...], "inputShape": [h, w, c], "numClasses": n } (the last two optional).
// Then in Python: m = Name(); m.load_state_dict(torch.load('MODEL.pt')['state_dict']); m.eval()
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { Model, pytorchSource } from '../../dist/index.js';

const { values, positionals } = parseArgs({ options: { class: { type: 'string' }, out: { type: 'string' } }, allowPositionals: true });
if (positionals.length !== 1) {
  console.error('usage: node scripts/tools/export-pytorch.mjs MODEL.pt|DESCRIPTION.json [--class Name] [--out model.py]');
  process.exit(2);
}
const input = positionals[0];
let layers;
let options;
if (input.endsWith('.json')) {
  const description = JSON.parse(await readFile(input, 'utf8'));
  layers = description.layers;
  options = { inputShape: description.inputShape, numClasses: description.numClasses };
} else {
  const model = await Model.load(input);
  const c = model.config;
  model.dispose();
  if (c.kind !== 'layers') {
    console.error(`${input} holds the '${c.kind}' preset: its weights use the names of reference/models.py (CNN / ResNetV1), use that module.`);
    process.exit(1);
  }
  layers = c.layers;
  options = { inputShape: [c.height, c.width, c.channels], numClasses: c.numClasses };
}
const source = pytorchSource(layers, { ...options, ...(values.class ? { className: values.class } : {}) });
if (values.out) await writeFile(values.out, source);
else process.stdout.write(source);
