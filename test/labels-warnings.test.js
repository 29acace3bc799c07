// Labels of any typed array, the warnings about 1-based labels and a batch larger than the
// data (exact texts, onWarning, verbose on stderr), and the smallest image size in errors.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { InvalidOptionError, trainModel } from '../dist/index.js';
import { realImages, root, withoutTimings } from './support/data.js';

const resnet = { kind: 'resnet', depth: 2 };

test('labels as any integer or float typed array (or a uint8 NdArray) train exactly as Int32Array labels', async (t) => {
  const data = await realImages(64, 2000);
  const run = async (y) => {
    const r = await trainModel({ model: resnet, train: { x: data.x, y }, epochs: 1, batchSize: 32, threads: 2, seed: 4 });
    r.model.dispose();
    return withoutTimings(r.history);
  };
  const reference = await run(data.y);
  const arrays = [Uint8Array, Uint8ClampedArray, Int8Array, Uint16Array, Int16Array, Uint32Array, Float32Array, Float64Array];
  for (const Type of arrays) t.deepEqual(await run(Type.from(data.y)), reference, Type.name);
  t.deepEqual(await run(BigInt64Array.from(data.y, BigInt)), reference, 'BigInt64Array');
  t.deepEqual(await run(BigUint64Array.from(data.y, BigInt)), reference, 'BigUint64Array');
  t.deepEqual(await run({ dtype: 'uint8', shape: [64], data: Uint8Array.from(data.y) }), reference, 'uint8 NdArray');
});

const images = (n, side = 28) => ({ dtype: 'float32', shape: [n, side, side], data: new Float32Array(n * side * side) });

test('a non-integral or negative label is refused naming its index', async (t) => {
  const y = Float64Array.from([0, 1, 2, 3.5, 4, 0, 1, 2]);
  const error = await t.throwsAsync(trainModel({ model: 'cnn', train: { x: images(8), y }, epochs: 1, batchSize: 4 }), { instanceOf: InvalidOptionError });
  t.is(error.option, 'train.y[3]');
  t.is(error.message, 'Invalid option train.y[3]: expected an integral class index 0..C-1 (shift labels 1..C with labelsToZeroBased), received 3.5');
  const negative = await t.throwsAsync(trainModel({ model: 'cnn', train: { x: images(8), y: Int8Array.from([0, 1, -1, 3, 4, 0, 1, 2]) }, epochs: 1, batchSize: 4 }));
  t.is(negative.option, 'train.y[2]');
});

const oneBasedText = 'train.y looks 1-based: no label is 0 and the labels run from 1 to 5, so the model gets 6 classes and class 0 is never seen. ' +
  'Shift the labels to 0..4 with labelsToZeroBased(y); if class 0 is meant to be empty, pass numClasses: 6 to say so.';

test('labels 1..5 without numClasses: a warning naming labelsToZeroBased, through onWarning and in the result', async (t) => {
  const data = await realImages(40, 3000);
  const oneBased = Int32Array.from(data.y, (v) => v + 1);
  const seen = [];
  const r = await trainModel({ model: resnet, train: { x: data.x, y: oneBased }, epochs: 1, batchSize: 20, threads: 2, onWarning: (w) => seen.push(w) });
  t.deepEqual(seen, [{ code: 'WARN_LABELS_ONE_BASED', message: oneBasedText }]);
  t.deepEqual(r.warnings, seen);
  t.is(r.model.config.numClasses, 6);
  r.model.dispose();
  // Said to be meant (numClasses 6), or 0-based: no warning.
  for (const extra of [{ y: oneBased, numClasses: 6 }, { y: data.y }]) {
    const quiet = await trainModel({ model: resnet, train: { x: data.x, y: extra.y }, numClasses: extra.numClasses, epochs: 1, batchSize: 20, threads: 2 });
    t.deepEqual(quiet.warnings, []);
    quiet.model.dispose();
  }
});

test('1-based labels with numClasses set to their largest label: the range error says they look 1-based', async (t) => {
  const y = Int32Array.from({ length: 8 }, (_, i) => (i % 5) + 1);
  const error = await t.throwsAsync(trainModel({ model: 'cnn', train: { x: images(8), y }, numClasses: 5, epochs: 1, batchSize: 4 }));
  t.is(error.message, 'Invalid option train.y[4]: expected a class index 0..4 (these labels look 1-based: shift them with labelsToZeroBased), received 5');
});

test('verbose prints warnings to stderr', (t) => {
  const script = `
    import { trainModel } from ${JSON.stringify(join(root, 'dist', 'index.js'))};
    const x = { dtype: 'float32', shape: [10, 12, 12], data: new Float32Array(1440).map((_, i) => (i % 7) / 7) };
    const r = await trainModel({ model: { kind: 'resnet', depth: 2 }, train: { x, y: [1, 2, 3, 1, 2, 3, 1, 2, 3, 1] }, epochs: 1, threads: 1, verbose: 2 });
    r.model.dispose();`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  t.is(out.status, 0, out.stderr);
  t.deepEqual(out.stderr.trim().split('\n'), [
    'torchfit warning [WARN_LABELS_ONE_BASED]: train.y looks 1-based: no label is 0 and the labels run from 1 to 3, so the model gets 4 classes and class 0 is never seen. ' +
      'Shift the labels to 0..2 with labelsToZeroBased(y); if class 0 is meant to be empty, pass numClasses: 4 to say so.',
    'torchfit warning [WARN_BATCH_SIZE_REDUCED]: batchSize 128 is larger than the 10 training images: training uses batches of 10, one step per epoch, as Keras and PyTorch do with a short data set.',
  ]);
  t.regex(out.stdout, /^Epoch 1\/1\n1\/1 - /);
});

test('a batch larger than the data shrinks to the data, with a warning, and trains', async (t) => {
  const data = await realImages(10, 4000);
  const steps = [];
  const r = await trainModel({ model: resnet, train: data, numClasses: 5, epochs: 2, threads: 2, onEpochEnd: (log) => steps.push(log.steps) });
  t.deepEqual(r.warnings, [{
    code: 'WARN_BATCH_SIZE_REDUCED',
    message: 'batchSize 128 is larger than the 10 training images: training uses batches of 10, one step per epoch, as Keras and PyTorch do with a short data set.',
  }]);
  t.deepEqual(steps, [1, 1]);
  t.is(r.model.metadata.options.batchSize, 10);
  t.true(Number.isFinite(r.history.loss[1]));
  r.model.dispose();
});

test('with ranks, the batch shrinks to a rank\'s shard; an error thrown by onWarning rejects before training', async (t) => {
  const error = await t.throwsAsync(trainModel({
    model: 'cnn', train: { x: images(10), y: Int32Array.from({ length: 10 }, (_, i) => i % 5) }, batchSize: 6,
    distributed: { rank: 0, worldSize: 2 }, onWarning: (w) => { throw new Error(w.message); },
  }));
  t.is(error.message, 'batchSize 6 is larger than the 5 training images of each of the 2 ranks (batchSize is per rank): training uses batches of 5, one step per epoch, as Keras and PyTorch do with a short data set.');
});

test('images below a model\'s smallest size: the error names the smallest size, for a layers model too', async (t) => {
  const y = Int32Array.from({ length: 4 }, (_, i) => i % 2);
  const cnn = await t.throwsAsync(trainModel({ model: 'cnn', train: { x: images(4, 9), y }, epochs: 1 }), { instanceOf: InvalidOptionError });
  t.is(cnn.message, "Invalid option train.x.shape: expected images of at least 10x10 pixels for the 'cnn' model (its two 3x3 valid convolutions and 2x2 poolings leave nothing of a smaller image), received 9x9");
  const layers = { layers: [{ type: 'conv2d', filters: 2, kernelSize: 3 }, { type: 'maxPooling2d' }, { type: 'conv2d', filters: 2, kernelSize: 3 }, { type: 'flatten' }, { type: 'dense', units: 2, activation: 'softmax' }] };
  const own = await t.throwsAsync(trainModel({ model: layers, train: { x: images(4, 5), y }, epochs: 1 }), { instanceOf: InvalidOptionError });
  t.is(own.option, 'train.x.shape');
  t.is(own.message, "Invalid option train.x.shape: expected images of at least 8x8 pixels for this layers model (Invalid option model.layers[2].kernelSize: expected a kernel no larger than its 1x1 input with 'valid' padding (the output would have no pixels; use padding 'same' or a smaller window), received 3x3), received 5x5");
});
