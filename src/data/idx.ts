/**
 * Reader for the IDX files MNIST and Fashion-MNIST ship in (optionally
 * gzipped): checks the magic number, the dimensions and the exact byte length.
 */
import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { DatasetError } from '../errors.js';
import type { NdArray } from './ndarray.js';

const gunzipAsync = promisify(gunzip);

/** Magic number of IDX image files: unsigned bytes, 3 dimensions. */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Magic number of IDX label files: unsigned bytes, 1 dimension. */
export const IDX_LABELS_MAGIC = 0x00000801;

/** No legitimate IDX file we read is larger; refuse gzip bombs beyond it. */
const MAX_UNZIPPED = 1 << 30;

/**
 * Parses an (already gunzipped) IDX buffer of unsigned bytes. `expectMagic`
 * pins the dimension count (0x803 images, 0x801 labels).
 *
 * @example
 * parseIdx(bytes, 'train-labels-idx1-ubyte', IDX_LABELS_MAGIC).shape; // [60000]
 */
export function parseIdx(buf: Uint8Array, file: string, expectMagic?: number): NdArray {
  if (buf.length < 4) throw new DatasetError(file, `not an IDX file: ${buf.length} bytes, the magic number alone needs 4`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  const hex = (m: number): string => `0x${m.toString(16).padStart(8, '0')}`;
  if (expectMagic !== undefined && magic !== expectMagic) {
    throw new DatasetError(file, `bad IDX magic number ${hex(magic)}: expected ${hex(expectMagic)} (${expectMagic === IDX_IMAGES_MAGIC ? 'images' : 'labels'})`);
  }
  if ((magic >>> 16) !== 0 || ((magic >>> 8) & 0xff) !== 0x08) {
    throw new DatasetError(file, `unsupported IDX magic number ${hex(magic)}: only unsigned-byte data (0x000008NN) is read`);
  }
  const ndim = magic & 0xff;
  if (ndim < 1) throw new DatasetError(file, 'IDX file declares 0 dimensions');
  const dataStart = 4 + 4 * ndim;
  if (buf.length < dataStart) throw new DatasetError(file, `truncated IDX header: ${ndim} dimensions need ${dataStart} bytes, the file has ${buf.length}`);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  const have = buf.length - dataStart;
  if (have !== count) {
    throw new DatasetError(file, `IDX dimensions [${shape.join(', ')}] need ${count} data bytes, the file has ${have}${have < count ? ' (truncated)' : ' (trailing bytes)'}`);
  }
  // A plain Uint8Array view (not a Buffer), whatever the input was.
  return { dtype: 'uint8', shape, data: new Uint8Array(buf.buffer, buf.byteOffset + dataStart, count) };
}

/**
 * Reads an IDX file, gunzipping it when it starts with the gzip signature.
 *
 * @example
 * const labels = await readIdx('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz', IDX_LABELS_MAGIC);
 */
export async function readIdx(path: string, expectMagic?: number): Promise<NdArray> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    throw new DatasetError(path, `cannot read the IDX file: ${(e as Error).message}`);
  }
  let buf: Uint8Array = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      buf = await gunzipAsync(raw, { maxOutputLength: MAX_UNZIPPED });
    } catch (e) {
      throw new DatasetError(path, `corrupt gzip data: ${(e as Error).message}`);
    }
  }
  return parseIdx(buf, path, expectMagic);
}

/**
 * Reads an IDX image file: uint8, shape [N, rows, cols].
 *
 * @example
 * const x = await readIdxImages('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz'); // [60000, 28, 28]
 */
export function readIdxImages(path: string): Promise<NdArray> {
  return readIdx(path, IDX_IMAGES_MAGIC);
}

/**
 * Reads an IDX label file: uint8, shape [N].
 *
 * @example
 * const y = await readIdxLabels('/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz'); // [60000]
 */
export function readIdxLabels(path: string): Promise<NdArray> {
  return readIdx(path, IDX_LABELS_MAGIC);
}
