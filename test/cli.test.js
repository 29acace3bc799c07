import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { root } from './support/data.js';

const cli = (...args) => spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), ...args], { encoding: 'utf8', cwd: root });

test('--help documents the train options', (t) => {
  const r = cli('--help');
  t.is(r.status, 0);
  for (const option of ['--data', '--model', '--depth', '--epochs', '--batch-size', '--optimizer', '--lr', '--patience', '--seed', '--device', '--threads', '--kernels', '--out', '--quick']) {
    t.true(r.stdout.includes(option), option);
  }
});

test('bad values exit with code 2 and a clear message', (t) => {
  const cases = [
    [['train', '--model', 'mlp'], "torchfit: --model expects cnn, resnet or both, got 'mlp'"],
    [['train', '--depth', '5'], 'torchfit: Invalid option model.depth: expected a ResNet v1 depth 6n+2 (2, 8, 14, 20, 32, 44, ...), received 5 (--depth) [ERR_INVALID_OPTION]'],
    [['train', '--epochs', 'ten'], 'torchfit: Invalid option epochs: expected an integer >= 1, received "ten" (--epochs) [ERR_INVALID_OPTION]'],
    [['train', '--device', 'gpu'], 'torchfit: Invalid option device: expected \'auto\', \'cpu\', \'cuda\' or \'cuda:N\', received "gpu" (--device) [ERR_INVALID_OPTION]'],
    [['train', '--kernels', 'fast'], 'torchfit: Invalid option kernels: expected \'fused\' or \'plain\', received "fast" (--kernels) [ERR_INVALID_OPTION]'],
    [['frobnicate'], "torchfit: unknown command 'frobnicate'"],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    t.is(r.status, 2, args.join(' '));
    t.is(r.stderr.split('\n')[0], message);
  }
  t.is(cli('train', '--bogus').status, 2);
});

test('info reports libtorch', (t) => {
  const r = cli('info');
  t.is(r.status, 0);
  const info = JSON.parse(r.stdout);
  t.regex(info.libtorchVersion, /^\d+\.\d+\.\d+$/);
  t.is(typeof info.cudaAvailable, 'boolean');
});

test('summary prints Keras\'s totals', (t) => {
  const r = cli('summary', '--model', 'cnn');
  t.is(r.status, 0);
  t.regex(r.stdout, /Total params: 33,989/);
  const resnet = cli('summary', '--model', 'resnet', '--depth', '2');
  t.regex(resnet.stdout, /Total params: 62,889/);
});
