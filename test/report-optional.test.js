// The report's figure renderers are optional dependencies, imported on the first figure only:
// importing torchfit loads none of them, and without them the figures fail with
// MissingDependencyError naming the npm command, while training and metrics still work.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { REPORT_PACKAGES, reportInstallCommand } from '../dist/report/optional.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const hooks = join(root, 'test', 'support', 'package-hooks-register.mjs');
const REPORT = Object.keys(REPORT_PACKAGES);

/** Runs `body` (an async module body with `m` = torchfit's entry) in a child with the hooks; returns its JSON output. */
function child(t, body, env = {}) {
  const script = `const m = await import(${JSON.stringify(join(root, 'dist', 'index.js'))});\n${body}`;
  const result = spawnSync(process.execPath, ['--import', hooks, '--input-type=module', '-e', script], {
    cwd: root, encoding: 'utf8', env: { ...process.env, ...env },
  });
  t.is(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

test('REPORT_PACKAGES is package.json\'s optionalDependencies, and the command installs them at those versions', (t) => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  t.deepEqual({ ...REPORT_PACKAGES }, pkg.optionalDependencies);
  for (const name of REPORT) t.false(name in pkg.dependencies, `${name} is not also a dependency`);
  t.is(reportInstallCommand(), 'npm install @resvg/resvg-js@2.6.2 @viz-js/viz@3.31.0 pngjs@7.0.0 vega@6.4.0 vega-lite@6.4.1');
});

test('importing torchfit resolves no report package (nor sharp) until a figure is drawn', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'torchfit-packages-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'resolved.txt');
  const read = () => new Set((existsSync(log) ? readFileSync(log, 'utf8') : '').split('\n').filter(Boolean));
  child(t, "await m.describeModel('cnn'); console.log('{}');", { TORCHFIT_PACKAGE_LOG: log });
  const atImport = read();
  for (const name of [...REPORT, 'sharp']) t.false(atImport.has(name), `${name} resolved at import`);
  child(t, "await m.renderTrainingCurves([{ name: 'a', history: { epoch: [1], loss: [1], accuracy: [0.5], valLoss: [1], valAccuracy: [0.5] } }]); console.log('{}');", { TORCHFIT_PACKAGE_LOG: log });
  const afterFigure = read();
  for (const name of ['vega', 'vega-lite', '@resvg/resvg-js']) t.true(afterFigure.has(name), `${name} resolved for a figure`);
});

test('without the report packages the figures fail with MissingDependencyError and the npm command; training still works', (t) => {
  const out = child(t, `
    const history = { epoch: [1, 2], loss: [1, 0.5], accuracy: [0.5, 0.7], valLoss: [1.1, 0.6], valAccuracy: [0.4, 0.6] };
    const grab = (p) => p.then(() => null, (e) => ({ name: e.name, code: e.code, message: e.message, packages: e.packages, instance: e instanceof m.MissingDependencyError && e instanceof m.TorchfitError }));
    const summary = m.describeModel('cnn').summary;
    const images = { dtype: 'float32', shape: [2, 28, 28], data: new Float32Array(2 * 784) };
    const { model } = await m.trainModel({ model: 'cnn', train: { x: images, y: [0, 1] }, epochs: 1, batchSize: 2 });
    model.dispose();
    console.log(JSON.stringify({
      curves: await grab(m.renderTrainingCurves([{ name: 'a', history }])),
      confusion: await grab(m.renderConfusionMatrix([[1, 0], [0, 1]])),
      diagram: await grab(m.renderModelDiagram(summary)),
      grid: await grab(m.renderImageGrid(images)),
      accuracy: m.accuracyScore([0, 1], [0, 0]),
      summaryText: m.formatSummary(summary).includes('Total params: 33,989'),
    }));`, { TORCHFIT_HIDE_PACKAGES: REPORT.join(',') });
  const command = 'Install them with: npm install @resvg/resvg-js@2.6.2 @viz-js/viz@3.31.0 pngjs@7.0.0 vega@6.4.0 vega-lite@6.4.1';
  for (const [figure, missing] of [['curves', 'vega-lite'], ['confusion', 'vega-lite'], ['diagram', '@viz-js/viz'], ['grid', 'pngjs']]) {
    const error = out[figure];
    t.truthy(error, `${figure} should fail`);
    t.is(error.name, 'MissingDependencyError', figure);
    t.is(error.code, 'ERR_MISSING_DEPENDENCY', figure);
    t.true(error.instance, figure);
    t.deepEqual(error.packages, REPORT, figure);
    t.true(error.message.includes(`needs the optional package '${missing}', which is not installed`), `${figure}: ${error.message}`);
    t.true(error.message.endsWith(command), `${figure}: ${error.message}`);
  }
  t.is(out.accuracy, 0.5);
  t.true(out.summaryText);
});

test('writeReport without the report packages fails with the same error and writes nothing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'torchfit-report-missing-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = child(t, `
    const { fakeReportInput } = await import(${JSON.stringify(join(root, 'test', 'fixtures', 'report', 'fake-input.js'))});
    const { readdirSync } = await import('node:fs');
    const error = await m.writeReport(fakeReportInput(), ${JSON.stringify(join(dir, 'out'))}).then(() => null, (e) => e);
    console.log(JSON.stringify({ code: error?.code, message: error?.message, written: readdirSync(${JSON.stringify(dir)}) }));`,
  { TORCHFIT_HIDE_PACKAGES: REPORT.join(',') });
  t.is(out.code, 'ERR_MISSING_DEPENDENCY');
  t.regex(out.message, /needs the optional package '[^']+', which is not installed/);
  t.deepEqual(out.written, []);
});

test('without sharp (an install with --omit=optional drops its binaries) loadImageFolder says how to get it back', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'torchfit-no-sharp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'cats'));
  writeFileSync(join(dir, 'cats', 'a.png'), 'not decoded: the decoder is missing');
  const out = child(t, `
    const error = await m.loadImageFolder(${JSON.stringify(dir)}, { size: [8, 8] }).then(() => null, (e) => e);
    console.log(JSON.stringify({ name: error?.name, code: error?.code, message: error?.message }));`, { TORCHFIT_HIDE_PACKAGES: 'sharp' });
  t.is(out.name, 'ImageFolderError');
  t.is(out.code, 'ERR_IMAGE_FOLDER');
  t.true(out.message.startsWith("sharp: the image decoder could not load (Cannot find package 'sharp' imported from "), out.message);
  t.true(out.message.endsWith('run: npm install --include=optional sharp'), out.message);
});
