#!/usr/bin/env node
// Checks that torchfit works as a dependency, as a user gets it: npm pack (prepack puts the
// prebuilt addon in prebuilds/), npm install of the tarball into a scratch project, then import
// it and train a few steps. Asserts that nothing was compiled (no build/ in the installed
// package, info().addon.kind === 'prebuilt'). Prints the install's wall time, the size of
// node_modules, the package count and the import time of the package entry.
//   --omit-optional   also install with --omit=optional (no report renderers) and check that
//                     training works and a figure fails with MissingDependencyError
//   --keep            leave the scratch projects in place
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const base = mkdtempSync(join(tmpdir(), 'torchfit-embed-'));

function step(title, command, args, cwd, env = {}) {
  console.log(`\n== ${title}: ${command} ${args.join(' ')}  (in ${cwd})`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: { ...process.env, ...env } });
  process.stdout.write(result.stdout ?? '');
  const seconds = (Date.now() - started) / 1000;
  if (result.status !== 0) {
    console.error(`check-embed: '${title}' failed (exit ${result.status})`);
    process.exit(1);
  }
  console.log(`== ${title}: ok in ${seconds.toFixed(1)} s`);
  return { seconds, stdout: result.stdout ?? '' };
}

function check(condition, message) {
  if (!condition) {
    console.error(`check-embed: ${message}`);
    process.exit(1);
  }
}

/** Size of a folder in MB as du counts it (blocks on disk), and its package count. */
function footprint(nodeModules) {
  const kb = Number(spawnSync('du', ['-sk', nodeModules], { encoding: 'utf8' }).stdout.split('\t')[0]);
  const list = spawnSync('npm', ['ls', '--all', '--parseable', '--omit=dev'], { cwd: dirname(nodeModules), encoding: 'utf8' }).stdout;
  return { mb: kb / 1024, packages: list.trim().split('\n').filter((l) => l.includes('node_modules')).length };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Milliseconds to import the entry, median of 7 fresh processes, minus an empty process. */
function importMs(cwd) {
  const time = (code) => {
    const runs = [];
    for (let i = 0; i < 7; i++) {
      const started = process.hrtime.bigint();
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd });
      if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
      runs.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return median(runs);
  };
  const empty = time('');
  return { entry: time("await import('torchfit');") - empty, report: time("await import('vega'); await import('vega-lite'); await import('@resvg/resvg-js'); await import('@viz-js/viz');") - empty };
}

const TRAIN = `
import { trainModel, info, liveTensors, renderTrainingCurves } from 'torchfit';
const n = 256;
const x = { dtype: 'float32', shape: [n, 28, 28], data: Float32Array.from({ length: n * 784 }, (_, i) => ((i * 2654435761) % 1000) / 1000) };
const y = Int32Array.from({ length: n }, (_, i) => i % 5);
const { model, history } = await trainModel({ model: { kind: 'resnet', depth: 2 }, train: { x, y }, epochs: 1, threads: 1 });
const i = info();
console.log(JSON.stringify({ libtorch: i.libtorchVersion, addon: i.addon, loss: history.loss[0], params: model.summary().totalParams }));
model.dispose();
if (liveTensors() !== 0) throw new Error('leaked tensors');
if (process.argv[2] === 'no-report') {
  const error = await renderTrainingCurves([{ name: 'run', history }]).then(() => null, (e) => e);
  console.log(JSON.stringify({ reportError: error?.code ?? null }));
}
`;

function scratchProject(name) {
  const dir = join(base, name);
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `embed-${name}`, version: '1.0.0', type: 'module', private: true }, null, 2));
  writeFileSync(join(dir, 'train.mjs'), TRAIN);
  return dir;
}

function installAndCheck(name, tarball, extraArgs) {
  const dir = scratchProject(name);
  const install = step(`install (${name})`, 'npm', ['install', '--no-audit', '--no-fund', ...extraArgs, tarball], dir);
  const added = /added (\d+) packages?/.exec(install.stdout)?.[1];
  const installed = join(dir, 'node_modules', 'torchfit');
  check(existsSync(join(installed, 'prebuilds')), 'the installed package has no prebuilds/ folder');
  check(!existsSync(join(installed, 'build')), `the install compiled the addon (${join(installed, 'build')} exists)`);
  const run = step(`import and train (${name})`, process.execPath, ['train.mjs', ...(extraArgs.includes('--omit=optional') ? ['no-report'] : [])], dir);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  check(lines[0].addon.kind === 'prebuilt', `loaded the ${lines[0].addon.kind} addon (${lines[0].addon.path}), not the prebuilt one`);
  if (lines[1]) check(lines[1].reportError === 'ERR_MISSING_DEPENDENCY', `a figure without the report packages gave ${lines[1].reportError}`);
  return { name, installSeconds: install.seconds, added: Number(added), ...footprint(join(dir, 'node_modules')), dir };
}

const load = loadavg().map((v) => v.toFixed(2)).join(' ');
const pack = step('pack', 'npm', ['pack', '--pack-destination', base], root);
const tarball = join(base, readdirSync(base).find((f) => f.endsWith('.tgz')));
const tarballKb = Number(spawnSync('du', ['-k', '--apparent-size', tarball], { encoding: 'utf8' }).stdout.split('\t')[0]);

const results = [installAndCheck('full', tarball, [])];
const timing = importMs(results[0].dir);
if (process.argv.includes('--omit-optional')) results.push(installAndCheck('omit-optional', tarball, ['--omit=optional']));

console.log(`\ncheck-embed: torchfit installs and trains as a dependency without compiling (load average before: ${load}; after: ${loadavg().map((v) => v.toFixed(2)).join(' ')})`);
console.log(`  tarball ${(tarballKb / 1024).toFixed(2)} MB (pack ${pack.seconds.toFixed(1)} s)`);
for (const r of results) {
  console.log(`  npm install ${r.name}: ${r.installSeconds.toFixed(1)} s, ${r.added} packages added, node_modules ${r.mb.toFixed(1)} MB (${r.packages} packages by npm ls)`);
}
console.log(`  import('torchfit'): ${timing.entry.toFixed(0)} ms; importing the report renderers (vega, vega-lite, resvg, viz): ${timing.report.toFixed(0)} ms (medians of 7, minus an empty node)`);
if (process.argv.includes('--keep')) console.log(`  scratch projects kept in ${base}`);
else rmSync(base, { recursive: true, force: true });
