/**
 * The .npy preamble and header: magic, version, header length and the
 * Python-literal dict `{'descr': ..., 'fortran_order': ..., 'shape': ...}`.
 * Reading validates every part; writing produces numpy's exact bytes.
 */
import { NpyFormatError } from '../errors.js';
import { parseDescr, type ParsedDescr } from './dtype.js';
import { parsePyLiteral, PyLiteralError, type PyLiteral } from './pyliteral.js';

/** The six magic bytes every .npy file starts with. */
export const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** numpy aligns the start of the data to this many bytes. */
export const NPY_ALIGN = 64;

/** Headers larger than this are refused before decoding (numpy's own default limit is 10,000). */
export const MAX_HEADER_BYTES = 1 << 20;

/** A validated .npy header. */
export interface NpyHeader {
  version: [number, number];
  /** The `descr` as written in the file. */
  descrText: string;
  descr: ParsedDescr;
  fortranOrder: boolean;
  shape: number[];
  /** Where the data (or the pickle, for object arrays) starts. */
  dataOffset: number;
}

/**
 * Reads and validates the preamble and header of a .npy file held in `buf`.
 * Throws NpyFormatError naming `file` and the byte offset of the problem.
 *
 * @example
 * const h = readNpyHeader(await readFile('x.npy'), 'x.npy');
 * h.shape; // [60000, 28, 28]
 */
export function readNpyHeader(buf: Uint8Array, file: string): NpyHeader {
  const fail = (message: string, offset?: number): never => { throw new NpyFormatError(file, message, offset); };
  const have = Math.min(buf.length, NPY_MAGIC.length);
  for (let i = 0; i < have; i++) {
    if (buf[i] !== NPY_MAGIC[i]) fail(`not a .npy file: expected the magic bytes \\x93NUMPY, found ${hexBytes(buf.subarray(0, 6))}`, i);
  }
  if (buf.length < 10) fail(`truncated preamble: a .npy file needs at least 10 bytes, this one has ${buf.length}`, buf.length);
  const major = buf[6]!;
  const minor = buf[7]!;
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    fail(`unsupported .npy format version ${major}.${minor}: expected 1.0, 2.0 or 3.0`, 6);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const start = major === 1 ? 10 : 12;
  if (buf.length < start) fail(`truncated preamble: version ${major}.0 needs ${start} bytes, the file has ${buf.length}`, buf.length);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (hlen > MAX_HEADER_BYTES) fail(`header length ${hlen} exceeds the ${MAX_HEADER_BYTES}-byte limit`, 8);
  if (start + hlen > buf.length) fail(`truncated header: it declares ${hlen} bytes but only ${buf.length - start} follow`, buf.length);
  const raw = buf.subarray(start, start + hlen);
  let text: string;
  if (major === 3) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      return fail('header is not valid UTF-8 (format 3.0)', start);
    }
  } else {
    text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  }
  let lit: PyLiteral;
  try {
    lit = parsePyLiteral(text);
  } catch (e) {
    if (e instanceof PyLiteralError) return fail(`header is not a valid Python literal: ${e.message}`, start + e.index);
    throw e;
  }
  if (!(lit instanceof Map)) return fail(`header is not a Python dict: ${clip(text)}`, start);
  const keys = [...lit.keys()];
  const want = ['descr', 'fortran_order', 'shape'];
  if (keys.length !== 3 || !want.every((k) => lit.has(k))) {
    fail(`header must have exactly the keys 'descr', 'fortran_order', 'shape'; found ${keys.map((k) => JSON.stringify(k)).join(', ') || 'none'}`, start);
  }
  const descrLit = lit.get('descr');
  const fortran = lit.get('fortran_order');
  const shapeLit = lit.get('shape');
  if (typeof fortran !== 'boolean') fail(`'fortran_order' must be True or False, found ${clip(String(fortran))}`, start);
  if (typeof shapeLit !== 'object' || shapeLit === null || !('tuple' in shapeLit)) return fail(`'shape' must be a tuple of non-negative integers`, start);
  const shape: number[] = [];
  for (const d of shapeLit.tuple) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) fail(`'shape' must be a tuple of non-negative integers, found ${JSON.stringify(d)}`, start);
    shape.push(d as number);
  }
  if (typeof descrLit !== 'string') {
    return fail(`unsupported dtype: structured/record arrays (a list 'descr') are not supported`, start);
  }
  const descr = parseDescr(descrLit);
  if (descr.kind === 'unsupported') fail(descr.reason, start);
  return { version: [major, minor], descrText: descrLit, descr, fortranOrder: fortran as boolean, shape, dataOffset: start + hlen };
}

/**
 * The preamble and header numpy 1.24+ writes for a C-order array: same bytes,
 * including the spare spaces numpy leaves for growing the first axis. Version
 * 1.0 unless the header needs more than 65,535 bytes (then 2.0).
 *
 * @example
 * formatNpyHeader('<f4', [2, 3]).length % 64; // 0
 */
export function formatNpyHeader(descr: string, shape: readonly number[]): Buffer {
  const shapeRepr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  // numpy's GROWTH_AXIS_MAX_DIGITS: room to rewrite a longer first dimension in place.
  if (shape.length > 0) header += ' '.repeat(Math.max(0, 21 - String(shape[0]).length));
  const body = Buffer.from(header, 'latin1');
  for (const [major, prefix] of [[1, 10], [2, 12]] as const) {
    const hlen = body.length + 1;
    const pad = NPY_ALIGN - ((prefix + hlen) % NPY_ALIGN);
    // Like numpy, a header that is already aligned still gets a full 64 bytes of padding.
    const total = hlen + pad;
    if (major === 1 && total > 0xffff) continue;
    const out = Buffer.alloc(prefix + total, 0x20);
    NPY_MAGIC.copy(out, 0);
    out[6] = major;
    out[7] = 0;
    if (major === 1) out.writeUInt16LE(total, 8);
    else out.writeUInt32LE(total, 8);
    body.copy(out, prefix);
    out[out.length - 1] = 0x0a;
    return out;
  }
  throw new Error('unreachable');
}

function hexBytes(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ') || '(nothing)';
}

function clip(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
}
