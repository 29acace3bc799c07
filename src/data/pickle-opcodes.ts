/**
 * Pickle opcode bytes and names (protocols 0 to 5), shared by the reader, the
 * writer and the alignment pre-scan.
 */

/** Opcode bytes, named as CPython's pickle module names them. */
export const OP = {
  MARK: 0x28, STOP: 0x2e, POP: 0x30, POP_MARK: 0x31, DUP: 0x32, FLOAT: 0x46, INT: 0x49, BININT: 0x4a,
  BININT1: 0x4b, LONG: 0x4c, BININT2: 0x4d, NONE: 0x4e, PERSID: 0x50, BINPERSID: 0x51, REDUCE: 0x52,
  STRING: 0x53, BINSTRING: 0x54, SHORT_BINSTRING: 0x55, UNICODE: 0x56, BINUNICODE: 0x58, APPEND: 0x61,
  BUILD: 0x62, GLOBAL: 0x63, DICT: 0x64, EMPTY_DICT: 0x7d, APPENDS: 0x65, GET: 0x67, BINGET: 0x68,
  INST: 0x69, LONG_BINGET: 0x6a, LIST: 0x6c, EMPTY_LIST: 0x5d, OBJ: 0x6f, PUT: 0x70, BINPUT: 0x71,
  LONG_BINPUT: 0x72, SETITEM: 0x73, TUPLE: 0x74, EMPTY_TUPLE: 0x29, SETITEMS: 0x75, BINFLOAT: 0x47,
  PROTO: 0x80, NEWOBJ: 0x81, EXT1: 0x82, EXT2: 0x83, EXT4: 0x84, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87,
  NEWTRUE: 0x88, NEWFALSE: 0x89, LONG1: 0x8a, LONG4: 0x8b,
  BINBYTES: 0x42, SHORT_BINBYTES: 0x43,
  SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d, BINBYTES8: 0x8e, EMPTY_SET: 0x8f, ADDITEMS: 0x90,
  FROZENSET: 0x91, NEWOBJ_EX: 0x92, STACK_GLOBAL: 0x93, MEMOIZE: 0x94, FRAME: 0x95,
  BYTEARRAY8: 0x96, NEXT_BUFFER: 0x97, READONLY_BUFFER: 0x98,
} as const;

const names = new Map<number, string>(Object.entries(OP).map(([k, v]) => [v, k]));

/**
 * The name of an opcode byte, for error messages.
 *
 * @example
 * opName(0x52); // 'REDUCE'
 */
export function opName(byte: number): string {
  return names.get(byte) ?? `unknown opcode 0x${byte.toString(16).padStart(2, '0')}`;
}

/** Argument size: fixed byte count, a length prefix of this many bytes, or text lines. */
type ArgSpec = { fixed: number } | { lenBytes: 1 | 4 | 8 } | { lines: 1 | 2 };

const args = new Map<number, ArgSpec>([
  [OP.PROTO, { fixed: 1 }], [OP.FRAME, { fixed: 8 }], [OP.BININT, { fixed: 4 }], [OP.BININT1, { fixed: 1 }],
  [OP.BININT2, { fixed: 2 }], [OP.BINFLOAT, { fixed: 8 }], [OP.BINGET, { fixed: 1 }], [OP.LONG_BINGET, { fixed: 4 }],
  [OP.BINPUT, { fixed: 1 }], [OP.LONG_BINPUT, { fixed: 4 }], [OP.EXT1, { fixed: 1 }], [OP.EXT2, { fixed: 2 }],
  [OP.EXT4, { fixed: 4 }], [OP.LONG1, { lenBytes: 1 }], [OP.LONG4, { lenBytes: 4 }],
  [OP.SHORT_BINSTRING, { lenBytes: 1 }], [OP.BINSTRING, { lenBytes: 4 }], [OP.SHORT_BINBYTES, { lenBytes: 1 }],
  [OP.BINBYTES, { lenBytes: 4 }], [OP.BINBYTES8, { lenBytes: 8 }], [OP.SHORT_BINUNICODE, { lenBytes: 1 }],
  [OP.BINUNICODE, { lenBytes: 4 }], [OP.BINUNICODE8, { lenBytes: 8 }], [OP.BYTEARRAY8, { lenBytes: 8 }],
  [OP.INT, { lines: 1 }], [OP.LONG, { lines: 1 }], [OP.FLOAT, { lines: 1 }], [OP.STRING, { lines: 1 }],
  [OP.UNICODE, { lines: 1 }], [OP.GET, { lines: 1 }], [OP.PUT, { lines: 1 }], [OP.PERSID, { lines: 1 }],
  [OP.GLOBAL, { lines: 2 }], [OP.INST, { lines: 2 }],
]);

/**
 * Finds the file offset of the first byte-string payload of at least
 * `minLength` bytes, by walking opcodes without interpreting them. Used only
 * as a hint (to choose where in memory to load a file so that the big array is
 * aligned); returns undefined on anything unexpected.
 *
 * @example
 * firstLargePayload(buf, pickleStart, 1 << 16); // e.g. 250
 */
export function firstLargePayload(buf: Uint8Array, start: number, minLength: number): number | undefined {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = start;
  while (pos < buf.length) {
    const op = buf[pos++]!;
    if (op === OP.STOP) return undefined;
    const spec = args.get(op);
    if (spec === undefined) {
      if (!names.has(op)) return undefined;
      continue;
    }
    if ('fixed' in spec) { pos += spec.fixed; continue; }
    if ('lines' in spec) {
      for (let l = 0; l < spec.lines; l++) {
        const nl = buf.indexOf(0x0a, pos);
        if (nl < 0) return undefined;
        pos = nl + 1;
      }
      continue;
    }
    if (pos + spec.lenBytes > buf.length) return undefined;
    let len: number;
    if (spec.lenBytes === 1) len = buf[pos]!;
    else if (spec.lenBytes === 4) len = view.getUint32(pos, true);
    else len = Number(view.getBigUint64(pos, true));
    pos += spec.lenBytes;
    const isBytes = op === OP.BINBYTES || op === OP.BINBYTES8 || op === OP.BYTEARRAY8 || op === OP.BINSTRING;
    if (isBytes && len >= minLength) return pos;
    pos += len;
  }
  return undefined;
}
