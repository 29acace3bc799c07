/**
 * A small pickler for what saveNpy stores in object arrays: dicts, lists,
 * strings, numbers, bytes and NdArrays, laid out the way numpy's own
 * np.save (pickle protocol 3) lays them out, so numpy reads them back as
 * ndarrays. Array payloads are aligned to 64 bytes in the file (with a
 * harmless padding string that is pushed and popped) so that our reader can
 * view them in place.
 */
import { InvalidOptionError } from '../errors.js';
import { DTYPES, NATIVE_LITTLE_ENDIAN } from './dtype.js';
import { bytesOf } from './layout.js';
import { isNdArray, type NdArray } from './ndarray.js';
import { checkNdArray } from './ndarray-check.js';
import { OP } from './pickle-opcodes.js';

/** Values {@link pickleChunks} can write. Integral numbers become Python ints, others floats. */
export type PicklableValue =
  | null | boolean | number | bigint | string | Uint8Array | NdArray
  | PicklableValue[] | { [key: string]: PicklableValue };

/** Options for {@link pickleChunks}. */
export interface PickleWriteOptions {
  /** Where the pickle will start in its file, for payload alignment (default 0). */
  baseOffset?: number;
  /** Wrap the value as a 0-d numpy object array, as np.save does for a dict (default false). */
  asObjectArray?: boolean;
  /** Name used in error messages (default 'value'). */
  option?: string;
}

const ALIGN = 64;
const MAX_DEPTH = 100;

/**
 * Pickles `value`; returns the bytes as chunks (large array payloads are the
 * caller's own memory, not copies) to be written in order.
 *
 * @example
 * const chunks = pickleChunks({ a: 1, names: ['x'] });
 * Buffer.concat(chunks); // what pickle.loads accepts
 */
export function pickleChunks(value: PicklableValue, options: PickleWriteOptions = {}): Uint8Array[] {
  const w = new Writer(options.baseOffset ?? 0);
  w.byte(OP.PROTO);
  w.byte(3);
  const option = options.option ?? 'value';
  if (options.asObjectArray) {
    w.arrayPrologue();
    w.byte(OP.MARK);
    w.int(1);
    w.byte(OP.EMPTY_TUPLE);
    w.dtype('O8', '|', 63);
    w.byte(OP.NEWFALSE);
    w.byte(OP.EMPTY_LIST);
    w.value(value, option, 0);
    w.byte(OP.APPEND);
    w.byte(OP.TUPLE);
    w.byte(OP.BUILD);
  } else {
    w.value(value, option, 0);
  }
  w.byte(OP.STOP);
  return w.finish();
}

class Writer {
  private readonly chunks: Uint8Array[] = [];
  private buf = Buffer.allocUnsafe(4096);
  private n = 0;
  private flushed = 0;
  private protocol = 3;
  private readonly active = new Set<object>();

  constructor(private readonly base: number) {}

  finish(): Uint8Array[] {
    this.flush();
    // The protocol is patched at the end: 4 only when a payload needed BINBYTES8.
    (this.chunks[0] as Buffer)[1] = this.protocol;
    return this.chunks;
  }

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    this.flush();
    if (k > this.buf.length) this.buf = Buffer.allocUnsafe(k);
  }
  private flush(): void {
    if (this.n === 0) return;
    this.chunks.push(Buffer.from(this.buf.subarray(0, this.n)));
    this.flushed += this.n;
    this.n = 0;
  }
  private get position(): number { return this.base + this.flushed + this.n; }

  byte(b: number): void { this.room(1); this.buf[this.n++] = b; }
  private raw(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.n); this.n += b.length; }
  private u32(v: number): void { this.room(4); this.buf.writeUInt32LE(v, this.n); this.n += 4; }

  private str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.byte(OP.BINUNICODE);
    this.u32(b.length);
    this.raw(b);
  }
  private global(module: string, name: string): void {
    this.byte(OP.GLOBAL);
    this.raw(Buffer.from(`${module}\n${name}\n`, 'latin1'));
  }

  int(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v <= 0xff) { this.byte(OP.BININT1); this.byte(v); return; }
    if (typeof v === 'number' && v >= 0 && v <= 0xffff) { this.byte(OP.BININT2); this.room(2); this.buf.writeUInt16LE(v, this.n); this.n += 2; return; }
    if (typeof v === 'number' && v >= -0x80000000 && v <= 0x7fffffff) { this.byte(OP.BININT); this.room(4); this.buf.writeInt32LE(v, this.n); this.n += 4; return; }
    // Two's complement, little-endian, as short as possible (what Python's encode_long produces).
    let x = BigInt(v);
    const out: number[] = [];
    for (;;) {
      const b = Number(x & 0xffn);
      out.push(b);
      x >>= 8n;
      if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break;
    }
    if (out.length < 256) { this.byte(OP.LONG1); this.byte(out.length); }
    else { this.byte(OP.LONG4); this.u32(out.length); }
    this.raw(Uint8Array.from(out));
  }

  /** `_reconstruct(ndarray, (0,), b'b')`, as numpy's __reduce__ writes it. */
  arrayPrologue(): void {
    this.global('numpy.core.multiarray', '_reconstruct');
    this.global('numpy', 'ndarray');
    this.int(0);
    this.byte(OP.TUPLE1);
    this.byte(OP.SHORT_BINBYTES); this.byte(1); this.byte(0x62);
    this.byte(OP.TUPLE3);
    this.byte(OP.REDUCE);
  }

  /** `numpy.dtype(code, False, True)` with its BUILD state. */
  dtype(code: string, order: string, flags: number): void {
    this.global('numpy', 'dtype');
    this.str(code);
    this.byte(OP.NEWFALSE);
    this.byte(OP.NEWTRUE);
    this.byte(OP.TUPLE3);
    this.byte(OP.REDUCE);
    this.byte(OP.MARK);
    this.int(3);
    this.str(order);
    this.byte(OP.NONE); this.byte(OP.NONE); this.byte(OP.NONE);
    this.int(-1); this.int(-1); this.int(flags);
    this.byte(OP.TUPLE);
    this.byte(OP.BUILD);
  }

  private bytesPayload(data: Uint8Array, align: boolean): void {
    const wide = data.length > 0xffffffff;
    if (wide) this.protocol = 4;
    const head = wide ? 9 : 5;
    if (align && data.length >= ALIGN) {
      // SHORT_BINBYTES k + POP: a no-op for any unpickler, shifting the payload to an aligned offset.
      const k = (ALIGN - ((this.position + 3 + head) % ALIGN)) % ALIGN;
      this.byte(OP.SHORT_BINBYTES);
      this.byte(k);
      this.room(k); this.buf.fill(0, this.n, this.n + k); this.n += k;
      this.byte(OP.POP);
    }
    if (data.length < 256) {
      this.byte(OP.SHORT_BINBYTES); this.byte(data.length); this.raw(data);
      return;
    }
    if (wide) {
      this.byte(OP.BINBYTES8);
      this.room(8); this.buf.writeBigUInt64LE(BigInt(data.length), this.n); this.n += 8;
    } else {
      this.byte(OP.BINBYTES); this.u32(data.length);
    }
    if (data.length <= 4096) { this.raw(data); return; }
    this.flush();
    this.chunks.push(data);
    this.flushed += data.length;
  }

  private ndarray(a: NdArray): void {
    const info = DTYPES[a.dtype];
    this.arrayPrologue();
    this.byte(OP.MARK);
    this.int(1);
    if (a.shape.length === 0) this.byte(OP.EMPTY_TUPLE);
    else {
      this.byte(OP.MARK);
      for (const d of a.shape) this.int(d);
      this.byte(OP.TUPLE);
    }
    this.dtype(info.code, info.itemsize === 1 ? '|' : NATIVE_LITTLE_ENDIAN ? '<' : '>', 0);
    this.byte(OP.NEWFALSE);
    this.bytesPayload(bytesOf(a.data), true);
    this.byte(OP.TUPLE);
    this.byte(OP.BUILD);
  }

  value(v: PicklableValue, path: string, depth: number): void {
    if (v === null) { this.byte(OP.NONE); return; }
    switch (typeof v) {
      case 'boolean': this.byte(v ? OP.NEWTRUE : OP.NEWFALSE); return;
      case 'bigint': this.int(v); return;
      case 'string': this.str(v); return;
      case 'number':
        if (Number.isSafeInteger(v) && !Object.is(v, -0)) this.int(v);
        else { this.byte(OP.BINFLOAT); this.room(8); this.buf.writeDoubleBE(v, this.n); this.n += 8; }
        return;
      case 'object': break;
      default: throw new InvalidOptionError(path, 'null, boolean, number, bigint, string, Uint8Array, NdArray, array or plain object', v);
    }
    if (depth > MAX_DEPTH) throw new InvalidOptionError(path, `nesting of at most ${MAX_DEPTH} levels`, v);
    if (this.active.has(v)) throw new InvalidOptionError(path, 'a value without cycles', v);
    this.active.add(v);
    if (isNdArray(v)) {
      checkNdArray(v, path);
      this.ndarray(v);
    } else if (v instanceof Uint8Array) {
      this.bytesPayload(v, false);
    } else if (Array.isArray(v)) {
      this.byte(OP.EMPTY_LIST);
      if (v.length > 0) {
        this.byte(OP.MARK);
        v.forEach((x, i) => this.value(x, `${path}[${i}]`, depth + 1));
        this.byte(OP.APPENDS);
      }
    } else if (isPlainObject(v)) {
      this.byte(OP.EMPTY_DICT);
      const keys = Object.keys(v);
      if (keys.length > 0) {
        this.byte(OP.MARK);
        for (const k of keys) {
          this.str(k);
          this.value(v[k]!, `${path}.${k}`, depth + 1);
        }
        this.byte(OP.SETITEMS);
      }
    } else {
      throw new InvalidOptionError(path, 'null, boolean, number, bigint, string, Uint8Array, NdArray, array or plain object', v);
    }
    this.active.delete(v);
  }
}

function isPlainObject(v: object): v is { [key: string]: PicklableValue } {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
