/**
 * A restricted unpickler for the pickles numpy writes into .npy object arrays
 * (protocols 0 to 5: the text opcodes of protocol 0 and the binary classics of
 * protocol 1 included). It interprets opcodes itself and knows only the globals
 * in pickle-globals.ts; it never imports, looks up or calls anything the file
 * names. Sizes are bounded: lengths are checked against the remaining bytes
 * before anything is allocated, and stack, memo, nesting and copies are capped.
 */
import { PickleSecurityError } from '../errors.js';
import type { NdArray, ObjectArray } from './ndarray.js';
import { OP, opName } from './pickle-opcodes.js';
import { allowedGlobal, buildObject, callGlobal, hashable } from './pickle-globals.js';
import type { NumpyContext } from './pickle-numpy.js';
import { allowedTorchGlobal, persistentLoad, type TorchStorageSource } from './pickle-torch.js';
import {
  NpArray, NpDType, PyBytes, PyDict, PyGlobal, PyList, PySet, PyTuple, TorchStorage, typeName,
  type PickleDict, type PickleValue, type Val,
} from './pickle-objects.js';

export type { PickleDict, PickleValue } from './pickle-objects.js';

/** Limits and reporting options for {@link unpickle}. */
/** Bounds on what the restricted unpickler builds (loadNpy's `pickle` option). */
export interface PickleLimits {
  /** Deepest MARK nesting and container nesting in the result (default 100). */
  maxDepth?: number;
  /** Most memo entries (default 1,000,000). */
  maxMemo?: number;
  /** Most items on the stack (default 1,000,000). */
  maxStack?: number;
}

export interface UnpickleOptions extends PickleLimits {
  /** Where the pickle starts in its file, so messages can give the file offset too. */
  baseOffset?: number;
  /**
   * Only for the data.pkl of a torch.save archive: where BINPERSID storages come from. Enables the
   * torch allow-list of pickle-torch.ts (tensors, OrderedDict); without it both stay refused.
   */
  torchStorages?: TorchStorageSource;
}

const MAX_LONG_BYTES = 1024;
const MAX_LINE = 256;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Unpickles `bytes` with the restricted rules above. Dicts come back as plain
 * objects (every key must be a str, otherwise the pickle is refused), lists and
 * tuples as arrays, sets as Set, bytes as Uint8Array (viewing `bytes`), numpy
 * arrays as NdArray (viewing `bytes` when aligned and native-endian), numpy
 * scalars as number (bigint for int64/uint64, boolean for bool), Python ints as
 * number (bigint beyond 2^53), Python 2 str as Uint8Array. Bytes after STOP are
 * refused. Throws PickleSecurityError with the pickle byte offset.
 *
 * @example
 * const d = unpickle(pickleBytes, 'model.npy');
 * d.features.shape; // [60000, 28, 28]
 */
export function unpickle(bytes: Uint8Array, file = '<pickle>', options: UnpickleOptions = {}): PickleValue {
  return new Unpickler(bytes, file, options).run().value;
}

/** The result of {@link unpickleTop}: the value, and the shape when the pickle was itself an ndarray. */
export interface UnpickledTop {
  value: PickleValue;
  /** Set only when the top-level object was a numpy.ndarray (a dict that merely looks like one is not). */
  arrayShape: number[] | undefined;
}

/**
 * Like {@link unpickle}, but also says whether the pickled object itself was an
 * ndarray (what a .npy object array holds), which the returned value alone
 * cannot tell apart from a dict with the same keys.
 *
 * @example
 * const { value, arrayShape } = unpickleTop(payload, 'x.npy');
 */
export function unpickleTop(bytes: Uint8Array, file = '<pickle>', options: UnpickleOptions = {}): UnpickledTop {
  return new Unpickler(bytes, file, options).run();
}

class Unpickler {
  private pos = 0;
  private opAt = 0;
  private readonly stack: Val[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, Val>();
  private puts = 0;
  // How deeply each container nests, recorded as it is built (see nest()).
  private readonly depths = new WeakMap<object, number>();
  private readonly view: DataView;
  private budget: number;
  private readonly maxDepth: number;
  private readonly maxMemo: number;
  private readonly maxStack: number;
  private readonly ctx: NumpyContext;

  constructor(private readonly buf: Uint8Array, private readonly file: string, private readonly opts: UnpickleOptions) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.maxDepth = opts.maxDepth ?? 100;
    this.maxMemo = opts.maxMemo ?? 1_000_000;
    this.maxStack = opts.maxStack ?? 1_000_000;
    // Legitimate pickles copy each array at most a few times (swap, transpose); more means amplification.
    this.budget = 4 * buf.length + (1 << 20);
    this.ctx = {
      fail: (m) => this.fail(m),
      charge: (n) => {
        this.budget -= n;
        if (this.budget < 0) this.fail('the pickle would make us allocate far more than its own size (repeated references to large data)');
      },
      ...(opts.torchStorages ? { torch: { source: opts.torchStorages, storages: new Map() } } : {}),
    };
    // Tensor data lives outside the pickle, in the archive's storages: they count towards the budget.
    if (opts.torchStorages) this.budget += 4 * opts.torchStorages.totalBytes;
  }

  fail(message: string, at = this.opAt): never {
    const base = this.opts.baseOffset;
    throw new PickleSecurityError(this.file, base === undefined ? message : `${message} (file byte ${base + at})`, at);
  }

  run(): UnpickledTop {
    const result = this.loop();
    if (this.pos !== this.buf.length) this.fail(`${this.buf.length - this.pos} unexpected bytes after STOP`, this.pos);
    const value = new Converter((m) => this.fail(m, this.pos - 1), this.maxDepth).convert(result);
    return { value, arrayShape: result instanceof NpArray ? result.value?.shape : undefined };
  }

  // --- reading -------------------------------------------------------------

  private need(n: number, what: string): void {
    if (n > this.buf.length - this.pos) {
      this.fail(`truncated pickle: ${opName(this.buf[this.opAt]!)} needs ${n} bytes of ${what} but ${this.buf.length - this.pos} remain`);
    }
  }
  private u8(): number { this.need(1, 'argument'); return this.buf[this.pos++]!; }
  private u16(): number { this.need(2, 'argument'); const v = this.view.getUint16(this.pos, true); this.pos += 2; return v; }
  private i32(): number { this.need(4, 'argument'); const v = this.view.getInt32(this.pos, true); this.pos += 4; return v; }
  private u32(): number { this.need(4, 'argument'); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  private u64(): number {
    this.need(8, 'argument');
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    // Anything beyond 2^53 certainly exceeds the remaining bytes; cap so comparisons stay exact.
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }
  private take(n: number, what: string): Uint8Array {
    if (n < 0) this.fail(`negative length ${n} for ${what}`);
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  private line(what: string): string {
    const limit = Math.min(this.buf.length, this.pos + MAX_LINE);
    for (let i = this.pos; i < limit; i++) {
      if (this.buf[i] === 0x0a) {
        const text = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, i - this.pos).toString('latin1');
        this.pos = i + 1;
        return text;
      }
    }
    return this.fail(`${what}: no newline within ${MAX_LINE} bytes (truncated or oversized text argument)`);
  }
  // STRING and UNICODE arguments may be as long as the data they carry: bounded by the pickle, not MAX_LINE.
  private longLine(what: string): Uint8Array {
    const nl = this.buf.indexOf(0x0a, this.pos);
    if (nl < 0) return this.fail(`${what}: no newline before the end of the pickle (truncated text argument)`);
    const out = this.buf.subarray(this.pos, nl);
    this.pos = nl + 1;
    return out;
  }
  private text(bytes: Uint8Array): string {
    try {
      return utf8.decode(bytes);
    } catch {
      return this.fail('string is not valid UTF-8');
    }
  }

  // --- stack ---------------------------------------------------------------

  private push(v: Val): void {
    if (this.stack.length >= this.maxStack) this.fail(`stack exceeds ${this.maxStack} items`);
    this.stack.push(v);
  }
  private get floor(): number { return this.marks.length === 0 ? 0 : this.marks[this.marks.length - 1]!; }
  private pop(): Val {
    if (this.stack.length <= this.floor) this.fail(`${opName(this.buf[this.opAt]!)} on an empty stack`);
    return this.stack.pop()!;
  }
  private top(): Val {
    if (this.stack.length <= this.floor) this.fail(`${opName(this.buf[this.opAt]!)} on an empty stack`);
    return this.stack[this.stack.length - 1]!;
  }
  private popMark(): Val[] {
    if (this.marks.length === 0) this.fail(`${opName(this.buf[this.opAt]!)} without a MARK`);
    const m = this.marks.pop()!;
    return this.stack.splice(m);
  }
  private memoPut(key: number, v: Val): void {
    // Picklers number memo entries 0, 1, 2, ...: an index beyond the PUTs so far is never legitimate
    // (libtorch sizes its memo by the largest index; a bound keeps any such reading small).
    if (key > this.puts) this.fail(`memo index ${key} skips ahead of the ${this.puts} PUTs so far`);
    this.puts++;
    if (!this.memo.has(key) && this.memo.size >= this.maxMemo) this.fail(`memo exceeds ${this.maxMemo} entries`);
    this.memo.set(key, v);
  }
  private memoGet(key: number): Val {
    const v = this.memo.get(key);
    if (v === undefined) this.fail(`memo key ${key} was never stored`);
    return v as Val;
  }
  private memoIndex(text: string): number {
    if (!/^[0-9]{1,15}$/.test(text)) this.fail(`bad memo index ${JSON.stringify(text)}`);
    return Number(text);
  }

  // --- the machine ---------------------------------------------------------

  private loop(): Val {
    const buf = this.buf;
    for (;;) {
      if (this.pos >= buf.length) this.fail('truncated pickle: it ends without STOP', this.pos);
      this.opAt = this.pos;
      const op = buf[this.pos++]!;
      switch (op) {
        case OP.PROTO: {
          const p = this.u8();
          if (p > 5) this.fail(`unsupported pickle protocol ${p}`);
          break;
        }
        case OP.FRAME: {
          const n = this.u64();
          if (n > buf.length - this.pos) this.fail(`FRAME of ${n} bytes but only ${buf.length - this.pos} remain`);
          break;
        }
        case OP.STOP: return this.pop();
        case OP.MARK:
          if (this.marks.length >= this.maxDepth) this.fail(`MARKs nested deeper than ${this.maxDepth}`);
          this.marks.push(this.stack.length);
          break;
        case OP.POP:
          if (this.stack.length > this.floor) this.stack.pop();
          else this.popMark();
          break;
        case OP.POP_MARK: this.popMark(); break;
        case OP.DUP: this.push(this.top()); break;

        case OP.NONE: this.push(null); break;
        case OP.NEWTRUE: this.push(true); break;
        case OP.NEWFALSE: this.push(false); break;
        case OP.BININT1: this.push(this.u8()); break;
        case OP.BININT2: this.push(this.u16()); break;
        case OP.BININT: this.push(this.i32()); break;
        case OP.LONG1: this.push(this.long(this.u8())); break;
        case OP.LONG4: this.push(this.long(this.i32())); break;
        case OP.INT: this.push(this.textInt(this.line('INT'), false)); break;
        case OP.LONG: this.push(this.textInt(this.line('LONG'), true)); break;
        case OP.FLOAT: this.push(this.textFloat(this.line('FLOAT'))); break;
        case OP.BINFLOAT: this.need(8, 'argument'); this.push(this.view.getFloat64(this.pos, false)); this.pos += 8; break;

        case OP.SHORT_BINUNICODE: this.push(this.text(this.take(this.u8(), 'string'))); break;
        case OP.BINUNICODE: this.push(this.text(this.take(this.u32(), 'string'))); break;
        case OP.BINUNICODE8: this.push(this.text(this.take(this.u64(), 'string'))); break;
        case OP.SHORT_BINBYTES: case OP.SHORT_BINSTRING: this.push(new PyBytes(this.take(this.u8(), 'bytes'))); break;
        case OP.BINBYTES: this.push(new PyBytes(this.take(this.u32(), 'bytes'))); break;
        case OP.BINSTRING: this.push(new PyBytes(this.take(this.i32(), 'bytes'))); break;
        case OP.BINBYTES8: case OP.BYTEARRAY8: this.push(new PyBytes(this.take(this.u64(), 'bytes'))); break;
        case OP.READONLY_BUFFER:
          if (!(this.top() instanceof PyBytes)) this.fail('READONLY_BUFFER on something that is not a buffer');
          break;

        case OP.EMPTY_LIST: this.push(new PyList()); break;
        case OP.EMPTY_TUPLE: this.push(new PyTuple([])); break;
        case OP.EMPTY_DICT: this.push(new PyDict()); break;
        case OP.EMPTY_SET: this.push(new PySet(new Set(), false)); break;
        case OP.LIST: { const items = this.popMark(); this.push(this.nest(new PyList(items), items)); break; }
        case OP.TUPLE: { const items = this.popMark(); this.push(this.nest(new PyTuple(items), items)); break; }
        case OP.TUPLE1: { const a = this.pop(); this.push(this.nest(new PyTuple([a]), [a])); break; }
        case OP.TUPLE2: { const b = this.pop(); const a = this.pop(); this.push(this.nest(new PyTuple([a, b]), [a, b])); break; }
        case OP.TUPLE3: { const c = this.pop(); const b = this.pop(); const a = this.pop(); this.push(this.nest(new PyTuple([a, b, c]), [a, b, c])); break; }
        case OP.DICT: { const items = this.popMark(); const d = new PyDict(); this.setItems(d, items); this.push(d); break; }
        case OP.FROZENSET: { const items = this.popMark(); this.push(new PySet(new Set(items.map((x) => hashable(x, this.ctx))), true)); break; }
        case OP.APPEND: { const v = this.pop(); const l = this.list(); this.nest(l, [v]); l.items.push(v); break; }
        case OP.APPENDS: { const items = this.popMark(); const l = this.list(); this.nest(l, items); for (const v of items) l.items.push(v); break; }
        case OP.SETITEM: { const v = this.pop(); const k = this.pop(); this.setItems(this.dict(), [k, v]); break; }
        case OP.SETITEMS: { const items = this.popMark(); this.setItems(this.dict(), items); break; }
        case OP.ADDITEMS: {
          const items = this.popMark();
          const s = this.top();
          if (!(s instanceof PySet) || s.frozen) this.fail(`ADDITEMS on ${typeName(s)}`);
          for (const v of items) (s as PySet).items.add(hashable(v, this.ctx));
          break;
        }

        case OP.GET: this.push(this.memoGet(this.memoIndex(this.line('GET')))); break;
        case OP.BINGET: this.push(this.memoGet(this.u8())); break;
        case OP.LONG_BINGET: this.push(this.memoGet(this.u32())); break;
        case OP.PUT: { const k = this.memoIndex(this.line('PUT')); this.memoPut(k, this.top()); break; }
        case OP.BINPUT: { const k = this.u8(); this.memoPut(k, this.top()); break; }
        case OP.LONG_BINPUT: { const k = this.u32(); this.memoPut(k, this.top()); break; }
        case OP.MEMOIZE: this.memoPut(this.memo.size, this.top()); break;

        case OP.GLOBAL: {
          const module = this.line('GLOBAL module');
          const name = this.line('GLOBAL name');
          this.push(this.global(module, name));
          break;
        }
        case OP.STACK_GLOBAL: {
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two str on the stack');
          this.push(this.global(module as string, name as string));
          break;
        }
        case OP.REDUCE: {
          const args = this.pop();
          const fn = this.pop();
          if (!(fn instanceof PyGlobal)) return this.fail(`REDUCE on ${typeName(fn)} is refused (only allow-listed globals may be called)`);
          if (!(args instanceof PyTuple)) return this.fail(`REDUCE arguments must be a tuple, got ${typeName(args)}`);
          this.push(callGlobal(fn.name, fn.qualified, args.items, this.ctx));
          break;
        }
        case OP.BUILD: {
          const state = this.pop();
          buildObject(this.top(), state, this.ctx);
          break;
        }

        case OP.BINPERSID: {
          if (!this.ctx.torch) return this.fail(`opcode ${opName(op)} is refused: it would create arbitrary objects or fetch external data`);
          const pid = this.pop();
          this.push(persistentLoad(pid, this.ctx.torch, this.ctx));
          break;
        }
        case OP.INST: case OP.OBJ: case OP.NEWOBJ: case OP.NEWOBJ_EX:
        case OP.PERSID: case OP.EXT1: case OP.EXT2: case OP.EXT4: case OP.NEXT_BUFFER:
          return this.fail(`opcode ${opName(op)} is refused: it would create arbitrary objects or fetch external data`);
        case OP.STRING: this.push(new PyBytes(this.quotedString(this.longLine('STRING')))); break;
        case OP.UNICODE: this.push(this.rawUnicode(this.longLine('UNICODE'))); break;
        default:
          return this.fail(`${opName(op)}: not a pickle opcode`);
      }
    }
  }

  private list(): PyList {
    const l = this.top();
    if (!(l instanceof PyList)) return this.fail(`${opName(this.buf[this.opAt]!)} on ${typeName(l)} is refused (only lists)`);
    return l;
  }

  private dict(): PyDict {
    const d = this.top();
    if (!(d instanceof PyDict)) return this.fail(`${opName(this.buf[this.opAt]!)} on ${typeName(d)} is refused (only dicts)`);
    return d;
  }

  private setItems(d: PyDict, items: Val[]): void {
    if (items.length % 2 !== 0) this.fail(`${opName(this.buf[this.opAt]!)} needs key/value pairs, got an odd count`);
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i]!;
      if (typeof k !== 'string') this.fail(`dict key of type ${typeName(k)} is not supported (dicts are returned as objects with str keys)`);
      d.map.set(k as string, items[i + 1]!);
    }
    this.nest(d, items);
  }

  /**
   * Records how deeply `container` nests once `items` are in it, refusing depth beyond maxDepth as it
   * is built (the depth of a container filled after it was itself nested is caught by the Converter).
   */
  private nest<T extends object>(container: T, items: readonly Val[]): T {
    let depth = this.depths.get(container) ?? 1;
    for (const item of items) {
      if (item === null || typeof item !== 'object') continue;
      depth = Math.max(depth, 1 + (this.depths.get(item) ?? 1));
    }
    if (depth > this.maxDepth) this.fail(`containers nested deeper than ${this.maxDepth}`);
    this.depths.set(container, depth);
    return container;
  }

  private global(module: string, name: string): PyGlobal {
    const g = allowedGlobal(module, name) ?? (this.ctx.torch ? allowedTorchGlobal(module, name) : undefined);
    if (g === undefined) {
      const allowed = this.ctx.torch ? 'tensors, OrderedDict and numpy array/dtype/scalar reconstruction are' : 'numpy array/dtype/scalar reconstruction is';
      return this.fail(`global '${clip(module)}.${clip(name)}' is refused by ${opName(this.buf[this.opAt]!)} (only ${allowed} allowed)`);
    }
    return new PyGlobal(g, `${module}.${name}`);
  }

  private long(n: number): number | bigint {
    if (n < 0) this.fail(`negative length ${n} for an integer`);
    if (n > MAX_LONG_BYTES) this.fail(`integer of ${n} bytes exceeds the ${MAX_LONG_BYTES}-byte limit`);
    const b = this.take(n, 'integer');
    if (n === 0) return 0;
    let hex = '';
    for (let i = n - 1; i >= 0; i--) hex += b[i]!.toString(16).padStart(2, '0');
    let v = BigInt(`0x${hex}`);
    if (b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return narrow(v);
  }

  private textInt(text: string, long: boolean): number | bigint | boolean {
    if (!long && text === '00') return false;
    if (!long && text === '01') return true;
    const t = long && text.endsWith('L') ? text.slice(0, -1) : text;
    if (!/^[-+]?[0-9]{1,300}$/.test(t)) this.fail(`bad integer literal ${JSON.stringify(clip(text))}`);
    return narrow(BigInt(t));
  }

  // Protocol 0 STRING: a Python repr, quoted, with backslash escapes (what codecs.escape_decode undoes).
  private quotedString(line: Uint8Array): Uint8Array {
    const q = line[0];
    if (line.length < 2 || (q !== 0x27 && q !== 0x22) || line[line.length - 1] !== q) this.fail('the STRING argument must be quoted');
    const body = line.subarray(1, line.length - 1);
    const out = new Uint8Array(body.length);
    let n = 0;
    const simple: Record<number, number> = { 0x5c: 0x5c, 0x27: 0x27, 0x22: 0x22, 0x61: 7, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9, 0x76: 11 };
    const hex = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1);
    for (let i = 0; i < body.length; i++) {
      const c = body[i]!;
      if (c !== 0x5c || i + 1 >= body.length) { out[n++] = c; continue; }
      const e = body[++i]!;
      if (simple[e] !== undefined) { out[n++] = simple[e]!; continue; }
      if (e === 0x0a) continue;  // a backslash-newline continues the line
      if (e === 0x78) {
        const h = hex(body[i + 1] ?? 0);
        const l = hex(body[i + 2] ?? 0);
        if (h < 0 || l < 0) this.fail('invalid \\x escape in a STRING argument');
        out[n++] = h * 16 + l;
        i += 2;
        continue;
      }
      if (e >= 0x30 && e <= 0x37) {
        let v = e - 0x30;
        for (let k = 0; k < 2 && body[i + 1]! >= 0x30 && body[i + 1]! <= 0x37; k++) v = v * 8 + body[++i]! - 0x30;
        out[n++] = v & 0xff;
        continue;
      }
      out[n++] = 0x5c;  // unknown escapes stay as they are, as in Python
      out[n++] = e;
    }
    return out.subarray(0, n);
  }

  // Protocol 0 UNICODE: raw-unicode-escape, Latin-1 bytes where an odd run of backslashes before u/U starts an escape.
  private rawUnicode(line: Uint8Array): string {
    const parts: string[] = [];
    let from = 0;
    let slashes = 0;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (c === 0x5c) { slashes++; continue; }
      const escape = slashes % 2 === 1 && (c === 0x75 || c === 0x55);
      slashes = 0;
      if (!escape) continue;
      const digits = c === 0x75 ? 4 : 8;
      const hex = Buffer.from(line.buffer, line.byteOffset + i + 1, Math.min(digits, line.length - i - 1)).toString('latin1');
      if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) this.fail('truncated \\uXXXX escape in a UNICODE argument');
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) this.fail('a UNICODE escape beyond U+10FFFF');
      parts.push(Buffer.from(line.buffer, line.byteOffset + from, i - 1 - from).toString('latin1'), String.fromCodePoint(code));
      from = i + 1 + digits;
      i = from - 1;
    }
    parts.push(Buffer.from(line.buffer, line.byteOffset + from, line.length - from).toString('latin1'));
    return parts.join('');
  }

  private textFloat(text: string): number {
    if (/^[-+]?(inf|nan)$/i.test(text)) return text.toLowerCase().includes('nan') ? NaN : text.startsWith('-') ? -Infinity : Infinity;
    if (!/^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text)) this.fail(`bad float literal ${JSON.stringify(clip(text))}`);
    return Number(text);
  }
}

/** Turns unpickler values into returned values, sharing repeated references and refusing cycles. */
class Converter {
  private readonly done = new Map<object, PickleValue>();
  private readonly active = new Set<object>();
  constructor(private readonly fail: (message: string) => never, private readonly maxDepth: number) {}

  convert(v: Val, depth = 0): PickleValue {
    if (v === null || typeof v !== 'object') return v;
    const seen = this.done.get(v);
    if (seen !== undefined) return seen;
    if (this.active.has(v)) this.fail(`recursive ${typeName(v)} (a container that contains itself) is not supported`);
    if (depth > this.maxDepth) this.fail(`containers nested deeper than ${this.maxDepth}`);
    this.active.add(v);
    const out = this.make(v, depth + 1);
    this.active.delete(v);
    this.done.set(v, out);
    return out;
  }

  private make(v: Exclude<Val, null | boolean | number | bigint | string>, depth: number): PickleValue {
    if (v instanceof PyList || v instanceof PyTuple) return v.items.map((x) => this.convert(x, depth));
    // A plain Uint8Array even when the input was a Buffer, so results do not depend on how the file was read.
    if (v instanceof PyBytes) return new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
    if (v instanceof PySet) return new Set<PickleValue>(v.items);
    if (v instanceof PyDict) {
      const o: PickleDict = {};
      for (const [k, x] of v.map) {
        // A '__proto__' key must become an own property, never the prototype.
        Object.defineProperty(o, k, { value: this.convert(x, depth), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
    if (v instanceof NpArray) {
      const a = v.value;
      if (a === undefined) return this.fail('a numpy.ndarray was created but never given its data (no BUILD)');
      if (a.dtype !== 'object') return a as NdArray;
      const out: ObjectArray = { dtype: 'object', shape: a.shape, data: a.items.map((x) => this.convert(x, depth)) };
      return out as unknown as PickleValue;
    }
    if (v instanceof NpDType) return this.fail('a numpy.dtype object as a value is not supported');
    if (v instanceof TorchStorage) return this.fail('a bare torch storage as a value is not supported (only tensors)');
    return this.fail(`${typeName(v)} cannot be returned as a value`);
  }
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
