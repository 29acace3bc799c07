import test from 'ava';

import { InvalidOptionError, trainModel } from '../dist/index.js';

const images = (n, h = 28, w = 28) => ({ dtype: 'float32', shape: [n, h, w], data: new Float32Array(n * h * w) });
const labels = (n, c = 5) => Int32Array.from({ length: n }, (_, i) => i % c);
const base = () => ({ model: 'cnn', train: { x: images(8), y: labels(8) }, epochs: 1, batchSize: 4 });

const cases = [
  ['unknown model', { model: 'mlp' }, 'model', "Invalid option model: expected 'cnn', 'resnet', { kind: 'resnet', depth } or { layers: [...] }, received \"mlp\""],
  ['epochs 0', { epochs: 0 }, 'epochs', 'Invalid option epochs: expected an integer >= 1, received 0'],
  ['batch size 0', { batchSize: 0 }, 'batchSize', 'Invalid option batchSize: expected an integer >= 1, received 0'],
  ['unknown optimizer', { optimizer: 'rmsprop' }, 'optimizer', "Invalid option optimizer: expected 'sgd', 'adam' or { name: 'sgd' | 'adam', learningRate?, ... }, received \"rmsprop\""],
  ['negative learning rate', { optimizer: { name: 'sgd', learningRate: -1 } }, 'optimizer.learningRate', 'Invalid option optimizer.learningRate: expected a positive number, received -1'],
  ['device typo', { device: 'gpu' }, 'device', "Invalid option device: expected 'auto', 'cpu', 'cuda' or 'cuda:N', received \"gpu\""],
  ['threads 0', { threads: 0 }, 'threads', 'Invalid option threads: expected an integer >= 1, received 0'],
  ['verbose 3', { verbose: 3 }, 'verbose', 'Invalid option verbose: expected 0, 1 or 2, received 3'],
  ['unknown option', { epoch: 3 }, 'epoch', "Invalid option epoch: expected one of the known options (model, train, validation, numClasses, epochs, batchSize, evalBatchSize, optimizer, lrSchedule, earlyStopping, seed, shuffle, device, threads, signal, onEpochEnd, onBatchEnd, batchProgressIntervalMs, verbose, resume, distributed, kernels, dataFormat, augment, callbacks, initialEpoch, timeLimitMs, validationSplit, classWeight, sampleWeight, batchNormMomentum, onWarning), received unknown option 'epoch'"],
  ['unknown kernels', { kernels: 'fast' }, 'kernels', "Invalid option kernels: expected 'fused' or 'plain', received \"fast\""],
  ['val monitor without validation', { earlyStopping: true }, 'earlyStopping.monitor', "Invalid option earlyStopping.monitor: expected 'loss' or 'accuracy' (there is no validation data), received \"val_loss\""],
  ['bad patience', { earlyStopping: { monitor: 'loss', patience: -1 } }, 'earlyStopping.patience', 'Invalid option earlyStopping.patience: expected an integer >= 0, received -1'],
  ['x/y length mismatch', { train: { x: images(8), y: labels(7) } }, 'train.y', 'Invalid option train.y: expected 8 labels (one per image), received 7 labels'],
  ['wrong image shape', { train: { x: { dtype: 'float32', shape: [8, 784], data: new Float32Array(8 * 784) }, y: labels(8) } }, 'train.x.shape', 'Invalid option train.x.shape: expected (N, H, W), (N, H, W, C) or (N, C, H, W) images, received [8, 784]'],
  ['data shorter than the shape', { train: { x: { dtype: 'float32', shape: [8, 28, 28], data: new Float32Array(10) }, y: labels(8) } }, 'train.x.data', 'Invalid option train.x.data: expected 6272 values for shape [8, 28, 28], received 10 values'],
  ['labels out of range', { numClasses: 5, train: { x: images(8), y: Int32Array.from([0, 1, 2, 3, 4, 5, 0, 1]) } }, 'train.y[5]', 'Invalid option train.y[5]: expected a class index 0..4, received 5'],
  ['labels 1..5 not shifted', { numClasses: 5, train: { x: images(8), y: [1, 2, 3, 4, 5, 1, 2, 3] } }, 'train.y[4]', 'Invalid option train.y[4]: expected a class index 0..4 (these labels look 1-based: shift them with labelsToZeroBased), received 5'],
  ['non-integral labels', { train: { x: images(8), y: [0, 1, 2.5, 3, 4, 0, 1, 2] } }, 'train.y[2]', 'Invalid option train.y[2]: expected an integral class index 0..C-1 (shift labels 1..C with labelsToZeroBased), received 2.5'],
  ['validation of another size', { validation: { x: images(4, 32, 32), y: labels(4) } }, 'validation.x.shape', 'Invalid option validation.x.shape: expected images of the training size and channels (28x28, 1 channel(s)), received 32x32, 1 channel(s)'],
  ['CUDA on a CPU-only build', { device: 'cuda' }, 'device', "Invalid option device: expected 'cpu' or 'auto' (this libtorch was built without CUDA), received \"cuda:0\""],
];

for (const [name, override, option, message] of cases) {
  test(`rejects ${name}`, async (t) => {
    const error = await t.throwsAsync(trainModel({ ...base(), ...override }), { instanceOf: InvalidOptionError });
    t.is(error.code, 'ERR_INVALID_OPTION');
    t.is(error.option, option);
    t.is(error.message, message);
  });
}

test('NaN pixels are refused with their position', async (t) => {
  const x = images(8);
  x.data[784 * 3 + 10] = Number.NaN;
  const error = await t.throwsAsync(trainModel({ ...base(), train: { x, y: labels(8) } }), { instanceOf: InvalidOptionError });
  t.is(error.message, 'Invalid option train.x: expected finite pixel values, received NaN at flat index 2362 (image 3)');
});

test('Infinity in validation images is refused', async (t) => {
  const v = images(4);
  v.data[0] = Number.POSITIVE_INFINITY;
  const error = await t.throwsAsync(trainModel({ ...base(), validation: { x: v, y: labels(4) } }), { instanceOf: InvalidOptionError });
  t.is(error.option, 'validation.x');
});
