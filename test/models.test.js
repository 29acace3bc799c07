import test from 'ava';

import { describeModel, InvalidOptionError, trainModel } from '../dist/index.js';
import { native } from '../dist/torch/native.js';

const spec = (kind, depth = 0) => ({ kind, depth, numClasses: 5, channels: 1, height: 28, width: 28 });

// Parameter counts worked out by hand from the architecture (docs/parity.md), not from our tables.
function expectedResNetParams(depth, classes = 5) {
  const n = (depth - 2) / 6;
  const conv = (cin, cout, k) => cout * cin * k * k + cout;
  const bn = (c) => 4 * c;
  let total = bn(1) + conv(1, 16, 3);
  let channels = 16;
  let size = 28;
  for (const [stack, filters] of [[0, 16], [1, 32], [2, 64]]) {
    for (let b = 0; b < n; b++) {
      const stride = stack > 0 && b === 0 ? 2 : 1;
      total += bn(channels) + conv(channels, filters, 3) + bn(filters) + conv(filters, filters, 3);
      if (stride === 2) total += conv(channels, filters, 1);
      if (stride === 2) size = Math.ceil(size / 2);
      channels = filters;
    }
  }
  return total + (size * size * channels) * classes + classes;
}

test('the CNN has Keras\'s 33,989 parameters and shapes', (t) => {
  const { summary } = describeModel({ kind: 'cnn' });
  t.is(summary.totalParams, 33989);
  t.is(summary.trainableParams, 30405);
  t.is(summary.nonTrainableParams, 3584);
  t.deepEqual(summary.layers.map((l) => [l.type, l.outputShape.join('x')]), [
    ['InputLayer', '28x28x1'], ['Conv2D', '26x26x32'], ['BatchNormalization', '26x26x32'], ['MaxPooling2D', '13x13x32'],
    ['BatchNormalization', '13x13x32'], ['Conv2D', '11x11x64'], ['BatchNormalization', '11x11x64'], ['MaxPooling2D', '5x5x64'],
    ['BatchNormalization', '5x5x64'], ['Flatten', '1600'], ['BatchNormalization', '1600'], ['Dense', '5'],
  ]);
  const real = native().describeModel(spec('cnn'));
  t.is(real.trainableParams + real.nonTrainableParams, 33989, 'the libtorch module itself holds that many values');
  t.deepEqual(real.outputShape, [2, 5]);
});

for (const depth of [2, 8, 20]) {
  test(`ResNet v1 depth ${depth}: parameter count and output shape`, (t) => {
    const expected = expectedResNetParams(depth);
    if (depth === 2) t.is(expected, 62889);
    const { summary } = describeModel({ kind: 'resnet', depth });
    t.is(summary.totalParams, expected);
    const real = native().describeModel(spec('resnet', depth));
    t.is(real.trainableParams + real.nonTrainableParams, expected);
    t.deepEqual(real.outputShape, [2, 5]);
    t.is(summary.layers.filter((l) => l.type === 'Add').length, 3 * ((depth - 2) / 6));
  });
}

test('ResNet depth 2 is BN -> ReLU -> Conv(16) -> Flatten(12,544) -> Dense(5)', (t) => {
  const { summary } = describeModel({ kind: 'resnet', depth: 2 });
  t.deepEqual(summary.layers.map((l) => `${l.type}:${l.outputShape.join('x')}`), [
    'InputLayer:28x28x1', 'BatchNormalization:28x28x1', 'Activation:28x28x1', 'Conv2D:28x28x16', 'Flatten:12544', 'Dense:5',
  ]);
});

test('a depth that is not 6n+2 is rejected with a typed error', (t) => {
  const error = t.throws(() => describeModel({ kind: 'resnet', depth: 5 }), { instanceOf: InvalidOptionError });
  t.is(error.code, 'ERR_INVALID_OPTION');
  t.is(error.message, 'Invalid option model.depth: expected a ResNet v1 depth 6n+2 (2, 8, 14, 20, 32, 44, ...), received 5');
});

test('trainModel rejects depth 5 before touching the data', async (t) => {
  const error = await t.throwsAsync(trainModel({ model: { kind: 'resnet', depth: 5 }, train: { x: null, y: null } }), { instanceOf: InvalidOptionError });
  t.is(error.option, 'model.depth');
});

test('the native core asserts the depth it trusts: a bad one reaching it is an internal error, not a user error', (t) => {
  const error = t.throws(() => native().describeModel(spec('resnet', 5)));
  t.is(error.code, 'ERR_INTERNAL');
  t.is(error.message, 'internal error (TypeScript should have refused this): ResNet depth 5 is not 6n+2');
});

test('the binding converts each validated name to the core\'s enum once: an unknown one is an internal error', (t) => {
  const error = t.throws(() => native().describeModel(spec('mlp')));
  t.is(error.code, 'ERR_INTERNAL');
  t.is(error.message, "internal error (TypeScript should have refused this): unknown model kind 'mlp'");
});
