// validationSplit: Keras's split index, the last rows as validation data, its option errors.
import test from 'ava';
import { spawnSync } from 'node:child_process';

import { needs, python } from './support/conditional.js';
import { PYTHON } from './support/python.js';

import { InvalidOptionError, Tensor, takeRows, trainModel } from '../dist/index.js';
import { validationSplitIndex } from '../dist/torch/sample-weights.js';
import { realImages, withoutTimings } from './support/data.js';

const rows = (data, begin, end) => ({
  x: takeRows(data.x, Int32Array.from({ length: end - begin }, (_, i) => begin + i)),
  y: data.y.slice(begin, end),
});

test('the split index is Keras\'s floor(n * (1 - fraction)), float64 rounding included', (t) => {
  // Computed with Python: int(math.floor(n * (1.0 - v))), as Keras 2.15's train_validation_split does.
  // 25 * (1 - 0.56) is 10.999999999999998 in float64: 10 rows train, not 11.
  const table = [[1000, 0.1, 900], [10, 0.3, 7], [7, 0.5, 3], [100, 0.57, 43], [25, 0.56, 10], [25, 0.68, 7], [60000, 0.1, 54000], [20, 0.8, 3]];
  for (const [n, v, at] of table) t.is(validationSplitIndex(n, v), at, `${n}, ${v}`);
});

needs(python('json'))('the split index equals Python\'s on a grid of sizes and fractions', (t) => {
  const cases = [];
  for (let n = 3; n <= 120; n += 1) for (let k = 1; k < 100; k += 1) cases.push([n, k / 100]);
  const script = 'import math, json, sys\nprint(json.dumps([int(math.floor(n * (1.0 - v))) for n, v in json.load(sys.stdin)]))';
  const out = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' });
  const expected = JSON.parse(out.stdout);
  let compared = 0;
  cases.forEach(([n, v], i) => {
    if (expected[i] < 2 || expected[i] === n) return;  // refused (see the refusals below)
    t.is(validationSplitIndex(n, v), expected[i], `${n}, ${v}`);
    compared++;
  });
  t.true(compared > 5000, `${compared} cases`);
});

test('validationSplit trains exactly as the first rows with the last rows as validation data, arrays and Tensors alike', async (t) => {
  const data = await realImages(320);
  const common = { model: { kind: 'resnet', depth: 2 }, epochs: 2, batchSize: 64, threads: 2, seed: 3 };
  const at = Math.floor(320 * (1 - 0.25));  // 240
  const split = await trainModel({ ...common, train: data, validationSplit: 0.25 });
  const explicit = await trainModel({ ...common, train: rows(data, 0, at), validation: rows(data, at, 320) });
  t.deepEqual(withoutTimings(split.history), withoutTimings(explicit.history));
  t.true(Number.isFinite(split.history.valLoss[1]));
  t.is(split.model.metadata.options.validationSplit, 0.25);
  const x = Tensor.from(data.x.data, data.x.shape);
  const y = Tensor.from(data.y, [320]);
  const tensors = await trainModel({ ...common, train: { x, y }, numClasses: 5, validationSplit: 0.25 });
  t.deepEqual(withoutTimings(tensors.history), withoutTimings(split.history));
  for (const r of [split, explicit, tensors]) r.model.dispose();
  x.dispose();
  y.dispose();
});

test('the CNN\'s EarlyStopping default (val_loss) is on with a validationSplit, as with validation data', async (t) => {
  const data = await realImages(40);
  const r = await trainModel({ model: 'cnn', train: data, validationSplit: 0.5, epochs: 1, batchSize: 20, threads: 2 });
  const stopping = r.model.metadata.options.callbacks.filter((c) => c.type === 'earlyStopping');
  t.is(stopping.length, 1);
  t.is(stopping[0].monitor, 'val_loss');
  t.true(Number.isFinite(r.history.valAccuracy[0]));
  r.model.dispose();
});

const images = (n) => ({ dtype: 'float32', shape: [n, 28, 28], data: new Float32Array(n * 784) });
const labels = (n) => Int32Array.from({ length: n }, (_, i) => i % 5);
const range = 'expected a number between 0 and 1 (exclusive): the fraction of the training data to validate on';
const refusals = [
  ['with validation data', { validation: { x: images(4), y: labels(4) }, validationSplit: 0.2 },
    'Invalid option validationSplit: expected no validationSplit when validation data is given (pass one or the other), received 0.2'],
  ['of 1', { validationSplit: 1 }, `Invalid option validationSplit: ${range}, received 1`],
  ['below 0', { validationSplit: -0.1 }, `Invalid option validationSplit: ${range}, received -0.1`],
  ['as text', { validationSplit: '0.2' }, `Invalid option validationSplit: ${range}, received "0.2"`],
  // 1 - 1e-17 is 1 in float64: every row would train.
  ['leaving no validation image', { validationSplit: 1e-17 },
    'Invalid option validationSplit: expected a fraction that leaves at least 2 training images and 1 validation image of the 10 given, received 1e-17 (floor(10 * (1 - 1e-17)) = 10 training images)'],
  ['leaving one training image', { validationSplit: 0.85 },
    'Invalid option validationSplit: expected a fraction that leaves at least 2 training images and 1 validation image of the 10 given, received 0.85 (floor(10 * (1 - 0.85)) = 1 training images)'],
];
for (const [name, override, message] of refusals) {
  test(`validationSplit ${name} is refused`, async (t) => {
    const error = await t.throwsAsync(trainModel({ model: 'cnn', train: { x: images(10), y: labels(10) }, epochs: 1, batchSize: 4, ...override }),
      { instanceOf: InvalidOptionError });
    t.is(error.option, 'validationSplit');
    t.is(error.message, message);
  });
}
