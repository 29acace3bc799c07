// Pickle assemblers for tests: CPython's opcode table, one-opcode helpers that return bytes, and a
// builder that remembers where every opcode starts. Tests build valid, broken and hostile pickles
// with these, byte by byte, without Python (and without our own unpickler's opcode table, so a
// wrong value there cannot hide in both).
import { bytes, i32, u32 } from './bytes.js';

export const OP = {
  MARK: 0x28, STOP: 0x2e, POP: 0x30, POP_MARK: 0x31, DUP: 0x32, FLOAT: 0x46, INT: 0x49, BININT: 0x4a,
  BININT1: 0x4b, LONG: 0x4c, BININT2: 0x4d, NONE: 0x4e, PERSID: 0x50, BINPERSID: 0x51, REDUCE: 0x52,
  STRING: 0x53, BINSTRING: 0x54, SHORT_BINSTRING: 0x55, UNICODE: 0x56, BINUNICODE: 0x58, APPEND: 0x61,
  BUILD: 0x62, GLOBAL: 0x63, DICT: 0x64, EMPTY_DICT: 0x7d, APPENDS: 0x65, GET: 0x67, BINGET: 0x68,
  INST: 0x69, LONG_BINGET: 0x6a, LIST: 0x6c, EMPTY_LIST: 0x5d, OBJ: 0x6f, PUT: 0x70, BINPUT: 0x71,
  LONG_BINPUT: 0x72, SETITEM: 0x73, TUPLE: 0x74, EMPTY_TUPLE: 0x29, SETITEMS: 0x75, BINFLOAT: 0x47,
  PROTO: 0x80, NEWOBJ: 0x81, EXT1: 0x82, EXT2: 0x83, EXT4: 0x84, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87,
  NEWTRUE: 0x88, NEWFALSE: 0x89, LONG1: 0x8a, LONG4: 0x8b, BINBYTES: 0x42, SHORT_BINBYTES: 0x43,
  SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d, BINBYTES8: 0x8e, EMPTY_SET: 0x8f, ADDITEMS: 0x90,
  FROZENSET: 0x91, NEWOBJ_EX: 0x92, STACK_GLOBAL: 0x93, MEMOIZE: 0x94, FRAME: 0x95,
  BYTEARRAY8: 0x96, NEXT_BUFFER: 0x97, READONLY_BUFFER: 0x98,
};

/** BINUNICODE: a str of any length. */
export const str = (s) => { const b = Buffer.from(s, 'utf8'); return bytes(OP.BINUNICODE, u32(b.length), b); };
/** GLOBAL module.name (protocol 0 text form, read by every protocol). */
export const glob = (module, name) => bytes(OP.GLOBAL, `${module}\n${name}\n`);
/** BININT: a signed 32-bit int. */
export const binint = (n) => bytes(OP.BININT, i32(n));
/** LONG1 with `size` little-endian two's-complement bytes. */
export function long1(n, size = 9) {
  let v = BigInt(n);
  const out = [];
  for (let i = 0; i < size; i++) { out.push(Number(v & 0xffn)); v >>= 8n; }
  return bytes(OP.LONG1, size, Buffer.from(out));
}
/** BINFLOAT: a float64, big-endian as pickle stores it. */
export const binfloat = (v) => { const b = Buffer.alloc(8); b.writeDoubleBE(v); return bytes(OP.BINFLOAT, b); };
/** A tuple of BININTs (MARK ... TUPLE). */
export const ints = (list) => bytes(OP.MARK, ...list.map(binint), OP.TUPLE);
/** A whole pickle: PROTO `protocol`, the parts, STOP. */
export const pickle = (protocol, ...parts) => bytes(OP.PROTO, protocol, ...parts, OP.STOP);

/**
 * A pickle assembler that remembers where every opcode starts (the section
 * boundaries the truncation entries cut at).
 */
export class Pickle {
  constructor(protocol = 3) {
    this.protocol = protocol ?? 0;
    this.parts = [];
    this.length = 0;
    this.opStarts = [];
    if (protocol !== null) this.op(OP.PROTO, protocol);
  }
  /** Appends one opcode and its argument bytes. */
  op(code, ...args) {
    this.opStarts.push(this.length);
    const b = bytes(code, ...args);
    this.parts.push(b);
    this.length += b.length;
    return this;
  }
  /** Appends raw bytes that are not an opcode start (used to build bombs fast). */
  raw(b) {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }
  str(s) {
    const b = Buffer.from(s, 'utf8');
    // SHORT_BINUNICODE exists from protocol 4 on; numpy's protocol 3 pickles use BINUNICODE.
    return b.length < 256 && this.protocol >= 4 ? this.op(OP.SHORT_BINUNICODE, b.length, b) : this.op(OP.BINUNICODE, u32(b.length), b);
  }
  global(module, name) { return this.op(OP.GLOBAL, `${module}\n${name}\n`); }
  stackGlobal(module, name) { return this.str(module).str(name).op(OP.STACK_GLOBAL); }
  int(n) { return n >= 0 && n < 256 ? this.op(OP.BININT1, n) : this.op(OP.BININT, i32(n)); }
  bin(b) { return b.length < 256 ? this.op(OP.SHORT_BINBYTES, b.length, b) : this.op(OP.BINBYTES, u32(b.length), b); }
  /** numpy.dtype(code, False, True) with its BUILD state, as numpy pickles it. */
  dtype(code, order = '<', flags = 0) {
    this.global('numpy', 'dtype').str(code).op(OP.NEWFALSE).op(OP.NEWTRUE).op(OP.TUPLE3).op(OP.REDUCE);
    this.op(OP.MARK).int(3).str(order).op(OP.NONE).op(OP.NONE).op(OP.NONE).op(OP.BININT, i32(-1)).op(OP.BININT, i32(-1)).int(flags).op(OP.TUPLE);
    return this.op(OP.BUILD);
  }
  /** _reconstruct(ndarray, (0,), b'b') — an ndarray awaiting its BUILD state. */
  reconstruct() {
    return this.global('numpy.core.multiarray', '_reconstruct').global('numpy', 'ndarray').int(0).op(OP.TUPLE1).bin(Buffer.from('b')).op(OP.TUPLE3).op(OP.REDUCE);
  }
  /** A whole numeric ndarray: reconstruct + BUILD (1, shape, dtype, False, raw bytes). */
  array(code, shape, data, order = '<') {
    this.reconstruct().op(OP.MARK).int(1);
    this.op(OP.MARK);
    for (const d of shape) this.int(d);
    this.op(OP.TUPLE).dtype(code, order).op(OP.NEWFALSE).bin(data).op(OP.TUPLE).op(OP.BUILD);
    return this;
  }
  stop() { return this.op(OP.STOP); }
  bytes() { return Buffer.concat(this.parts); }
}

