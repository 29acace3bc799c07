/**
 * Generators for fuzzing the .npy reader and restricted unpickler (parseNpy):
 * mutated and truncated valid files (plain arrays of every dtype, pickled dicts
 * as numpy and as torchfit write them, the dataset format), hostile files,
 * random bytes and random opcode streams; and classify(), which says whether an
 * input parsed into a well-formed value or was refused with NpyFormatError /
 * PickleSecurityError, and throws FuzzFinding for anything else (a bug).
 *
 * test/fuzz.test.js runs a few thousand inputs in CI; scripts/long/fuzz-npy.mjs
 * runs the same generators for minutes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';

import { encodeNpy, NpyFormatError, parseNpy, PickleSecurityError } from '../../dist/index.js';
import { fixturePath } from './fixtures.js';
import { buildCorpus, miniDataset } from './hostile-corpus.js';
import { npyHeader } from './npy-writer.js';
import { OP } from './pickle-writer.js';

const NPY_FIXTURES = fixturePath('npy');

// --- seeds ------------------------------------------------------------------------

let seedCache;

/** Valid (and a few hostile) .npy files the mutations start from. */
export function fuzzSeeds() {
  if (seedCache) return seedCache;
  const seeds = [];
  // numpy's own files: every dtype, both byte orders, Fortran order, versions 2 and 3, pickled dicts (protocols 2-5).
  for (const f of readdirSync(NPY_FIXTURES).filter((n) => n.endsWith('.npy')).sort()) seeds.push(readFileSync(join(NPY_FIXTURES, f)));
  // The dataset format, as numpy lays it out.
  seeds.push(miniDataset().file);
  // What torchfit writes (protocol 3 pickles of dicts with arrays, strings, numbers, nested lists).
  seeds.push(encodeNpy({
    features: { dtype: 'float32', shape: [2, 3, 3], data: Float32Array.from({ length: 18 }, (_, i) => i / 17) },
    target: { dtype: 'float64', shape: [2], data: new Float64Array([1, 5]) },
    class_names: ['Tops', 'Trousers & dresses'],
  }));
  seeds.push(encodeNpy({
    a: { dtype: 'int64', shape: [3], data: new BigInt64Array([-1n, 0n, 2n ** 62n]) },
    b: { dtype: 'uint16', shape: [2, 2], data: new Uint16Array([1, 2, 3, 65535]) },
    c: { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) },
    n: 3, x: 0.5, s: 'é✓', l: [1, [2, 'three'], { k: null }],
  }));
  seeds.push(encodeNpy({ dtype: 'float16', shape: [2, 2], data: new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x7e00]) }));
  // A few hostile files (small ones) so mutations also explore the refusal paths.
  for (const e of buildCorpus({ canary: '/tmp/torchfit-canary-fuzz' })) {
    if (!e.large && e.group !== 'truncated' && e.bytes.length < 2048 && /exec|reduce|build|opcode|memo/.test(e.group)) seeds.push(e.bytes);
  }
  seedCache = seeds;
  return seeds;
}

// --- mutations --------------------------------------------------------------------

const OPCODES = Object.values(OP);
const INTERESTING_BYTES = [0, 1, 0x0a, 0x20, 0x28, 0x2e, 0x7f, 0x80, 0xfe, 0xff];
const INTERESTING_WORDS = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 2n ** 53n + 1n, 2n ** 62n, 2n ** 63n, 2n ** 64n - 1n];
const DESCRS = ["'<f4'", "'>f8'", "'|u1'", "'|b1'", "'<i8'", "'>u8'", "'<f2'", "'|O'", "'O'", "'<c8'", "'<U4'", "'|V4'", "'=f4'", "'|f4'", "'<f3'", "''", '5', "[('a', '<f4')]", 'None'];
const SHAPES = ['()', '(0,)', '(1,)', '(2,)', '(2, 3)', '(3, 2)', '(2, 2, 2)', '(6,)', '(-1,)', '(4294967296, 4294967296)', '(9007199254740993,)', '(1, 0, 9007199254740991)', '(2,3)', '[2, 3]', '((2,),)', "('2',)", '(True,)', '(2, 3, 4, 5, 6, 7, 8, 9)'];

// Positions: `at` wraps around the input; half the point mutations land after the header (in the data or pickle).
const at = fc.nat({ max: 1 << 20 });
const where = fc.record({ at, body: fc.boolean() });
const mutation = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('flip'), where, bit: fc.integer({ min: 0, max: 7 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('set'), where, value: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.integer({ min: 0, max: 255 })) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('opcode'), where, value: fc.constantFrom(...OPCODES) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('word'), where, width: fc.constantFrom(2, 4, 8), value: fc.constantFrom(...INTERESTING_WORDS) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('truncate'), at }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('delete'), at, len: fc.integer({ min: 1, max: 64 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('insert'), at, data: fc.uint8Array({ minLength: 1, maxLength: 32 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('duplicate'), at, from: at, len: fc.integer({ min: 1, max: 256 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('splice'), at, seed: fc.nat(), from: at, len: fc.integer({ min: 1, max: 512 }) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('header'), descr: fc.constantFrom(...DESCRS), shape: fc.constantFrom(...SHAPES),
      fortran: fc.constantFrom('False', 'True', "'no'", '0'), major: fc.constantFrom(1, 2, 3),
    }),
    weight: 1,
  },
);

/** Where the data (or pickle) of a .npy starts, when its preamble is intact; else 0. */
function bodyStart(b) {
  if (b.length < 12 || b[0] !== 0x93 || b[6] < 1 || b[6] > 3) return 0;
  const start = b[6] === 1 ? 10 : 12;
  const hlen = b[6] === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  return start + hlen < b.length ? start + hlen : 0;
}

/** A position for a point mutation of `width` bytes: anywhere, or after the header. */
function pointAt(b, w, width = 1) {
  const start = w.body ? bodyStart(b) : 0;
  const from = start + width <= b.length ? start : 0;
  return from + (w.at % (b.length - from - width + 1));
}

/** Applies one mutation to `b` (a Buffer); positions wrap around the current length. */
function mutate(b, m, seeds) {
  const n = b.length;
  const pos = (x) => (n === 0 ? 0 : x % (n + 1));
  switch (m.kind) {
    case 'flip': { if (n === 0) return b; const c = Buffer.from(b); c[pointAt(b, m.where)] ^= 1 << m.bit; return c; }
    case 'set':
    case 'opcode': { if (n === 0) return b; const c = Buffer.from(b); c[pointAt(b, m.where)] = m.value; return c; }
    case 'word': {
      if (n < m.width) return b;
      const c = Buffer.from(b);
      const p = pointAt(b, m.where, m.width);
      const v = m.value & ((1n << BigInt(8 * m.width)) - 1n);
      for (let i = 0; i < m.width; i++) c[p + i] = Number((v >> BigInt(8 * i)) & 0xffn);
      return c;
    }
    case 'truncate': return b.subarray(0, pos(m.at));
    case 'delete': { const p = pos(m.at); return Buffer.concat([b.subarray(0, p), b.subarray(p + m.len)]); }
    case 'insert': { const p = pos(m.at); return Buffer.concat([b.subarray(0, p), Buffer.from(m.data), b.subarray(p)]); }
    case 'duplicate': { const p = pos(m.at); const f = pos(m.from); return Buffer.concat([b.subarray(0, p), b.subarray(f, f + m.len), b.subarray(p)]); }
    case 'splice': {
      const other = seeds[m.seed % seeds.length];
      const f = other.length === 0 ? 0 : m.from % other.length;
      const p = pos(m.at);
      return Buffer.concat([b.subarray(0, p), other.subarray(f, f + m.len), b.subarray(p)]);
    }
    case 'header': {
      // Keep the body, replace the header with another (often lying) one.
      let body = b;
      if (n >= 10 && b[0] === 0x93) {
        const major = b[6];
        const start = major === 1 ? 10 : 12;
        const hlen = n >= start ? (major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8)) : 0;
        body = b.subarray(Math.min(n, start + hlen));
      }
      return Buffer.concat([npyHeader(m.descr, m.shape, { fortran: m.fortran, major: m.major }), body]);
    }
    default: throw new Error(`unknown mutation ${m.kind}`);
  }
}

/** A random pickle opcode with plausible arguments (an opcode soup builds pickles the mutations rarely reach). */
const soupOp = fc.oneof(
  fc.constantFrom(...OPCODES).map((op) => Buffer.from([op])),
  fc.tuple(fc.constantFrom(OP.BININT1, OP.BINGET, OP.BINPUT, OP.PROTO, OP.EXT1, OP.SHORT_BINBYTES, OP.SHORT_BINUNICODE, OP.LONG1), fc.integer({ min: 0, max: 255 }))
    .map(([op, v]) => Buffer.from([op, v])),
  fc.tuple(fc.constantFrom(OP.BININT, OP.LONG_BINGET, OP.LONG_BINPUT, OP.BINUNICODE, OP.BINBYTES, OP.LONG4, OP.BINSTRING), fc.constantFrom(0, 1, 2, 4, 8, 16, 255, 0x7fffffff, 0xffffffff))
    .map(([op, v]) => { const b = Buffer.alloc(5); b[0] = op; b.writeUInt32LE(v, 1); return b; }),
  fc.tuple(fc.constantFrom(OP.BINBYTES8, OP.BINUNICODE8, OP.BYTEARRAY8, OP.FRAME), fc.constantFrom(...INTERESTING_WORDS))
    .map(([op, v]) => { const b = Buffer.alloc(9); b[0] = op; b.writeBigUInt64LE(v & (2n ** 64n - 1n), 1); return b; }),
  fc.tuple(fc.constantFrom('numpy', 'numpy.core.multiarray', 'numpy._core.multiarray', 'numpy.core.numeric', '_codecs', 'builtins', '__builtin__', 'os', 'copyreg'),
    fc.constantFrom('_reconstruct', 'ndarray', 'dtype', 'scalar', '_frombuffer', 'encode', 'bytes', 'bytearray', 'set', 'frozenset', 'system', 'eval', '_reconstructor'))
    .map(([m, n]) => Buffer.from(`c${m}\n${n}\n`, 'latin1')),
  fc.constantFrom('f4', '<', '>', '|', 'O8', 'b1', 'latin1', 'C', 'F', 'features', 'target', 'b').map((s) => Buffer.concat([Buffer.from([OP.SHORT_BINUNICODE, s.length]), Buffer.from(s, 'latin1')])),
  fc.uint8Array({ minLength: 0, maxLength: 16 }).map((d) => Buffer.concat([Buffer.from([OP.SHORT_BINBYTES, d.length]), Buffer.from(d)])),
);

/**
 * One fuzz input: mostly a seed with 1-8 mutations; otherwise random bytes,
 * a .npy preamble followed by random bytes, or an object-array header followed
 * by an opcode soup.
 */
export function fuzzInput(seeds = fuzzSeeds()) {
  const mutated = fc.record({ seed: fc.nat({ max: seeds.length - 1 }), mutations: fc.array(mutation, { minLength: 1, maxLength: 8 }) })
    .map(({ seed, mutations }) => mutations.reduce((b, m) => mutate(b, m, seeds), seeds[seed]));
  const random = fc.uint8Array({ maxLength: 512 }).map((d) => Buffer.from(d));
  const preamble = fc.tuple(fc.constantFrom(1, 2, 3, 4, 0), fc.uint8Array({ maxLength: 300 }))
    .map(([major, d]) => Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]), Buffer.from(d)]));
  const soup = fc.tuple(fc.constantFrom(2, 3, 4, 5), fc.array(soupOp, { maxLength: 60 }), fc.boolean())
    .map(([proto, ops, stop]) => Buffer.concat([npyHeader("'|O'", '()'), Buffer.from([OP.PROTO, proto]), ...ops, stop ? Buffer.from([OP.STOP]) : Buffer.alloc(0)]));
  return fc.oneof({ arbitrary: mutated, weight: 14 }, { arbitrary: random, weight: 1 }, { arbitrary: preamble, weight: 1 }, { arbitrary: soup, weight: 4 });
}

// --- the oracle -------------------------------------------------------------------

const CTORS = {
  bool: Uint8Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
  int64: BigInt64Array, uint64: BigUint64Array, float16: Uint16Array, float32: Float32Array, float64: Float64Array,
};

/** Thrown by classify() for anything that is not one of our typed refusals or a well-formed result. */
export class FuzzFinding extends Error {}

function size(shape) {
  return shape.reduce((a, d) => a * d, 1);
}

function checkValue(v, where, depth = 0) {
  if (depth > 300) throw new FuzzFinding(`${where}: result nested deeper than 300`);
  if (v === null || ['boolean', 'number', 'bigint', 'string'].includes(typeof v)) return;
  if (v instanceof Uint8Array && !('dtype' in v)) return;
  if (Array.isArray(v)) { v.forEach((x, i) => checkValue(x, `${where}[${i}]`, depth + 1)); return; }
  if (v instanceof Set) { for (const x of v) checkValue(x, `${where}{}`, depth + 1); return; }
  if (typeof v !== 'object') throw new FuzzFinding(`${where}: unexpected ${typeof v} in the result`);
  if (Object.getPrototypeOf(v) !== Object.prototype) throw new FuzzFinding(`${where}: object with prototype ${Object.getPrototypeOf(v)?.constructor?.name}`);
  const looksLikeArray = Object.keys(v).length === 3 && Array.isArray(v.shape) &&
    ((v.dtype === 'object' && Array.isArray(v.data)) || (Object.hasOwn(CTORS, v.dtype) && ArrayBuffer.isView(v.data)));
  if (looksLikeArray) {
    if (!v.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new FuzzFinding(`${where}: bad shape ${v.shape}`);
    if (v.data.length !== size(v.shape)) throw new FuzzFinding(`${where}: ${v.data.length} elements for shape (${v.shape})`);
    if (v.dtype === 'object') { v.data.forEach((x, i) => checkValue(x, `${where}.data[${i}]`, depth + 1)); return; }
    const ctor = CTORS[v.dtype];
    if (!ctor || !(v.data instanceof ctor)) throw new FuzzFinding(`${where}: dtype ${v.dtype} held in a ${v.data?.constructor?.name}`);
    if (v.dtype === 'bool' && v.data.some((x) => x > 1)) throw new FuzzFinding(`${where}: bool array holds a value other than 0/1`);
    return;
  }
  for (const k of Object.keys(v)) checkValue(v[k], `${where}.${k}`, depth + 1);
}

function sameBytes(a, b) {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/**
 * Parses `bytes`. Returns 'parsed' or the error code of a typed refusal;
 * throws FuzzFinding (with the original error as cause) for anything else.
 */
export function classify(bytes) {
  let value;
  try {
    value = parseNpy(bytes, 'fuzz.npy');
  } catch (error) {
    if (error instanceof NpyFormatError || error instanceof PickleSecurityError) {
      if (error.file !== 'fuzz.npy') throw new FuzzFinding(`error names file ${error.file}`, { cause: error });
      if (error.offset !== undefined && !(Number.isInteger(error.offset) && error.offset >= 0 && error.offset <= bytes.length)) {
        throw new FuzzFinding(`error offset ${error.offset} outside the ${bytes.length}-byte input: ${error.message}`, { cause: error });
      }
      return error.code;
    }
    throw new FuzzFinding(`untyped error ${error?.constructor?.name}: ${error?.message}`, { cause: error });
  }
  checkValue(value, 'result');
  // A plain array parsed: writing it back and reading that must give the same array.
  if (typeof value === 'object' && value !== null && ArrayBuffer.isView(value.data) && value.dtype !== 'object') {
    let again;
    try {
      again = parseNpy(encodeNpy(value), 'roundtrip.npy');
    } catch (error) {
      throw new FuzzFinding(`round trip of a parsed ${value.dtype} (${value.shape}) failed: ${error.message}`, { cause: error });
    }
    if (again.dtype !== value.dtype || again.shape.join() !== value.shape.join() || !sameBytes(again.data, value.data)) {
      throw new FuzzFinding(`round trip of a parsed ${value.dtype} (${value.shape}) changed it`);
    }
  }
  return 'parsed';
}
