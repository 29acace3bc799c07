// The train command: values checked by the library (before any data is read), --help,
// --quick's settings and what its report says.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { info } from '../dist/index.js';
import { testIf } from './support/conditional.js';
import { root } from './support/data.js';

const cli = (...args) => spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), ...args], { encoding: 'utf8', cwd: root });
const dir = mkdtempSync(join(tmpdir(), 'torchfit-cli-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('a negative value gets the library\'s range message, naming the flag, before any data is read', (t) => {
  for (const [args, message] of [
    [['--epochs', '-1'], 'torchfit: Invalid option epochs: expected an integer >= 1, received -1 (--epochs) [ERR_INVALID_OPTION]'],
    [['--lr', '-0.5'], 'torchfit: Invalid option optimizer.learningRate: expected a positive number, received -0.5 (--lr) [ERR_INVALID_OPTION]'],
    [['--batch-norm-momentum', '1'], "torchfit: Invalid option batchNormMomentum: expected a number in [0, 1) (Keras's BatchNormalization momentum; default 0.99), received 1 (--batch-norm-momentum) [ERR_INVALID_OPTION]"],
  ]) {
    const r = cli('train', '--data', join(dir, 'missing.npy'), ...args);
    t.is(r.status, 2, args.join(' '));
    t.is(r.stderr.trim(), message);
    t.is(r.stdout, '', 'nothing loaded');
  }
});

test('train --help prints the usage', (t) => {
  for (const args of [['train', '--help'], ['train', '-h'], ['summary', '--help'], ['dataset', '--help'], ['report', '--help']]) {
    const r = cli(...args);
    t.is(r.status, 0, args.join(' '));
    t.true(r.stdout.includes('--batch-norm-momentum'), args.join(' '));
    t.true(r.stdout.includes('--quick'));
  }
});

testIf(!info().cudaCompiled, 'this libtorch has CUDA')('--device cuda on a build without CUDA fails before loading data', (t) => {
  const r = cli('train', '--device', 'cuda', '--data', join(dir, 'missing.npy'));
  t.is(r.status, 2);
  t.is(r.stderr.trim(), "torchfit: Invalid option device: expected 'cpu' or 'auto' (this libtorch was built without CUDA), received \"cuda:0\" (--device) [ERR_INVALID_OPTION]");
});

test('--quick says what it chose and gives a CNN that validates well; the report calls it a subset', (t) => {
  const out = join(dir, 'quick');
  const r = cli('train', '--quick', '--model', 'cnn', '--threads', '2', '--verbose', '0', '--out', out);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.split('\n')[0], "--quick: a first look on 4,000 training images, 2 epochs; the CNN with batchNormMomentum 0.9 instead of Keras's 0.99, " +
    'whose moving statistics need about 1,000 steps to settle (this run has 64). The report labels it a subset run.');
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).input;
  const run = results.runs[0];
  t.is(run.options.batchNormMomentum, 0.9);
  t.is(run.subset, '4,000 of 54,000 training images, 2 of 25 epochs');
  t.is(run.warnings, undefined);
  t.log(`--quick CNN: validation accuracy ${(run.final.val.accuracy * 100).toFixed(1)} %, training ${(run.final.train.accuracy * 100).toFixed(1)} %`);
  t.true(run.final.val.accuracy > 0.75, `validation accuracy ${run.final.val.accuracy}`);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  t.true(html.includes('this run: a subset<br><span class="delta same">4,000 of 54,000 training images, 2 of 25 epochs</span>'));
  t.false(/delta (up|down)/.test(html), 'not scored against the notebook');
});

test('--quick with Keras\'s momentum: the lag warning on stderr, in results.json and beside the curves', (t) => {
  const out = join(dir, 'quick-keras');
  const r = cli('train', '--quick', '--model', 'cnn', '--batch-norm-momentum', '0.99', '--threads', '2', '--verbose', '2', '--out', out);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /^torchfit warning \[WARN_BATCH_NORM_LAG\]: Validation accuracy \d+\.\d % is far below training accuracy \d+\.\d % after only 64 optimizer steps\./m);
  const run = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).input.runs[0];
  t.deepEqual(run.warnings.map((w) => w.code), ['WARN_BATCH_NORM_LAG']);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  t.true(html.includes('<p class="warning" data-code="WARN_BATCH_NORM_LAG"><strong>Note:</strong> Validation accuracy'));
});
