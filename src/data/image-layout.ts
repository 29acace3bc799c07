/**
 * How a 4-D image array is laid out, shared by training inputs and the image grid:
 * Keras's channels_last (N, H, W, C) or PyTorch's channels_first (N, C, H, W).
 */
import { described, InvalidOptionError } from '../errors.js';

/** How a 4-D image array is laid out: Keras's (N, H, W, C) or PyTorch's (N, C, H, W). */
export type DataFormat = 'channels_last' | 'channels_first';

/**
 * Reads an image shape as (N, C, H, W). (N, H, W) is one channel. A 4-D shape follows
 * `dataFormat` when given; otherwise it is Keras's channels_last (N, H, W, C) when its
 * last axis is 1 to 4 and smaller than both others (a (N, 32, 32, 3) photo, a (N, 28, 28, 1)
 * scan), and PyTorch's channels_first (N, C, H, W) in every other case.
 * `channelsLast` is true only when the data needs transposing (C > 1): with one channel
 * both layouts hold the same bytes.
 *
 * @example
 * resolveLayout([600, 32, 32, 3], 'x').shape;                    // [600, 3, 32, 32]
 * resolveLayout([600, 3, 32, 32], 'x').shape;                    // [600, 3, 32, 32]
 * resolveLayout([8, 4, 4, 4], 'x', 'channels_last').shape;      // [8, 4, 4, 4], transposed
 */
export function resolveLayout(shape: readonly number[], name: string, dataFormat?: DataFormat):
  { shape: [number, number, number, number]; channelsLast: boolean } {
  const dims = [...shape];
  const text = () => described(`[${dims.join(', ')}]`);
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InvalidOptionError(`${name}.shape`, 'non-negative integer dimensions', text());
  }
  if (dims.length === 3) {
    return { shape: [dims[0]!, 1, dims[1]!, dims[2]!], channelsLast: false };
  }
  if (dims.length === 4) {
    const [n, a, b, c] = dims as [number, number, number, number];
    const last = dataFormat === 'channels_last' || (dataFormat === undefined && c >= 1 && c <= 4 && c < a && c < b);
    const out: [number, number, number, number] = last ? [n, c, a, b] : [n, a, b, c];
    if (out[1] < 1) throw new InvalidOptionError(`${name}.shape`, `images with at least one channel (read as ${last ? 'channels_last (N, H, W, C)' : 'channels_first (N, C, H, W)'})`, text());
    return { shape: out, channelsLast: last && c > 1 };
  }
  throw new InvalidOptionError(`${name}.shape`, '(N, H, W), (N, H, W, C) or (N, C, H, W) images', text());
}
