import test from 'ava';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MT19937, RandomState, notebookSplit, takeRows, trainTestSplit } from '../dist/data/index.js';
import { InvalidOptionError } from '../dist/errors.js';
import { needs, python } from './support/conditional.js';
import { FIXTURES } from './support/fixtures.js';
import { holds } from './support/property.js';
import { pyJson } from './support/python.js';

const fixtures = JSON.parse(await readFile(join(FIXTURES, 'split.json'), 'utf8'));
const withSklearn = needs(python('numpy', 'sklearn'));
const sha = (a) => createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

test('RandomState matches numpy: state words, raw outputs, random_sample, permutation (committed fixtures)', (t) => {
  for (const c of fixtures.randomState) {
    if (c.seedArray) {
      const rs = new RandomState(c.seedArray);
      t.deepEqual(Array.from(rs.mt.key.subarray(0, 6)), c.key);
      t.deepEqual([0, 1, 2, 3].map(() => rs.randomSample()), c.randomSample);
      continue;
    }
    const rs = new RandomState(c.seed);
    t.deepEqual([...Array.from(rs.mt.key.subarray(0, 6)), rs.mt.key[623]], c.key, `seed ${c.seed}`);
    t.deepEqual(c.uint32.map(() => rs.mt.nextUint32()), c.uint32, `seed ${c.seed}`);
    const rs2 = new RandomState(c.seed);
    t.deepEqual([0, 1, 2, 3].map(() => rs2.randomSample()), c.randomSample);
    t.deepEqual(Array.from(new RandomState(c.seed).permutation(20)), c.permutation20);
  }
  t.is(new MT19937(5489).nextUint32(), 3499211612, 'the reference MT19937 first output');
});

test('trainTestSplit matches scikit-learn (committed fixtures)', (t) => {
  for (const c of fixtures.trainTestSplit) {
    const { n, ...opts } = c;
    const r = trainTestSplit(n, { testSize: c.testSize, trainSize: c.trainSize, randomState: c.randomState, shuffle: c.shuffle });
    const label = JSON.stringify(opts).slice(0, 80);
    if (c.train) {
      t.deepEqual(Array.from(r.train), c.train, label);
      t.deepEqual(Array.from(r.test), c.test, label);
    } else {
      t.is(r.train.length, c.trainLength);
      t.is(r.test.length, c.testLength);
      t.deepEqual(Array.from(r.train.subarray(0, 10)), c.trainHead);
      t.is(sha(r.train), c.trainSha256, label);
      t.is(sha(r.test), c.testSha256, label);
    }
  }
  t.deepEqual(trainTestSplit(10, { testSize: 0.2, randomState: 0 }), { train: Int32Array.from([4, 9, 1, 6, 7, 3, 0, 5]), test: Int32Array.from([2, 8]) });
});

test("notebookSplit reproduces the notebook's two train_test_split calls (committed fixtures)", (t) => {
  for (const c of fixtures.notebookSplit) {
    const s = notebookSplit(c.n);
    t.deepEqual([s.train.length, s.test.length, s.val.length], [c.trainLength, c.testLength, c.valLength]);
    t.deepEqual(Array.from(s.train.subarray(0, 10)), c.trainHead);
    t.deepEqual(Array.from(s.test.subarray(0, 10)), c.testHead);
    t.deepEqual(Array.from(s.val.subarray(0, 10)), c.valHead);
    t.is(sha(s.train), c.trainSha256);
    t.is(sha(s.test), c.testSha256);
    t.is(sha(s.val), c.valSha256);
    const all = new Uint8Array(c.n);
    for (const part of [s.train, s.test, s.val]) for (const i of part) all[i]++;
    t.true(all.every((x) => x === 1), 'the three parts partition the rows');
  }
});

withSklearn('trainTestSplit matches live scikit-learn for random n, sizes and seeds', (t) => {
  const cases = fc.sample(fc.record({
    n: fc.integer({ min: 2, max: 3000 }),
    testSize: fc.oneof(fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.constantFrom(0.1, 0.25, 0.5, 0.2, 1 / 3)),
    trainFrac: fc.option(fc.double({ min: 0.01, max: 0.5, noNaN: true }), { nil: undefined }),
    randomState: fc.oneof(fc.nat({ max: 100 }), fc.constant(2 ** 32 - 1), fc.nat({ max: 2 ** 32 - 1 })),
    count: fc.boolean(),
  }), { numRuns: 60, seed: 1234 }).map((c) => {
    const testSize = c.count ? Math.max(1, Math.min(c.n - 1, Math.round(c.testSize * c.n))) : c.testSize;
    const trainSize = c.trainFrac !== undefined && !c.count && c.testSize + c.trainFrac <= 1 ? c.trainFrac : undefined;
    return { n: c.n, testSize, trainSize, randomState: c.randomState };
  });
  const got = pyJson(`
import sys, json, numpy as np
from sklearn.model_selection import train_test_split
out = []
for c in json.load(sys.stdin):
    kw = {'test_size': c['testSize'], 'random_state': c['randomState']}
    if c.get('trainSize') is not None: kw['train_size'] = c['trainSize']
    try:
        tr, te = train_test_split(np.arange(c['n']), **kw)
        out.append({'train': tr.tolist(), 'test': te.tolist()})
    except ValueError as e:
        out.append({'error': str(e)})
print(json.dumps(out))`, [], JSON.stringify(cases));
  cases.forEach((c, i) => {
    const g = got[i];
    if (g.error) {
      t.throws(() => trainTestSplit(c.n, c), { instanceOf: InvalidOptionError }, `${JSON.stringify(c)} -> ${g.error}`);
      return;
    }
    const r = trainTestSplit(c.n, c);
    t.deepEqual(Array.from(r.train), g.train, JSON.stringify(c));
    t.deepEqual(Array.from(r.test), g.test, JSON.stringify(c));
  });
});

withSklearn('notebookSplit matches live scikit-learn for other seeds', (t) => {
  const got = pyJson(`
import json, numpy as np
from sklearn.model_selection import train_test_split
out = []
for n, seed in [(60000, 1), (997, 42), (20, 3)]:
    a, b = train_test_split(np.arange(n), test_size=0.10, random_state=seed)
    c, d = train_test_split(b, test_size=0.5, random_state=seed)
    out.append({'n': n, 'seed': seed, 'train': a.tolist(), 'test': c.tolist(), 'val': d.tolist()})
print(json.dumps(out))`);
  for (const g of got) {
    const s = notebookSplit(g.n, g.seed);
    t.deepEqual(Array.from(s.train), g.train);
    t.deepEqual(Array.from(s.test), g.test);
    t.deepEqual(Array.from(s.val), g.val);
  }
});

test('shuffle: false takes the first n_train rows, then the next n_test', (t) => {
  t.deepEqual(trainTestSplit(10, { testSize: 0.3, shuffle: false }), { train: Int32Array.from([0, 1, 2, 3, 4, 5, 6]), test: Int32Array.from([7, 8, 9]) });
  t.deepEqual(trainTestSplit(10, { testSize: 2, trainSize: 5, shuffle: false }), { train: Int32Array.from([0, 1, 2, 3, 4]), test: Int32Array.from([5, 6]) });
});

test('default sizes and integer counts follow scikit-learn', (t) => {
  const r = trainTestSplit(100, { randomState: 0 });
  t.deepEqual([r.train.length, r.test.length], [75, 25]);
  const c = trainTestSplit(100, { testSize: 7, randomState: 0 });
  t.deepEqual([c.train.length, c.test.length], [93, 7]);
  const tr = trainTestSplit(100, { trainSize: 0.333, randomState: 0 });
  t.deepEqual([tr.train.length, tr.test.length], [33, 67]);
  const unseeded = trainTestSplit(50, { testSize: 0.2 });
  t.deepEqual([unseeded.train.length, unseeded.test.length], [40, 10]);
});

test('invalid options are refused with InvalidOptionError naming the option', (t) => {
  const bad = [
    [-1, {}, 'n'], [2.5, {}, 'n'], [2 ** 31, {}, 'n'],
    [10, { testSize: 0 }, 'testSize'], [10, { testSize: 1.5 }, 'testSize'], [10, { testSize: 10 }, 'testSize'], [10, { testSize: -0.1 }, 'testSize'],
    [10, { testSize: NaN }, 'testSize'], [10, { testSize: '0.2' }, 'testSize'],
    [10, { trainSize: 0.7, testSize: 0.4 }, 'trainSize'], [10, { trainSize: 8, testSize: 3 }, 'trainSize'],
    [10, { trainSize: 0.05 }, 'testSize'], [1, { testSize: 0.5 }, 'testSize'], [0, {}, 'testSize'],
    [10, { randomState: -1 }, 'randomState'], [10, { randomState: 2 ** 32 }, 'randomState'], [10, { randomState: 0.5 }, 'randomState'],
    [10, { shuffle: 'yes' }, 'shuffle'],
  ];
  for (const [n, opts, option] of bad) {
    const e = t.throws(() => trainTestSplit(n, opts), { instanceOf: InvalidOptionError }, JSON.stringify([n, opts]));
    t.is(e.option, option, JSON.stringify([n, opts]));
    t.is(e.code, 'ERR_INVALID_OPTION');
  }
  t.throws(() => new RandomState(-1), { instanceOf: InvalidOptionError });
  t.throws(() => new RandomState([]), { instanceOf: InvalidOptionError });
  t.throws(() => new RandomState(0).permutation(-3), { instanceOf: InvalidOptionError });
});

test('property: parts are disjoint, in range and sized by the rules', (t) => {
  holds(t, fc.property(fc.integer({ min: 2, max: 2000 }), fc.double({ min: 0.001, max: 0.999, noNaN: true }), fc.nat({ max: 2 ** 32 - 1 }), (n, f, seed) => {
    const nTest = Math.ceil(f * n);
    if (n - nTest === 0) {
      t.throws(() => trainTestSplit(n, { testSize: f, randomState: seed }), { instanceOf: InvalidOptionError });
      return true;
    }
    const { train, test } = trainTestSplit(n, { testSize: f, randomState: seed });
    const seen = new Set([...train, ...test]);
    return test.length === nTest && train.length === n - nTest && seen.size === n && [...seen].every((i) => i >= 0 && i < n);
  }), { numRuns: 300 });
});

test('takeRows gathers first-axis rows in index order', (t) => {
  const a = { dtype: 'float32', shape: [3, 2], data: Float32Array.from([0, 1, 10, 11, 20, 21]) };
  t.deepEqual(takeRows(a, Int32Array.from([2, 0, 2])), { dtype: 'float32', shape: [3, 2], data: Float32Array.from([20, 21, 0, 1, 20, 21]) });
  const b = { dtype: 'int64', shape: [2], data: BigInt64Array.from([5n, 6n]) };
  t.deepEqual(takeRows(b, [1]).data, BigInt64Array.from([6n]));
  t.throws(() => takeRows(a, [3]), { instanceOf: InvalidOptionError, message: /indices\[0\]/ });
  t.throws(() => takeRows({ dtype: 'float32', shape: [], data: new Float32Array(1) }, [0]), { instanceOf: InvalidOptionError });
});
