/**
 * Python's float formatting and numpy's summation, reproduced bit for bit, so
 * that the classification report's numbers and text match scikit-learn's.
 */

/**
 * Formats `x` like Python's `'{:.{digits}f}'.format(x)`.
 *
 * `Number.prototype.toFixed` rounds exact ties away from zero (0.125 → '0.13')
 * while Python rounds them to even (0.125 → '0.12'), so we round the exact
 * binary value with BigInt arithmetic instead.
 *
 * @example
 * ```ts
 * formatFixed(0.125, 2); // '0.12', as Python prints it
 * formatFixed(2 / 3, 4); // '0.6667'
 * ```
 */
export function formatFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const negative = x < 0 || Object.is(x, -0);
  const { mantissa, exponent } = decompose(Math.abs(x));
  // |x| = mantissa * 2^exponent exactly; scaled = |x| * 10^digits as a fraction num/den.
  let num = mantissa * 10n ** BigInt(digits);
  let den = 1n;
  if (exponent >= 0) num <<= BigInt(exponent);
  else den <<= BigInt(-exponent);
  let q = num / den;
  const twiceRemainder = (num % den) * 2n;
  if (twiceRemainder > den || (twiceRemainder === den && q % 2n === 1n)) q += 1n;
  let s = q.toString();
  if (digits > 0) {
    s = s.padStart(digits + 1, '0');
    s = `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`;
  }
  return negative ? `-${s}` : s;
}

/** Splits a finite non-negative double into an integer mantissa and a power-of-two exponent. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/**
 * Sums like numpy's `np.add.reduce` on a contiguous float64 array (pairwise
 * summation with 8 accumulators and blocks of 128), so averages agree with
 * scikit-learn's to the last bit, not just to the printed digits.
 *
 * @example
 * ```ts
 * numpySum([0.1, 0.2, 0.3]); // same double as np.sum(np.array([0.1, 0.2, 0.3]))
 * ```
 */
export function numpySum(values: ArrayLike<number>): number {
  return pairwise(values, 0, values.length);
}

function pairwise(a: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = new Float64Array(8);
    for (let j = 0; j < 8; j++) r[j] = a[start + j];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    }
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwise(a, start, n2) + pairwise(a, start + n2, n - n2);
}

/** Length in code points, as Python's `len(str)` counts (padding widths depend on it). */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Python's `'{:>{width}}'.format(s)`. */
export function padLeft(s: string, width: number): string {
  const len = pyLen(s);
  return len >= width ? s : ' '.repeat(width - len) + s;
}

/** Python's `'{:<{width}}'.format(s)`. */
export function padRight(s: string, width: number): string {
  const len = pyLen(s);
  return len >= width ? s : s + ' '.repeat(width - len);
}
