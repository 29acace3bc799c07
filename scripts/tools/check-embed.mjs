#!/usr/bin/env node
// Checks that torchfit works as a dependency: npm pack, install the tarball into a
// scratch project (npm 11 skips our install script there), `npx torchfit build`,
// then import it and train a few steps. Prints each step; exits non-zero on failure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'torchfit-embed-'));

function step(title, command, args, cwd) {
  console.log(`\n== ${title}: ${command} ${args.join(' ')}  (in ${cwd})`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`check-embed: '${title}' failed (exit ${result.status})`);
    process.exit(1);
  }
  console.log(`== ${title}: ok in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

step('pack', 'npm', ['pack', '--pack-destination', scratch], root);
const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'embed-check', version: '1.0.0', type: 'module', private: true }, null, 2));
step('install', 'npm', ['install', '--no-audit', '--no-fund', join(scratch, tarball)], scratch);
step('build the addon in place', 'npx', ['torchfit', 'build'], scratch);
writeFileSync(join(scratch, 'train.mjs'), `
import { trainModel, info, liveTensors } from 'torchfit';
const n = 256;
const x = { dtype: 'float32', shape: [n, 28, 28], data: Float32Array.from({ length: n * 784 }, (_, i) => ((i * 2654435761) % 1000) / 1000) };
const y = Int32Array.from({ length: n }, (_, i) => i % 5);
const { model, history } = await trainModel({ model: { kind: 'resnet', depth: 2 }, train: { x, y }, epochs: 1, threads: 1 });
console.log('libtorch', info().libtorchVersion, 'loss', history.loss[0].toFixed(4), 'params', model.summary().totalParams);
model.dispose();
if (liveTensors() !== 0) throw new Error('leaked tensors');
`);
step('import and train', process.execPath, ['train.mjs'], scratch);
console.log(`\ncheck-embed: torchfit installs, builds and trains as a dependency (${scratch})`);
