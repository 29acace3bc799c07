import test from 'ava';
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { pickleChunks, unpickle, unpickleTop } from '../dist/data/index.js';
import { PickleSecurityError } from '../dist/errors.js';
import { needs, python } from './support/conditional.js';
import { holds } from './support/property.js';
import { bytes as asm, i32, u16, u32, u64 } from './support/bytes.js';
import { glob, OP, pickle, str } from './support/pickle-writer.js';
import { pyJson } from './support/python.js';

const withNumpy = needs(python('numpy'));

// --- numpy values as numpy pickles them (support/pickle-writer.js has the opcodes) ----

const P = (...body) => pickle(3, ...body);

function dtypeOps(code, order = '<', extra = []) {
  return asm(glob('numpy', 'dtype'), str(code), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE,
    OP.MARK, OP.BININT1, 3, str(order), OP.NONE, OP.NONE, OP.NONE, OP.BININT, i32(-1), OP.BININT, i32(-1), OP.BININT1, 0, ...extra, OP.TUPLE, OP.BUILD);
}
function arrayOps({ code = 'f4', order = '<', shape = [2], data, fortran = false, dtype }) {
  return asm(glob('numpy.core.multiarray', '_reconstruct'), glob('numpy', 'ndarray'), OP.BININT1, 0, OP.TUPLE1, OP.SHORT_BINBYTES, 1, 'b', OP.TUPLE3, OP.REDUCE,
    OP.MARK, OP.BININT1, 1, OP.MARK, ...shape.flatMap((d) => [OP.BININT, i32(d)]), OP.TUPLE, dtype ?? dtypeOps(code, order),
    fortran ? OP.NEWTRUE : OP.NEWFALSE, data, OP.TUPLE, OP.BUILD);
}
const bytesOp = (b) => asm(OP.BINBYTES, u32(b.length), b);

function refused(t, bytes, { message, offset, options } = {}) {
  const e = t.throws(() => unpickle(bytes, 'p.pkl', options), { instanceOf: PickleSecurityError });
  t.is(e.code, 'ERR_PICKLE_REFUSED');
  t.is(e.file, 'p.pkl');
  if (message) t.regex(e.message, message);
  if (offset !== undefined) t.is(e.offset, offset, `offset in: ${e.message}`);
  return e;
}

// --- what is accepted --------------------------------------------------------

test('scalars, strings, containers and memo across protocol-0..5 opcodes', (t) => {
  t.is(unpickle(P(OP.NONE)), null);
  t.is(unpickle(P(OP.NEWTRUE)), true);
  t.is(unpickle(P(OP.BININT1, 7)), 7);
  t.is(unpickle(P(OP.BININT2, u16(65535))), 65535);
  t.is(unpickle(P(OP.BININT, i32(-5))), -5);
  t.is(unpickle(P(OP.LONG1, 0)), 0);
  t.is(unpickle(P(OP.LONG1, 2, 0xff, 0x7f)), 32767);
  t.is(unpickle(P(OP.LONG1, 1, 0xff)), -1);
  t.is(unpickle(P(OP.LONG1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1)), 2n ** 64n);
  t.is(unpickle(P(OP.LONG4, u32(1), 0x80)), -128);
  t.is(unpickle(P(OP.INT, '01\n')), true);
  t.is(unpickle(P(OP.INT, '-42\n')), -42);
  t.is(unpickle(P(OP.LONG, '123456789012345678901234567890L\n')), 123456789012345678901234567890n);
  t.is(unpickle(P(OP.FLOAT, '2.5e-3\n')), 0.0025);
  t.true(Number.isNaN(unpickle(P(OP.FLOAT, 'nan\n'))));
  const f = Buffer.alloc(8); f.writeDoubleBE(-1.5);
  t.is(unpickle(P(OP.BINFLOAT, f)), -1.5);
  t.is(unpickle(P(OP.SHORT_BINUNICODE, 3, 'abc')), 'abc');
  t.is(unpickle(P(OP.BINUNICODE8, u64(5), Buffer.from('é✓', 'utf8'))), 'é✓');
  t.deepEqual(unpickle(P(OP.SHORT_BINBYTES, 2, 1, 2)), Uint8Array.from([1, 2]));
  t.deepEqual(unpickle(P(OP.BINBYTES8, u64(1), 9)), Uint8Array.from([9]));
  t.deepEqual(unpickle(asm(OP.PROTO, 5, OP.BYTEARRAY8, u64(2), 3, 4, OP.READONLY_BUFFER, OP.STOP)), Uint8Array.from([3, 4]));
  t.deepEqual(unpickle(P(OP.SHORT_BINSTRING, 2, 'hi')), Uint8Array.from([104, 105]), 'Python 2 str comes back as bytes');
  t.deepEqual(unpickle(P(OP.MARK, OP.BININT1, 1, OP.BININT1, 2, OP.TUPLE)), [1, 2]);
  t.deepEqual(unpickle(P(OP.EMPTY_TUPLE)), []);
  t.deepEqual(unpickle(P(OP.BININT1, 1, OP.BININT1, 2, OP.BININT1, 3, OP.TUPLE3)), [1, 2, 3]);
  t.deepEqual(unpickle(P(OP.MARK, OP.BININT1, 1, OP.LIST)), [1]);
  t.deepEqual(unpickle(P(OP.EMPTY_LIST, OP.BININT1, 1, OP.APPEND, OP.MARK, OP.BININT1, 2, OP.BININT1, 3, OP.APPENDS)), [1, 2, 3]);
  t.deepEqual(unpickle(P(OP.MARK, str('a'), OP.BININT1, 1, OP.DICT)), { a: 1 });
  t.deepEqual(unpickle(P(OP.EMPTY_DICT, str('a'), OP.BININT1, 1, OP.SETITEM, OP.MARK, str('b'), OP.NONE, OP.SETITEMS)), { a: 1, b: null });
  t.deepEqual(unpickle(asm(OP.PROTO, 4, OP.EMPTY_SET, OP.MARK, OP.BININT1, 1, str('x'), OP.ADDITEMS, OP.STOP)), new Set([1, 'x']));
  t.deepEqual(unpickle(asm(OP.PROTO, 4, OP.MARK, OP.BININT1, 1, OP.FROZENSET, OP.STOP)), new Set([1]));
  t.deepEqual(unpickle(P(glob('__builtin__', 'set'), OP.EMPTY_LIST, OP.BININT1, 5, OP.APPEND, OP.TUPLE1, OP.REDUCE)), new Set([5]));
  t.deepEqual(unpickle(P(glob('_codecs', 'encode'), str('\u00ff\u0000'), str('latin1'), OP.TUPLE2, OP.REDUCE)), Uint8Array.from([255, 0]));
  t.deepEqual(unpickle(P(glob('__builtin__', 'bytes'), OP.EMPTY_TUPLE, OP.REDUCE)), new Uint8Array(0));
  // Memo: BINPUT/BINGET, LONG_BINPUT/LONG_BINGET, PUT/GET, MEMOIZE; DUP; POP; POP_MARK.
  const shared = unpickle(P(OP.EMPTY_LIST, OP.BINPUT, 0, OP.EMPTY_LIST, OP.BINGET, 0, OP.APPEND, OP.BINGET, 0, OP.APPEND));
  t.is(shared[0], shared[1], 'a memo reference is the same object twice');
  t.is(unpickle(P(OP.BININT1, 9, OP.LONG_BINPUT, u32(0), OP.POP, OP.LONG_BINGET, u32(0))), 9);
  t.is(unpickle(P(OP.BININT1, 9, OP.PUT, '0\n', OP.BININT1, 8, OP.PUT, '1\n', OP.POP, OP.POP, OP.GET, '1\n')), 8);
  // Indices run 0, 1, 2, ... as picklers number them; one that skips ahead is refused (a memo-sizing attack).
  refused(t, P(OP.BININT1, 9, OP.LONG_BINPUT, u32(2 ** 27)), { message: /memo index 134217728 skips ahead of the 0 PUTs so far/ });
  t.is(unpickle(asm(OP.PROTO, 4, OP.BININT1, 9, OP.MEMOIZE, OP.POP, OP.BINGET, 0, OP.STOP)), 9);
  t.deepEqual(unpickle(P(OP.BININT1, 1, OP.DUP, OP.TUPLE2)), [1, 1]);
  t.is(unpickle(P(OP.BININT1, 4, OP.MARK, OP.BININT1, 1, OP.BININT1, 2, OP.POP_MARK)), 4);
  t.is(unpickle(asm(OP.PROTO, 4, OP.FRAME, u64(3), OP.BININT1, 8, OP.STOP)), 8);
});

test('dicts: plain objects with str keys; __proto__ stays an own key', (t) => {
  const d = unpickle(P(OP.EMPTY_DICT, str('__proto__'), OP.EMPTY_DICT, str('polluted'), OP.NEWTRUE, OP.SETITEM, OP.SETITEM));
  t.is(Object.getPrototypeOf(d), Object.prototype);
  t.true(Object.hasOwn(d, '__proto__'));
  t.deepEqual(Object.keys(d), ['__proto__']);
  t.is({}.polluted, undefined);
  refused(t, P(OP.EMPTY_DICT, OP.BININT1, 1, OP.NONE, OP.SETITEM), { message: /dict key of type int\/float is not supported/, offset: 6 });
});

test('numpy arrays: every dtype, both byte orders, Fortran order, 0-d and scalars', (t) => {
  const le = Buffer.alloc(8); le.writeFloatLE(1.5, 0); le.writeFloatLE(-2, 4);
  const be = Buffer.alloc(8); be.writeFloatBE(1.5, 0); be.writeFloatBE(-2, 4);
  t.deepEqual(unpickle(P(arrayOps({ data: bytesOp(le) }))), { dtype: 'float32', shape: [2], data: Float32Array.from([1.5, -2]) });
  t.deepEqual(unpickle(P(arrayOps({ order: '>', data: bytesOp(be) }))).data, Float32Array.from([1.5, -2]));
  const f = Buffer.from(Int16Array.from([0, 3, 1, 4, 2, 5]).buffer);
  t.deepEqual(unpickle(P(arrayOps({ code: 'i2', shape: [2, 3], fortran: true, data: bytesOp(f) }))).data, Int16Array.from([0, 1, 2, 3, 4, 5]));
  t.deepEqual(unpickle(P(arrayOps({ code: 'b1', order: '|', shape: [3], data: bytesOp(Buffer.from([0, 2, 1])) }))).data, Uint8Array.from([0, 1, 1]), 'bool bytes are normalised to 0/1');
  t.deepEqual(unpickle(P(arrayOps({ code: 'u8', shape: [], data: bytesOp(u64(2n ** 64n - 1n)) }))), { dtype: 'uint64', shape: [], data: BigUint64Array.from([2n ** 64n - 1n]) });
  t.deepEqual(unpickle(P(arrayOps({ code: 'f8', shape: [0, 3], data: bytesOp(Buffer.alloc(0)) }))).data, new Float64Array(0));
  const scalar = (code, order, bytes) => unpickle(P(glob('numpy.core.multiarray', 'scalar'), dtypeOps(code, order), OP.SHORT_BINBYTES, bytes.length, bytes, OP.TUPLE2, OP.REDUCE));
  t.is(scalar('f2', '<', Buffer.from([0x00, 0x3c])), 1);
  t.is(scalar('f4', '>', Buffer.from([0x3f, 0xc0, 0, 0])), 1.5);
  t.is(scalar('i8', '<', u64(2n ** 64n - 3n)), -3n);
  t.is(scalar('u1', '|', Buffer.from([200])), 200);
  t.is(scalar('b1', '|', Buffer.from([1])), true);
  // numpy 2 spells the module numpy._core.
  t.is(unpickle(P(glob('numpy._core.multiarray', 'scalar'), dtypeOps('i4'), OP.SHORT_BINBYTES, 4, i32(-9), OP.TUPLE2, OP.REDUCE)), -9);
});

test('numpy arrays are views of the pickle bytes when aligned, copies otherwise', (t) => {
  const payload = Buffer.alloc(4096);
  const head = P(arrayOps({ code: 'f8', shape: [512], data: asm(OP.BINBYTES, u32(4096)) })).subarray(0, -3);
  const buf = Buffer.alloc(64 + head.length + 4096 + 4);
  const start = 64 - ((head.length) % 64); // payload lands at a multiple of 64 from the ArrayBuffer start
  head.copy(buf, start);
  payload.copy(buf, start + head.length);
  buf.set([OP.TUPLE, OP.BUILD, OP.STOP], start + head.length + 4096);
  const bytes = buf.subarray(start, start + head.length + 4096 + 3);
  const a = unpickle(bytes);
  t.is(a.data.buffer, buf.buffer);
  const k = ((((4 - head.length) % 8) + 8) % 8) || 8; // payload at 4 mod 8: misaligned for float64
  const misaligned = Buffer.alloc(bytes.length + k);
  bytes.copy(misaligned, k);
  const b = unpickle(misaligned.subarray(k));
  t.not(b.data.buffer, misaligned.buffer);
  t.deepEqual(b.data, a.data);
});

test('unpickleTop tells an ndarray from a dict that looks like one', (t) => {
  const fake = P(OP.MARK, str('dtype'), str('float32'), str('shape'), OP.EMPTY_LIST, str('data'), OP.EMPTY_LIST, OP.DICT);
  t.is(unpickleTop(fake).arrayShape, undefined);
  t.deepEqual(unpickleTop(P(arrayOps({ code: 'u1', order: '|', shape: [1], data: bytesOp(Buffer.from([1])) }))).arrayShape, [1]);
});

// --- what is refused ---------------------------------------------------------

test('globals outside the allow-list are refused with their name and offset', (t) => {
  refused(t, P(glob('os', 'system'), str('echo hi'), OP.TUPLE1, OP.REDUCE), { message: /global 'os\.system' is refused by GLOBAL/, offset: 2 });
  refused(t, asm(OP.PROTO, 4, OP.SHORT_BINUNICODE, 8, 'builtins', OP.SHORT_BINUNICODE, 4, 'eval', OP.STACK_GLOBAL, OP.STOP), { message: /'builtins\.eval' is refused by STACK_GLOBAL/, offset: 18 });
  for (const [m, n] of [['builtins', 'getattr'], ['numpy', 'load'], ['numpy.lib.npyio', 'load'], ['__builtin__', 'eval'], ['subprocess', 'Popen'], ['torch', 'load'], ['copyreg', '_reconstructor'], ['numpy.core.multiarray', 'frombuffer']]) {
    refused(t, P(glob(m, n)), { message: new RegExp(`'${m.replace(/\./g, '\\.')}\\.${n}' is refused`), offset: 2 });
  }
  refused(t, P(OP.GLOBAL, 'os'), { message: /GLOBAL module: no newline/ });
});

test('object-creating and external-reference opcodes are refused by name', (t) => {
  const cases = [
    [OP.INST, 'INST'], [OP.OBJ, 'OBJ'], [OP.NEWOBJ, 'NEWOBJ'], [OP.NEWOBJ_EX, 'NEWOBJ_EX'], [OP.PERSID, 'PERSID'],
    [OP.BINPERSID, 'BINPERSID'], [OP.EXT1, 'EXT1'], [OP.EXT2, 'EXT2'], [OP.EXT4, 'EXT4'], [OP.NEXT_BUFFER, 'NEXT_BUFFER'],
  ];
  for (const [code, name] of cases) refused(t, P(OP.NONE, OP.NONE, code), { message: new RegExp(`opcode ${name} is refused`), offset: 4 });
  refused(t, P(OP.STRING, "x\n"), { message: /the STRING argument must be quoted/, offset: 2 });
  refused(t, P(0xff), { message: /unknown opcode 0xff/, offset: 2 });
  refused(t, asm(OP.PROTO, 6, OP.NONE, OP.STOP), { message: /unsupported pickle protocol 6/, offset: 0 });
});

test('REDUCE and BUILD only work on allow-listed targets', (t) => {
  refused(t, P(OP.EMPTY_LIST, OP.EMPTY_TUPLE, OP.REDUCE), { message: /REDUCE on list is refused/, offset: 4 });
  refused(t, P(glob('numpy', 'ndarray'), OP.EMPTY_TUPLE, OP.REDUCE), { message: /numpy\.ndarray may not be called directly/ });
  refused(t, P(glob('numpy.core.multiarray', '_reconstruct'), glob('numpy', 'dtype'), OP.BININT1, 0, OP.TUPLE1, OP.SHORT_BINBYTES, 1, 'b', OP.TUPLE3, OP.REDUCE), { message: /only rebuild numpy\.ndarray/ });
  refused(t, P(OP.EMPTY_DICT, OP.EMPTY_DICT, OP.BUILD), { message: /BUILD on dict is refused/, offset: 4 });
  refused(t, P(OP.EMPTY_DICT, OP.NONE, OP.APPEND), { message: /APPEND on dict is refused/ });
  refused(t, P(OP.EMPTY_LIST, str('k'), OP.NONE, OP.SETITEM), { message: /SETITEM on list is refused/ });
  refused(t, P(glob('_codecs', 'encode'), str('\u0100'), str('latin1'), OP.TUPLE2, OP.REDUCE), { message: /above U\+00FF/ });
  refused(t, P(glob('_codecs', 'encode'), str('x'), str('rot13'), OP.TUPLE2, OP.REDUCE), { message: /only accepted as encode\(str, 'latin1'\)/ });
  refused(t, P(glob('__builtin__', 'bytes'), OP.BININT1, 5, OP.TUPLE1, OP.REDUCE), { message: /bytes\(\) is only accepted without arguments/ });
});

test('numpy reconstruction checks dtypes, shapes and byte counts', (t) => {
  refused(t, P(dtypeOps('U3')), { message: /dtype 'U3' \(strings\) is not supported/ });
  refused(t, P(dtypeOps('c16')), { message: /complex/ });
  refused(t, P(glob('numpy', 'dtype'), str('V8'), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE), { message: /void/ });
  const structured = asm(glob('numpy', 'dtype'), str('f4'), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE,
    OP.MARK, OP.BININT1, 3, str('<'), OP.NONE, OP.MARK, str('a'), OP.TUPLE, OP.NONE, OP.BININT, i32(-1), OP.BININT, i32(-1), OP.BININT1, 0, OP.TUPLE, OP.BUILD);
  refused(t, P(structured), { message: /structured or sub-array numpy dtypes are not supported/ });
  refused(t, P(arrayOps({ shape: [3], data: bytesOp(Buffer.alloc(8)) })), { message: /numpy\.ndarray data has 8 bytes but shape \(3\) of float32 needs 12/ });
  refused(t, P(arrayOps({ shape: [2 ** 30, 2 ** 30], data: bytesOp(Buffer.alloc(8)) })), { message: /needs 4611686018427387904|too large/ });
  refused(t, P(arrayOps({ shape: [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1], data: bytesOp(Buffer.alloc(8)) })), { message: /too large/ });
  refused(t, P(arrayOps({ shape: [1], data: str('abcd') })), { message: /data must be bytes, got str/ });
  refused(t, P(arrayOps({ shape: [1], data: bytesOp(Buffer.alloc(4)), dtype: str('f4') })), { message: /needs a built numpy\.dtype/ });
  const twice = P(arrayOps({ shape: [1], data: bytesOp(Buffer.alloc(4)) }), OP.MARK, OP.BININT1, 1, OP.TUPLE, OP.BUILD);
  refused(t, twice, { message: /BUILD applied twice/ });
  const unbuilt = P(glob('numpy.core.multiarray', '_reconstruct'), glob('numpy', 'ndarray'), OP.BININT1, 0, OP.TUPLE1, OP.SHORT_BINBYTES, 1, 'b', OP.TUPLE3, OP.REDUCE);
  refused(t, unbuilt, { message: /never given its data/ });
  refused(t, P(dtypeOps('f4')), { message: /numpy\.dtype object as a value is not supported/ });
});

test('lengths beyond the remaining bytes are refused before any allocation', (t) => {
  refused(t, P(OP.BINBYTES, u32(0xffffffff), 'abc'), { message: /BINBYTES needs 4294967295 bytes of bytes but 4 remain/, offset: 2 });
  refused(t, P(OP.BINBYTES8, u64(2n ** 63n), 'abc'), { message: /BINBYTES8 needs \d+ bytes/, offset: 2 });
  refused(t, P(OP.BINUNICODE8, u64(2n ** 64n - 1n)), { message: /BINUNICODE8 needs/ });
  refused(t, P(OP.BYTEARRAY8, u64(1e12)), { message: /BYTEARRAY8 needs 1000000000000 bytes/ });
  refused(t, P(OP.BINSTRING, i32(-1)), { message: /negative length -1/ });
  refused(t, P(OP.LONG4, u32(1e9)), { message: /integer of 1000000000 bytes exceeds the 1024-byte limit/ });
  refused(t, asm(OP.PROTO, 4, OP.FRAME, u64(1e9), OP.NONE, OP.STOP), { message: /FRAME of 1000000000 bytes but only 2 remain/ });
  refused(t, asm(OP.PROTO, 3, OP.BININT), { message: /BININT needs 4 bytes of argument but 0 remain/ });
  refused(t, asm(OP.PROTO, 3, OP.NONE), { message: /ends without STOP/, offset: 3 });
  refused(t, asm(OP.PROTO, 3, OP.NONE, OP.STOP, OP.NONE), { message: /1 unexpected bytes after STOP/, offset: 4 });
  refused(t, P(), { message: /STOP on an empty stack/ });
  refused(t, P(OP.BININT1, 1, OP.MARK, OP.TUPLE2), { message: /TUPLE2 on an empty stack/ }, 'items below a MARK are out of reach');
  refused(t, P(OP.APPENDS), { message: /APPENDS without a MARK/ });
  refused(t, P(OP.BINGET, 3), { message: /memo key 3 was never stored/ });
  refused(t, P(OP.SHORT_BINUNICODE, 2, 0xc3, 0x28), { message: /not valid UTF-8/ });
  refused(t, P(OP.INT, '1x\n'), { message: /bad integer literal/ });
  refused(t, P(OP.FLOAT, '1..2\n'), { message: /bad float literal/ });
  refused(t, P(OP.PUT, '-1\n'), { message: /bad memo index/ });
});

test('stack, memo, nesting and copy amplification are bounded', (t) => {
  const many = (n, part) => Buffer.concat(new Array(n).fill(Buffer.from(part)));
  refused(t, P(many(11, [OP.NONE]), OP.MARK, OP.TUPLE), { message: /stack exceeds 10 items/, options: { maxStack: 10 } });
  refused(t, P(OP.NONE, many(5, [OP.MEMOIZE])), { message: /memo exceeds 4 entries/, options: { maxMemo: 4 } });
  refused(t, P(many(101, [OP.MARK]), OP.NONE), { message: /MARKs nested deeper than 100/ });
  // Deep nesting without MARKs: each list is stored in the memo and appended to the previous one.
  const deep = [OP.EMPTY_LIST, OP.LONG_BINPUT, ...u32(0)];
  for (let i = 1; i <= 150; i++) deep.push(OP.EMPTY_LIST, OP.DUP, OP.LONG_BINPUT, ...u32(i), OP.LONG_BINGET, ...u32(i - 1), OP.POP, OP.POP);
  const chain = [OP.LONG_BINGET, ...u32(0)];
  for (let i = 1; i <= 150; i++) chain.push(OP.LONG_BINGET, ...u32(i - 1), OP.LONG_BINGET, ...u32(i), OP.APPEND, OP.POP);
  refused(t, P(Buffer.from(deep), Buffer.from(chain)), { message: /containers nested deeper than 100/ });
  refused(t, P(OP.EMPTY_LIST, OP.BINPUT, 0, OP.BINGET, 0, OP.APPEND), { message: /recursive list/ });
  // One 64 KiB big-endian payload referenced by many arrays: each one costs a byte-swapped copy.
  const payload = asm(OP.BINBYTES, u32(65536), Buffer.alloc(65536), OP.BINPUT, 0, OP.POP);
  const arrays = [];
  for (let i = 0; i < 200; i++) arrays.push(arrayOps({ order: '>', shape: [16384], data: asm(OP.BINGET, 0) }), OP.POP);
  refused(t, P(payload, ...arrays, OP.NONE), { message: /allocate far more than its own size/ });
});

test('pickled exploits are refused and nothing runs', (t) => {
  const marker = '/tmp/torchfit-pickle-test-pwned';
  const evil = P(glob('posix', 'system'), str(`touch ${marker}`), OP.TUPLE1, OP.REDUCE);
  refused(t, evil, { message: /posix\.system/ });
  const evil4 = asm(OP.PROTO, 4, OP.SHORT_BINUNICODE, 2, 'os', OP.SHORT_BINUNICODE, 6, 'system', OP.STACK_GLOBAL, str(`touch ${marker}`), OP.TUPLE1, OP.REDUCE, OP.STOP);
  refused(t, evil4, { message: /os\.system/ });
  t.false(existsSync(marker));
});

// --- properties --------------------------------------------------------------

const OPCODES = Object.values(OP);

test('property: random opcode streams only ever raise PickleSecurityError', (t) => {
  const arbOp = fc.tuple(fc.constantFrom(...OPCODES), fc.uint8Array({ maxLength: 6 })).map(([o, arg]) => asm(o, arg));
  holds(t, fc.property(fc.array(arbOp, { maxLength: 40 }), (ops) => {
    try {
      unpickle(asm(OP.PROTO, 4, ...ops));
    } catch (e) {
      if (!(e instanceof PickleSecurityError)) throw e;
    }
    return true;
  }), { numRuns: 3000 });
  holds(t, fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
    try {
      unpickle(bytes);
    } catch (e) {
      if (!(e instanceof PickleSecurityError)) throw e;
    }
    return true;
  }), { numRuns: 2000 });
});

const arbValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' },
    fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true }).filter((x) => !Number.isSafeInteger(x) || Object.is(x, -0)),
    fc.bigInt({ min: -(2n ** 2100n), max: 2n ** 2100n }).filter((x) => x < -(2n ** 53n) || x > 2n ** 53n),
    fc.string({ unit: 'binary' }).filter((s) => s.isWellFormed()), fc.uint8Array({ maxLength: 5000 }),
    fc.array(tie('value'), { maxLength: 5 }), tie('dict')),
  dict: fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 5 }),
}));

test('property: pickleChunks output unpickles to the same value', (t) => {
  fc.assert(fc.property(arbValue.value, (v) => {
    t.deepEqual(unpickle(Buffer.concat(pickleChunks(v))), v);
    return true;
  }), { numRuns: 300 });
});

// --- Python cross-checks -----------------------------------------------------

withNumpy("Python's pickle (protocols 2 to 5) of numpy values and builtins unpickles exactly", (t) => {
  const out = pyJson(`
import json, pickle, numpy as np
value = {
  'ints': [0, 255, 256, 65535, 65536, -1, 2**31 - 1, -2**31, 2**53, 2**63, -2**70],
  'floats': [0.1, -0.0, 1e308, float('inf')],
  'strs': ['', 'ascii', 'é✓😀' * 30],
  'bytes': b'\\x00\\xff' * 200, 'ba': bytearray(b'xyz'), 'empty': b'',
  'tuple': (1, (2, 3)), 'set': {1, 2}, 'fz': frozenset(['a']), 'none': None, 'bools': [True, False],
  'f16': np.arange(5, dtype=np.float16), 'i8be': np.arange(4, dtype='>i8') - 2, 'u4': np.array([[1, 2], [3, 4]], dtype=np.uint32).T,
  'bool': np.array([True, False]), 's64': np.float64(2.5), 'su8': np.uint8(7), 'sb': np.bool_(True), 'zero_d': np.array(3.0),
  'obj': np.array([None, 'x'], dtype=object),
}
shared = [1]
value['shared'] = [shared, shared]
print(json.dumps({str(p): pickle.dumps(value, protocol=p).hex() for p in (2, 3, 4, 5)}))`);
  for (const [p, hex] of Object.entries(out)) {
    const v = unpickle(Buffer.from(hex, 'hex'), `protocol ${p}`);
    t.deepEqual(v.ints, [0, 255, 256, 65535, 65536, -1, 2 ** 31 - 1, -(2 ** 31), 2n ** 53n, 2n ** 63n, -(2n ** 70n)], p);
    t.deepEqual(v.floats, [0.1, -0, 1e308, Infinity]);
    t.deepEqual(v.strs, ['', 'ascii', 'é✓😀'.repeat(30)]);
    t.deepEqual(v.bytes, Uint8Array.from(Buffer.from('00ff'.repeat(200), 'hex')));
    t.deepEqual(v.ba, Uint8Array.from([120, 121, 122]));
    t.deepEqual(v.empty, new Uint8Array(0));
    t.deepEqual(v.tuple, [1, [2, 3]]);
    t.deepEqual(v.set, new Set([1, 2]));
    t.deepEqual(v.fz, new Set(['a']));
    t.is(v.none, null);
    t.deepEqual(v.bools, [true, false]);
    t.deepEqual(v.f16, { dtype: 'float16', shape: [5], data: Uint16Array.from([0, 0x3c00, 0x4000, 0x4200, 0x4400]) });
    t.deepEqual(v.i8be, { dtype: 'int64', shape: [4], data: BigInt64Array.from([-2n, -1n, 0n, 1n]) });
    t.deepEqual(v.u4, { dtype: 'uint32', shape: [2, 2], data: Uint32Array.from([1, 3, 2, 4]) }, 'transposed (Fortran-ordered) array in C order');
    t.deepEqual(v.bool, { dtype: 'bool', shape: [2], data: Uint8Array.from([1, 0]) });
    t.is(v.s64, 2.5);
    t.is(v.su8, 7);
    t.is(v.sb, true);
    t.deepEqual(v.zero_d, { dtype: 'float64', shape: [], data: Float64Array.from([3]) });
    t.deepEqual(v.obj, { dtype: 'object', shape: [2], data: [null, 'x'] });
    t.is(v.shared[0], v.shared[1]);
  }
});

withNumpy("Python's pickle.loads reads what pickleChunks writes", (t) => {
  const value = {
    n: [0, 255, 65535, -1, 2 ** 31, -(2 ** 40), 2n ** 80n, -(2n ** 80n)], f: [0.5, -0, 1e-300], s: ['é✓😀', ''],
    b: Uint8Array.from([0, 1, 255]), none: null, t: true,
    a: { dtype: 'int16', shape: [2, 2], data: Int16Array.from([1, -2, 3, -4]) },
    big: { dtype: 'float64', shape: [600], data: Float64Array.from({ length: 600 }, (_, i) => i / 3) },
  };
  const got = pyJson(`
import sys, json, pickle, numpy as np
v = pickle.loads(sys.stdin.buffer.read())
def d(x):
    if isinstance(x, np.ndarray): return [x.dtype.str, list(x.shape), x.tolist()]
    if isinstance(x, dict): return {k: d(y) for k, y in x.items()}
    if isinstance(x, list): return [d(y) for y in x]
    if isinstance(x, bytes): return ['bytes', list(x)]
    if isinstance(x, int) and not isinstance(x, bool): return ['int', str(x)]
    if isinstance(x, float): return ['float', repr(x)]
    return x
print(json.dumps(d(v)))`, [], Buffer.concat(pickleChunks(value)));
  t.deepEqual(got.n, value.n.map((x) => ['int', String(x)]));
  t.deepEqual(got.f, [['float', '0.5'], ['float', '-0.0'], ['float', '1e-300']]);
  t.deepEqual(got.s, value.s);
  t.deepEqual(got.b, ['bytes', [0, 1, 255]]);
  t.is(got.none, null);
  t.is(got.t, true);
  t.deepEqual(got.a, ['<i2', [2, 2], [[1, -2], [3, -4]]]);
  t.deepEqual(got.big[2], Array.from(value.big.data));
});
