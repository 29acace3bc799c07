// One rule for ResNet v1 depths (src/models/presets.ts), worded by each caller in its own error.
import test from 'ava';
import { spawnSync } from 'node:child_process';

import { CheckpointError, describeModel, InvalidOptionError } from '../dist/index.js';
import { isResNetDepth, resnetBlocks, checkResNetDepth } from '../dist/models/presets.js';
import { checkArchitecture } from '../dist/torch/checkpoint-spec.js';

const EXPECTED = 'a ResNet v1 depth 6n+2 (2, 8, 14, 20, 32, 44, ...)';

test('isResNetDepth: 6n+2 from 2 to 1000, integers only', (t) => {
  t.deepEqual([2, 8, 14, 20, 32, 44, 110, 998].map(isResNetDepth), Array(8).fill(true));
  t.deepEqual([0, 1, 3, 5, 6, 7, 21, 1004, -4, 2.5, '8', NaN, undefined].map(isResNetDepth), Array(13).fill(false));
  t.deepEqual([2, 8, 20, 44].map(resnetBlocks), [0, 1, 3, 7]);
});

test('options, describeModel, checkpoints and the CLI refuse depth 5 with the same expectation', (t) => {
  t.is(t.throws(() => checkResNetDepth(5), { instanceOf: InvalidOptionError }).message, `Invalid option model.depth: expected ${EXPECTED}, received 5`);
  t.is(t.throws(() => describeModel({ kind: 'resnet', depth: 1004 }), { instanceOf: InvalidOptionError }).message,
    `Invalid option model.depth: expected ${EXPECTED}, received 1004`);
  const spec = { kind: 'resnet', depth: 5, numClasses: 5, channels: 1, height: 28, width: 28 };
  t.is(t.throws(() => checkArchitecture(spec, new Map(), 'x.pt'), { instanceOf: CheckpointError }).message,
    `x.pt: field 'model.depth' is 5, expected ${EXPECTED}`);
  const cli = spawnSync(process.execPath, ['dist/cli.js', 'train', '--depth', '1004'], { encoding: 'utf8' });
  t.is(cli.status, 2);
  // The CLI passes --depth to the library, which words the error and names the flag.
  t.true(cli.stderr.includes(`Invalid option model.depth: expected ${EXPECTED}, received 1004 (--depth)`), cli.stderr);
});

test('describeModel takes every form trainModel takes: the presets by name, by kind, and ResNet with or without a depth', (t) => {
  const cnn = describeModel('cnn').totalParams;
  t.is(cnn, 33989);
  t.is(describeModel({ kind: 'cnn' }).totalParams, cnn);
  const resnet2 = describeModel('resnet');
  t.is(resnet2.kind, 'resnet');
  t.is(resnet2.depth, 2);
  t.is(describeModel({ kind: 'resnet' }).totalParams, resnet2.totalParams);
  const resnet8 = describeModel({ kind: 'resnet', depth: 8 });
  t.is(resnet8.depth, 8);
  t.true(resnet8.totalParams > resnet2.totalParams);
});
