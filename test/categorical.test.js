import test from 'ava';
import fc from 'fast-check';
import { labelsToOneBased, labelsToZeroBased, toCategorical } from '../dist/data/index.js';
import { InvalidOptionError } from '../dist/errors.js';
import { holds } from './support/property.js';

test('toCategorical one-hot encodes like keras.utils.to_categorical', (t) => {
  t.deepEqual(toCategorical([0, 2, 1]), { dtype: 'float32', shape: [3, 3], data: Float32Array.from([1, 0, 0, 0, 0, 1, 0, 1, 0]) });
  t.deepEqual(toCategorical(Int32Array.from([1, 0]), 4), { dtype: 'float32', shape: [2, 4], data: Float32Array.from([0, 1, 0, 0, 1, 0, 0, 0]) });
  // Keras drops a trailing axis of 1 and keeps the other axes.
  t.deepEqual(toCategorical({ dtype: 'float64', shape: [2, 1], data: Float64Array.from([1, 0]) }).shape, [2, 2]);
  t.deepEqual(toCategorical({ dtype: 'int64', shape: [2, 2], data: BigInt64Array.from([0n, 1n, 1n, 0n]) }).shape, [2, 2, 2]);
  t.deepEqual(toCategorical({ dtype: 'uint8', shape: [0], data: new Uint8Array(0) }, 5), { dtype: 'float32', shape: [0, 5], data: new Float32Array(0) });
});

test('toCategorical refuses labels that are not integers in range', (t) => {
  const cases = [
    [[0.5], undefined, /labels\[0\]/], [[-1], 3, /labels\[0\]: expected an integer in \[0, 2\]/], [[3], 3, /labels\[0\]/],
    [[NaN], undefined, /labels\[0\]/], [[], undefined, /numClasses/], [[0], 0, /numClasses/], [[0], 2.5, /numClasses/],
    ['abc', undefined, /labels/], [42, undefined, /labels/], [{ dtype: 'float16', shape: [1], data: new Uint16Array(1) }, 2, /labels\.dtype/],
  ];
  for (const [labels, n, message] of cases) {
    t.throws(() => toCategorical(labels, n), { instanceOf: InvalidOptionError, message }, JSON.stringify(labels));
  }
});

test('labelsToZeroBased / labelsToOneBased shift between the dataset labels (1..5) and class indices', (t) => {
  const target = { dtype: 'float64', shape: [4], data: Float64Array.from([1, 5, 3, 2]) };
  t.deepEqual(labelsToZeroBased(target), Int32Array.from([0, 4, 2, 1]));
  t.deepEqual(labelsToOneBased(Int32Array.from([0, 4])), Int32Array.from([1, 5]));
  t.throws(() => labelsToZeroBased([0]), { instanceOf: InvalidOptionError, message: /labels\[0\]: expected an integer >= 1/ });
  t.throws(() => labelsToOneBased([-1]), { instanceOf: InvalidOptionError });
  t.throws(() => labelsToZeroBased([1.5]), { instanceOf: InvalidOptionError });
});

test('property: one-hot rows have a single 1 at the label, and round-trip through the shifts', (t) => {
  holds(t, fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 50 }), (labels) => {
    const c = Math.max(...labels) + 1;
    const y = toCategorical(labels);
    if (y.shape[0] !== labels.length || y.shape[1] !== c) return false;
    for (let i = 0; i < labels.length; i++) {
      const row = y.data.subarray(i * c, (i + 1) * c);
      if (row.reduce((a, b) => a + b, 0) !== 1 || row[labels[i]] !== 1) return false;
    }
    const back = labelsToZeroBased(labelsToOneBased(labels));
    return back.every((v, i) => v === labels[i]);
  }), { numRuns: 200 });
});
