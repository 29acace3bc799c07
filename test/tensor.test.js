import test from 'ava';

import { InvalidOptionError, liveTensors, Tensor, TorchfitError, trainModel } from '../dist/index.js';
import { realImages } from './support/data.js';

test('Tensor.from copies data in and toTypedArray copies it back', (t) => {
  const before = liveTensors();
  const data = new Float32Array([1, 2, 3, 4, 5, 6]);
  const tensor = Tensor.from(data, [2, 3]);
  t.deepEqual(tensor.shape, [2, 3]);
  t.is(tensor.dtype, 'float32');
  t.is(tensor.device, 'cpu');
  data[0] = 100;  // the tensor owns a copy
  t.deepEqual(Array.from(tensor.toTypedArray()), [1, 2, 3, 4, 5, 6]);
  t.is(liveTensors(), before + 1);
  tensor.dispose();
  t.is(liveTensors(), before);
  t.true(tensor.disposed);
  const error = t.throws(() => tensor.shape, { instanceOf: TorchfitError });
  t.is(error.code, 'ERR_DISPOSED');
});

test('Tensor.from converts dtypes', (t) => {
  const tensor = Tensor.from(new Int32Array([1, 2, 3]), [3], { dtype: 'int64' });
  t.is(tensor.dtype, 'int64');
  t.deepEqual(tensor.toTypedArray(), new BigInt64Array([1n, 2n, 3n]));
  tensor.dispose();
});

test('Tensor.from checks its arguments', (t) => {
  t.is(t.throws(() => Tensor.from([1, 2], [2]), { instanceOf: InvalidOptionError }).option, 'data');
  t.is(t.throws(() => Tensor.from(new Float32Array(6), [4, 2]), { instanceOf: InvalidOptionError }).message,
    'Invalid option shape: expected dimensions whose product is the data length 6, received [4, 2] (8 elements)');
  t.is(t.throws(() => Tensor.from(new Float32Array(1), [1], { device: 'tpu' }), { instanceOf: InvalidOptionError }).option, 'device');
});

test('training takes Tensors as input', async (t) => {
  const { x, y } = await realImages(256);
  const tx = Tensor.from(x.data, [256, 1, 28, 28]);
  const ty = Tensor.from(y, [256]);
  const r = await trainModel({ model: { kind: 'resnet', depth: 2 }, train: { x: tx, y: ty }, numClasses: 5, epochs: 1, threads: 1 });
  t.is(r.history.epoch.length, 1);
  const e = await r.model.evaluate(tx, ty);
  t.true(e.accuracy > 0);
  r.model.dispose();
  tx.dispose();
  ty.dispose();
});
