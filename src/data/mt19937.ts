/**
 * numpy's legacy `np.random.RandomState`: the MT19937 generator seeded the way
 * numpy seeds it, and the few methods scikit-learn's splitters use, bit for bit.
 */
import { InvalidOptionError } from '../errors.js';

const N = 624;
const M = 397;

/**
 * The Mersenne Twister state, seeded like numpy's `RandomState(seed)`.
 * For an integer seed numpy 1.17+ calls `mt19937_seed` (Matsumoto and
 * Nishimura's `init_genrand`), not `init_by_array`: `RandomState(0).get_state()[1][:3]`
 * is `[0, 1, 1812433255]`. For an array seed it calls `init_by_array`.
 */
export class MT19937 {
  /** The 624 state words (numpy's `get_state()[1]`). */
  readonly key = new Uint32Array(N);
  /** numpy's `get_state()[2]`. */
  pos = N;

  /**
   * @example
   * new MT19937(0).key[2]; // 1812433255, as np.random.RandomState(0).get_state()[1][2]
   */
  constructor(seed: number) {
    this.seed(seed);
  }

  /** init_genrand. */
  private seed(s: number): void {
    const mt = this.key;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.pos = N;
  }

  /**
   * A generator seeded with numpy's `init_by_array` (what `RandomState([a, b, ...])` does).
   *
   * @example
   * MT19937.fromArray([1, 2, 3]).nextUint32();
   */
  static fromArray(words: ArrayLike<number>): MT19937 {
    const g = new MT19937(19650218);
    const mt = g.key;
    const len = words.length;
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, len); k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev, 1664525)) + (words[j]! >>> 0) + j) >>> 0;
      i++; j++;
      if (i >= N) { mt[0] = mt[N - 1]!; i = 1; }
      if (j >= len) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) { mt[0] = mt[N - 1]!; i = 1; }
    }
    mt[0] = 0x80000000;
    g.pos = N;
    return g;
  }

  private twist(): void {
    const mt = this.key;
    let i = 0;
    for (; i < N - M; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[i + 1]! & 0x7fffffff);
      mt[i] = mt[i + M]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    for (; i < N - 1; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[i + 1]! & 0x7fffffff);
      mt[i] = mt[i + M - N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    const y = (mt[N - 1]! & 0x80000000) | (mt[0]! & 0x7fffffff);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    this.pos = 0;
  }

  /**
   * The next tempered 32-bit output (numpy's `next_uint32` / `genrand_int32`).
   *
   * @example
   * new MT19937(5489).nextUint32(); // 3499211612, the reference MT19937 first output
   */
  nextUint32(): number {
    if (this.pos >= N) this.twist();
    let y = this.key[this.pos++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

/**
 * numpy's legacy `RandomState`, with the methods scikit-learn's splitters use.
 *
 * @example
 * new RandomState(0).permutation(10); // Int32Array [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]
 */
export class RandomState {
  readonly mt: MT19937;

  /** `seed`: an integer in [0, 2^32 - 1], like numpy (which refuses anything else), or an array of 32-bit words. */
  constructor(seed: number | readonly number[]) {
    if (Array.isArray(seed)) {
      if (seed.length === 0 || !seed.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
        throw new InvalidOptionError('seed', 'a non-empty array of integers in [0, 2^32 - 1]', seed);
      }
      this.mt = MT19937.fromArray(seed);
    } else {
      if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
        throw new InvalidOptionError('seed', 'an integer in [0, 2^32 - 1]', seed);
      }
      this.mt = new MT19937(seed);
    }
  }

  /**
   * A uniform integer in [0, max] by masked rejection (numpy's legacy `random_interval`).
   *
   * @example
   * new RandomState(0).randomInterval(9);
   */
  randomInterval(max: number): number {
    if (max === 0) return 0;
    if (max > 0xffffffff) throw new InvalidOptionError('max', 'at most 2^32 - 1', max);
    let mask = max;
    mask |= mask >>> 1; mask |= mask >>> 2; mask |= mask >>> 4; mask |= mask >>> 8; mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do v = (this.mt.nextUint32() & mask) >>> 0; while (v > max);
    return v;
  }

  /**
   * `RandomState.random_sample()`: a double in [0, 1) from two outputs (53-bit resolution).
   *
   * @example
   * new RandomState(0).randomSample(); // 0.5488135039273248
   */
  randomSample(): number {
    const a = this.mt.nextUint32() >>> 5;
    const b = this.mt.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * Shuffles `arr` in place like numpy's legacy `shuffle` of a 1-d array
   * (Fisher-Yates from the end, j = random_interval(i)).
   *
   * @example
   * const a = Int32Array.from([0, 1, 2]); new RandomState(1).shuffle(a);
   */
  shuffle<T extends { length: number; [i: number]: number }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.randomInterval(i);
      const t = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = t;
    }
    return arr;
  }

  /**
   * `RandomState.permutation(n)`: a shuffled `arange(n)`.
   *
   * @example
   * new RandomState(0).permutation(10); // Int32Array [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]
   */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new InvalidOptionError('n', 'an integer in [0, 2^31 - 1]', n);
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    return this.shuffle(a);
  }
}
