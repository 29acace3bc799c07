/**
 * Train/test splitting index-exact with scikit-learn's `train_test_split`
 * (ShuffleSplit over numpy's legacy RandomState), and the notebook's
 * train/test/validation split built from two such calls.
 */
import { randomInt } from 'node:crypto';
import { InvalidOptionError } from '../errors.js';
import { RandomState } from './mt19937.js';

/** Options of {@link trainTestSplit}, named after scikit-learn's. */
export interface TrainTestSplitOptions {
  /**
   * A fraction in (0, 1) (n_test = ceil(testSize * n)) or, when an integer,
   * an absolute count in [1, n). JS cannot tell 1.0 from 1: integer values are
   * always counts. Default 0.25 when trainSize is also missing.
   */
  testSize?: number;
  /** Like testSize (fraction: n_train = floor(trainSize * n)); default: the rest. */
  trainSize?: number;
  /** Seed of numpy's RandomState, an integer in [0, 2^32 - 1]. Missing: a random seed (not reproducible). */
  randomState?: number;
  /** Shuffle before splitting (default true); false takes the first n_train then the next n_test. */
  shuffle?: boolean;
}

/** Row indices of each part, in the order scikit-learn returns them. */
export interface SplitIndices {
  train: Int32Array;
  test: Int32Array;
}

/** The notebook's three parts: `x_train`, `x_test`, `x_val`, as indices into the full data. */
export interface NotebookSplit extends SplitIndices {
  val: Int32Array;
}

/**
 * The indices `sklearn.model_selection.train_test_split(np.arange(n), ...)`
 * returns, exactly: n_test / n_train by scikit-learn's rules, then
 * `perm = RandomState(randomState).permutation(n)`, test = perm[:n_test],
 * train = perm[n_test:n_test + n_train].
 *
 * @example
 * const { train, test } = trainTestSplit(10, { testSize: 0.2, randomState: 0 });
 * // train = [4, 9, 1, 6, 7, 3, 0, 5], test = [2, 8]
 */
export function trainTestSplit(n: number, options: TrainTestSplitOptions = {}): SplitIndices {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new InvalidOptionError('n', 'an integer in [0, 2^31 - 1]', n);
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object', options);
  const { shuffle = true, randomState } = options;
  if (typeof shuffle !== 'boolean') throw new InvalidOptionError('shuffle', 'a boolean', shuffle);
  if (randomState !== undefined && (!Number.isInteger(randomState) || randomState < 0 || randomState > 0xffffffff)) {
    throw new InvalidOptionError('randomState', 'an integer in [0, 2^32 - 1]', randomState);
  }
  const { nTrain, nTest } = splitSizes(n, options.testSize, options.trainSize);
  const train = new Int32Array(nTrain);
  const test = new Int32Array(nTest);
  if (!shuffle) {
    for (let i = 0; i < nTrain; i++) train[i] = i;
    for (let i = 0; i < nTest; i++) test[i] = nTrain + i;
    return { train, test };
  }
  const perm = new RandomState(randomState ?? randomInt(0, 2 ** 32 - 1)).permutation(n);
  test.set(perm.subarray(0, nTest));
  train.set(perm.subarray(nTest, nTest + nTrain));
  return { train, test };
}

/**
 * The notebook's split: `x_train, x_test_val = train_test_split(x, test_size=0.10, random_state=0)`,
 * then `x_test, x_val = train_test_split(x_test_val, test_size=0.5, random_state=0)`. Note
 * scikit-learn's order: `test` is the second call's *train* part, `val` its test part, both
 * mapped back to indices of the full data.
 *
 * @example
 * const { train, test, val } = notebookSplit(60000); // 54000, 3000, 3000 rows
 */
export function notebookSplit(n: number, randomState = 0): NotebookSplit {
  const first = trainTestSplit(n, { testSize: 0.1, randomState });
  const second = trainTestSplit(first.test.length, { testSize: 0.5, randomState });
  const map = (idx: Int32Array): Int32Array => idx.map((i) => first.test[i]!);
  return { train: first.train, test: map(second.train), val: map(second.test) };
}

/** scikit-learn's `_validate_shuffle_split`, with its checks and rounding. */
function splitSizes(n: number, testSize: number | undefined, trainSize: number | undefined): { nTrain: number; nTest: number } {
  if (testSize === undefined && trainSize === undefined) testSize = 0.25;
  const check = (name: string, v: number | undefined): void => {
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidOptionError(name, 'a number', v);
    if (Number.isInteger(v) ? v <= 0 || v >= n : v <= 0 || v >= 1) {
      throw new InvalidOptionError(name, `an integer count in [1, ${n - 1}] or a fraction in (0, 1) (n = ${n})`, v);
    }
  };
  check('testSize', testSize);
  check('trainSize', trainSize);
  const isFrac = (v: number | undefined): boolean => v !== undefined && !Number.isInteger(v);
  if (isFrac(testSize) && isFrac(trainSize) && testSize! + trainSize! > 1) {
    throw new InvalidOptionError('trainSize', `a fraction whose sum with testSize (${testSize}) is at most 1`, trainSize);
  }
  let nTest = testSize === undefined ? NaN : isFrac(testSize) ? Math.ceil(testSize * n) : testSize;
  let nTrain = trainSize === undefined ? NaN : isFrac(trainSize) ? Math.floor(trainSize * n) : trainSize;
  if (trainSize === undefined) nTrain = n - nTest;
  else if (testSize === undefined) nTest = n - nTrain;
  if (nTrain + nTest > n) {
    throw new InvalidOptionError('trainSize', `sizes whose sum (${nTrain} + ${nTest}) is at most n = ${n}`, trainSize);
  }
  if (nTrain === 0) {
    throw new InvalidOptionError('testSize', `a size that leaves a non-empty train set (n = ${n})`, testSize);
  }
  return { nTrain, nTest };
}
