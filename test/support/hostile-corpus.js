/**
 * Hostile .npy files, each assembled by hand, and how torchfit must refuse each
 * one (error class, code, a message pattern, and whether to load it with loadNpy
 * or loadDataset). Shared by test/hostile-files.test.js, test/support/npy-fuzz.js
 * and the generator of the committed folder, scripts/fixtures/hostile-corpus.mjs.
 *
 * What is in it:
 *   - pickles that try to run code (os.system, posix.system, builtins.eval/exec,
 *     subprocess.Popen, getattr/__import__ chains, numpy's own exec gadget) through
 *     GLOBAL and STACK_GLOBAL; each would `touch` a canary file if it ran;
 *   - REDUCE on allow-listed globals with wrong arguments, BUILD on objects that
 *     take no state;
 *   - INST, OBJ, NEWOBJ, NEWOBJ_EX, PERSID, BINPERSID, EXT1/2/4;
 *   - memo bombs (huge LONG_BINGET index, more MEMOIZEs than the memo limit),
 *     stack bombs, copy amplification, self-containing lists;
 *   - deep nesting (100k MARKs, 100k EMPTY_LIST+APPEND, 100k TUPLE1, dicts);
 *   - lying .npy headers (shape larger or smaller than the data, negative dims,
 *     dims whose product overflows 64 bits, a header length beyond the file or
 *     the limit, a header nested 10,000 deep, bad versions, bad UTF-8);
 *   - length prefixes of 2^62 and 2^64-1 (BINBYTES8, BINUNICODE8, FRAME, LONG4...);
 *   - a valid dataset-format file (what np.save writes for the notebook's dict)
 *     truncated at every section boundary: inside the magic, the version, the
 *     header length, the header, before every pickle opcode, inside the array bytes;
 *   - dataset-level lies that only loadDataset catches (missing or mistyped fields).
 *
 * buildCorpus(options) returns the entries, writeCorpus(dir, options) writes them
 * with manifest.json; the byte assemblers are pickle-writer.js and npy-writer.js.
 * The canary the payloads would create is /tmp/torchfit-canary-<pid> unless a
 * caller names one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { bytes, i32, u16, u32, u64 } from './bytes.js';
import { npyHeader, objectNpy } from './npy-writer.js';
import { OP, Pickle } from './pickle-writer.js';

/**
 * The notebook's dataset format in miniature, exactly as numpy lays it out:
 * a 0-d object ndarray holding {'features': float32 (2,4,4), 'target':
 * float64 (2,), 'class_names': ['Tops', 'Bags']}, protocol 3. Returns the
 * file bytes and its section boundaries.
 */
export function miniDataset() {
  const features = new Float32Array(32).map((_, i) => i / 31);
  const target = new Float64Array([1, 2]);
  const p = new Pickle(3);
  p.reconstruct();
  // dtype('O8') with flags 63 (NPY_OBJECT_DTYPE_FLAGS), as numpy writes it: without them numpy reads the list as raw bytes.
  p.op(OP.MARK).int(1).op(OP.EMPTY_TUPLE).dtype('O8', '|', 63).op(OP.NEWFALSE);
  p.op(OP.EMPTY_LIST).op(OP.EMPTY_DICT).op(OP.MARK);
  p.str('features').array('f4', [2, 4, 4], Buffer.from(features.buffer));
  p.str('target').array('f8', [2], Buffer.from(target.buffer));
  p.str('class_names').op(OP.EMPTY_LIST).op(OP.MARK).str('Tops').str('Bags').op(OP.APPENDS);
  p.op(OP.SETITEMS).op(OP.APPEND).op(OP.TUPLE).op(OP.BUILD).stop();
  const header = npyHeader("'|O'", '()');
  const file = Buffer.concat([header, p.bytes()]);
  const pickleStart = header.length;
  // Where the features' raw bytes start: find the 128-byte float block in the file.
  const raw = Buffer.from(features.buffer);
  const featuresData = file.indexOf(raw);
  return {
    file,
    features,
    target,
    classNames: ['Tops', 'Bags'],
    boundaries: {
      magic: [0, 1, 3, 5, 6],
      version: [7, 8],
      headerLength: [9],
      header: [10, 11, 40, header.length - 1],
      dataOffset: [pickleStart],
      pickleOps: p.opStarts.map((at) => pickleStart + at).filter((at) => at > pickleStart),
      arrayBytes: [featuresData + 1, featuresData + 64, featuresData + raw.length - 1],
      lastByte: [file.length - 1],
    },
  };
}

// --- the corpus ---------------------------------------------------------------

const NPY = 'NpyFormatError';
const PICKLE = 'PickleSecurityError';
const DATASET = 'DatasetError';
const CODES = { [NPY]: 'ERR_NPY_FORMAT', [PICKLE]: 'ERR_PICKLE_REFUSED', [DATASET]: 'ERR_DATASET' };

/**
 * Every hostile entry: { name, group, bytes, via: 'npy' | 'dataset', error,
 * code, message (RegExp source), executes (true when CPython's unpickler would
 * run the canary command), large }.
 */
export function buildCorpus({ canary = `/tmp/torchfit-canary-${process.pid}` } = {}) {
  const cmd = `touch ${canary}`;
  const out = [];
  const add = (group, name, file, error, message, extra = {}) => {
    const b = Buffer.isBuffer(file) ? file : file instanceof Pickle ? objectNpy(file) : Buffer.from(file);
    out.push({ group, name: `${group}-${name}.npy`, bytes: b, via: extra.via ?? 'npy', error, code: CODES[error], message: message.source ?? message, executes: extra.executes ?? false, large: b.length > 16 << 10 });
  };
  const pk = (proto = 2) => new Pickle(proto);

  // 1. Code execution through globals.
  add('exec', 'os-system-GLOBAL', pk(2).global('os', 'system').str(cmd).op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /global 'os\.system' is refused by GLOBAL/, { executes: true });
  add('exec', 'posix-system-STACK_GLOBAL', pk(4).stackGlobal('posix', 'system').op(OP.MEMOIZE).str(cmd).op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /global 'posix\.system' is refused by STACK_GLOBAL/, { executes: true });
  add('exec', 'builtins-eval-GLOBAL', pk(2).global('builtins', 'eval').str(`__import__('os').system(${JSON.stringify(cmd)})`).op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /global 'builtins\.eval' is refused/, { executes: true });
  add('exec', 'builtins-exec-STACK_GLOBAL', pk(4).stackGlobal('builtins', 'exec').str(`import os; os.system(${JSON.stringify(cmd)})`).op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /global 'builtins\.exec' is refused by STACK_GLOBAL/, { executes: true });
  add('exec', 'py2-builtin-eval', pk(2).global('__builtin__', 'eval').str(`__import__('os').system(${JSON.stringify(cmd)})`).op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /global '__builtin__\.eval' is refused/, { executes: true });
  add('exec', 'subprocess-Popen', pk(2).global('subprocess', 'Popen').op(OP.EMPTY_LIST).op(OP.MARK).str('touch').str(canary).op(OP.APPENDS).op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /global 'subprocess\.Popen' is refused/, { executes: true });
  add('exec', 'subprocess-check-call-STACK_GLOBAL', pk(4).stackGlobal('subprocess', 'check_call').op(OP.MARK).str('sh').str('-c').str(cmd).op(OP.LIST).op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /global 'subprocess\.check_call' is refused/, { executes: true });
  add('exec', 'getattr-import-chain', pk(2).global('builtins', 'getattr').global('builtins', '__import__').str('os').op(OP.TUPLE1).op(OP.REDUCE)
    .str('system').op(OP.TUPLE2).op(OP.REDUCE).str(cmd).op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /global 'builtins\.getattr' is refused/, { executes: true });
  // numpy's own exec gadget: numpy.testing._private.utils.runstring(code, dict) is exec(code, dict).
  add('exec', 'numpy-runstring-gadget', pk(2).global('numpy.testing._private.utils', 'runstring').str(`import os; os.system(${JSON.stringify(cmd)})`).op(OP.EMPTY_DICT).op(OP.TUPLE2).op(OP.REDUCE).stop(), PICKLE, /global 'numpy\.testing\._private\.utils\.runstring' is refused/, { executes: true });
  // Protocol 4 resolves dotted names with getattr: numpy -> numpy.testing... -> os.system.
  add('exec', 'dotted-name-walk', pk(4).stackGlobal('numpy', 'testing._private.utils.os.system').str(cmd).op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /global 'numpy\.testing\._private\.utils\.os\.system' is refused/, { executes: true });
  add('exec', 'dunder-globals-walk', pk(4).stackGlobal('numpy.core.multiarray', '_reconstruct.__globals__').stop(), PICKLE, /_reconstruct\.__globals__' is refused/);
  add('exec', 'allowed-module-other-name', pk(2).global('numpy', 'load').str('/etc/passwd').op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /global 'numpy\.load' is refused/);
  add('exec', 'nul-in-global-name', pk(2).global('numpy', 'dtype\u0000os.system').stop(), PICKLE, /is refused by GLOBAL/);
  add('exec', 'STACK_GLOBAL-non-str', pk(4).int(1).str('system').op(OP.STACK_GLOBAL).stop(), PICKLE, /STACK_GLOBAL needs two str/);
  // The exploit hidden inside the dataset's own dict, after valid data.
  {
    const p = pk(3).op(OP.EMPTY_DICT).op(OP.MARK).str('features').array('f4', [1, 2, 2], Buffer.alloc(16));
    p.str('target').global('os', 'system').str(cmd).op(OP.TUPLE1).op(OP.REDUCE).op(OP.SETITEMS).stop();
    add('exec', 'inside-dataset-dict', p, PICKLE, /global 'os\.system' is refused/, { via: 'dataset', executes: true });
  }

  // 2. REDUCE on allow-listed globals with the wrong arguments; BUILD on objects that take no state.
  add('reduce', 'reconstruct-of-str', pk(2).global('numpy.core.multiarray', '_reconstruct').str('os').int(0).op(OP.TUPLE1).bin(Buffer.from('b')).op(OP.TUPLE3).op(OP.REDUCE).stop(), PICKLE, /_reconstruct\(\) may only rebuild numpy\.ndarray/);
  add('reduce', 'reconstruct-two-args', pk(2).global('numpy.core.multiarray', '_reconstruct').global('numpy', 'ndarray').int(0).op(OP.TUPLE2).op(OP.REDUCE).stop(), PICKLE, /_reconstruct\(\) may only rebuild numpy\.ndarray/);
  add('reduce', 'ndarray-called', pk(2).global('numpy', 'ndarray').op(OP.EMPTY_TUPLE).op(OP.REDUCE).stop(), PICKLE, /numpy\.ndarray may not be called directly/);
  add('reduce', 'dtype-of-int', pk(2).global('numpy', 'dtype').int(7).op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /numpy\.dtype\(\) expects/);
  add('reduce', 'dtype-structured', pk(2).global('numpy', 'dtype').str('V16').op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /void\/structured records/);
  add('reduce', 'scalar-without-dtype', pk(2).global('numpy.core.multiarray', 'scalar').str('f8').bin(Buffer.alloc(8)).op(OP.TUPLE2).op(OP.REDUCE).stop(), PICKLE, /scalar\(\) needs a built numpy\.dtype/);
  add('reduce', 'scalar-wrong-size', pk(2).global('numpy.core.multiarray', 'scalar').dtype('f8').bin(Buffer.alloc(3)).op(OP.TUPLE2).op(OP.REDUCE).stop(), PICKLE, /needs exactly 8 bytes, got 3 bytes/);
  add('reduce', 'encode-utf16', pk(2).global('_codecs', 'encode').str('abc').str('utf-16').op(OP.TUPLE2).op(OP.REDUCE).stop(), PICKLE, /encode\(\) is only accepted as encode\(str, 'latin1'\)/);
  add('reduce', 'set-of-dict', pk(2).global('builtins', 'set').op(OP.EMPTY_DICT).op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /set\(\) expects one list argument/);
  add('reduce', 'bytes-with-args', pk(2).global('builtins', 'bytes').str(cmd).op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /bytes\(\) is only accepted without arguments/);
  add('reduce', 'args-not-tuple', pk(2).global('numpy', 'dtype').op(OP.EMPTY_LIST).op(OP.REDUCE).stop(), PICKLE, /REDUCE arguments must be a tuple, got list/);
  add('reduce', 'reduce-on-str', pk(2).str('os.system').str(cmd).op(OP.TUPLE1).op(OP.REDUCE).stop(), PICKLE, /REDUCE on str is refused/);
  add('reduce', 'frombuffer-dtype-as-str', pk(5).global('numpy.core.numeric', '_frombuffer').op(OP.MARK).bin(Buffer.alloc(8)).str('f8').int(1).op(OP.TUPLE1).str('C').op(OP.TUPLE).op(OP.REDUCE).stop(), PICKLE, /_frombuffer\(\) needs a built numeric numpy\.dtype/);
  add('build', 'on-dict', pk(2).op(OP.EMPTY_DICT).op(OP.EMPTY_DICT).str('__setstate__').str(cmd).op(OP.SETITEM).op(OP.BUILD).stop(), PICKLE, /BUILD on dict is refused/);
  add('build', 'on-list', pk(2).op(OP.EMPTY_LIST).op(OP.EMPTY_DICT).op(OP.BUILD).stop(), PICKLE, /BUILD on list is refused/);
  add('build', 'on-global', pk(2).global('numpy', 'ndarray').op(OP.EMPTY_DICT).str('__reduce__').str(cmd).op(OP.SETITEM).op(OP.BUILD).stop(), PICKLE, /BUILD on global numpy\.ndarray is refused/);
  add('build', 'on-set', pk(4).op(OP.EMPTY_SET).op(OP.NONE).op(OP.BUILD).stop(), PICKLE, /BUILD on set is refused/);
  add('build', 'array-twice', pk(2).array('f4', [1], Buffer.alloc(4)).op(OP.MARK).int(1).op(OP.MARK).int(1).op(OP.TUPLE).dtype('f4').op(OP.NEWFALSE).bin(Buffer.alloc(4)).op(OP.TUPLE).op(OP.BUILD).stop(), PICKLE, /BUILD applied twice/);
  add('build', 'array-bad-state', pk(2).reconstruct().str(cmd).op(OP.BUILD).stop(), PICKLE, /numpy\.ndarray state must be a tuple/);
  add('build', 'array-never-built', pk(2).reconstruct().stop(), PICKLE, /never given its data/);
  add('build', 'array-lies-about-bytes', pk(2).array('f4', [1000], Buffer.alloc(8)).stop(), PICKLE, /has 8 bytes but shape \(1000\) of float32 needs 4000/);
  add('build', 'array-huge-shape', pk(2).reconstruct().op(OP.MARK).int(1).op(OP.MARK).op(OP.BININT, i32(0x7fffffff)).op(OP.BININT, i32(0x7fffffff)).op(OP.BININT, i32(0x7fffffff)).op(OP.TUPLE).dtype('f8').op(OP.NEWFALSE).bin(Buffer.alloc(8)).op(OP.TUPLE).op(OP.BUILD).stop(), PICKLE, /is too large/);
  add('build', 'array-negative-dim', pk(2).reconstruct().op(OP.MARK).int(1).op(OP.MARK).op(OP.BININT, i32(-1)).op(OP.TUPLE).dtype('f8').op(OP.NEWFALSE).bin(Buffer.alloc(0)).op(OP.TUPLE).op(OP.BUILD).stop(), PICKLE, /non-negative integers/);

  // 3. Object-creating and external-reference opcodes.
  add('opcode', 'INST-os-system', pk(null).op(OP.MARK).str(cmd).op(OP.INST, 'os\nsystem\n').stop(), PICKLE, /opcode INST is refused/, { executes: true });
  add('opcode', 'OBJ-allowed-class', pk(2).op(OP.MARK).global('numpy', 'ndarray').int(3).op(OP.OBJ).stop(), PICKLE, /opcode OBJ is refused/);
  add('opcode', 'NEWOBJ', pk(2).global('numpy', 'ndarray').op(OP.EMPTY_TUPLE).op(OP.NEWOBJ).stop(), PICKLE, /opcode NEWOBJ is refused/);
  add('opcode', 'NEWOBJ_EX', pk(4).global('numpy', 'ndarray').op(OP.EMPTY_TUPLE).op(OP.EMPTY_DICT).op(OP.NEWOBJ_EX).stop(), PICKLE, /opcode NEWOBJ_EX is refused/);
  add('opcode', 'PERSID', pk(null).op(OP.PERSID, `${cmd}\n`).stop(), PICKLE, /opcode PERSID is refused/);
  add('opcode', 'BINPERSID', pk(2).str(cmd).op(OP.BINPERSID).stop(), PICKLE, /opcode BINPERSID is refused/);
  add('opcode', 'EXT1', pk(2).op(OP.EXT1, 1).stop(), PICKLE, /opcode EXT1 is refused/);
  add('opcode', 'EXT2', pk(2).op(OP.EXT2, u16(0xffff)).stop(), PICKLE, /opcode EXT2 is refused/);
  add('opcode', 'EXT4', pk(2).op(OP.EXT4, i32(0x7fffffff)).stop(), PICKLE, /opcode EXT4 is refused/);
  add('opcode', 'NEXT_BUFFER', pk(5).op(OP.NEXT_BUFFER).stop(), PICKLE, /opcode NEXT_BUFFER is refused/);
  add('opcode', 'protocol-0-STRING-unquoted', pk(null).op(OP.STRING, `${cmd}\n`).stop(), PICKLE, /the STRING argument must be quoted/);
  add('opcode', 'unknown-opcode', pk(2).op(0xff).stop(), PICKLE, /not a pickle opcode/);
  add('opcode', 'protocol-6', pk(6).op(OP.NONE).stop(), PICKLE, /unsupported pickle protocol 6/);
  add('opcode', 'bytes-after-STOP', pk(2).op(OP.NONE).stop().op(OP.GLOBAL, 'os\nsystem\n'), PICKLE, /unexpected bytes after STOP/);

  // 4. Memo, stack and copy bombs.
  add('memo', 'LONG_BINGET-4G', pk(2).op(OP.LONG_BINGET, u32(0xffffffff)).stop(), PICKLE, /memo key 4294967295 was never stored/);
  add('memo', 'BINGET-unset', pk(2).op(OP.BINGET, 200).stop(), PICKLE, /memo key 200 was never stored/);
  add('memo', 'GET-huge-text', pk(null).op(OP.GET, '99999999999999999999\n').stop(), PICKLE, /bad memo index/);
  add('memo', 'GET-negative', pk(null).op(OP.GET, '-1\n').stop(), PICKLE, /bad memo index/);
  {
    const p = pk(4).op(OP.NONE);
    p.raw(Buffer.alloc(1_000_001, OP.MEMOIZE)).stop();
    add('memo', 'MEMOIZE-1M', p, PICKLE, /memo exceeds 1000000 entries/);
  }
  {
    // LONG_BINPUT numbered as a pickler numbers: more entries than the limit are refused.
    const p = pk(2).op(OP.NONE);
    const one = Buffer.alloc(5); one[0] = OP.LONG_BINPUT;
    const chunk = Buffer.alloc(5 * 1_000_001);
    for (let i = 0; i < 1_000_001; i++) { one.writeUInt32LE(i, 1); one.copy(chunk, i * 5); }
    p.raw(chunk).stop();
    add('memo', 'LONG_BINPUT-1M', p, PICKLE, /memo exceeds 1000000 entries/);
  }
  {
    // A key far ahead of the PUTs so far (libtorch would size its memo to it).
    add('memo', 'LONG_BINPUT-2pow27', pk(2).op(OP.NONE).op(OP.LONG_BINPUT, u32(2 ** 27)).stop(), PICKLE, /memo index 134217728 skips ahead of the 0 PUTs so far/);
  }
  {
    const p = pk(2);
    p.raw(Buffer.alloc(1_000_001, OP.NONE)).stop();
    add('memo', 'stack-1M-None', p, PICKLE, /stack exceeds 1000000 items/);
  }
  add('memo', 'self-containing-list', pk(2).op(OP.EMPTY_LIST).op(OP.BINPUT, 0).op(OP.BINGET, 0).op(OP.APPEND).stop(), PICKLE, /recursive list/);
  add('memo', 'self-containing-dict', pk(2).op(OP.EMPTY_DICT).op(OP.BINPUT, 0).str('self').op(OP.BINGET, 0).op(OP.SETITEM).stop(), PICKLE, /recursive dict/);
  {
    // One 64 KB big-endian array payload, memoised, then rebuilt 200 times: each rebuild copies (byte swap).
    const p = pk(2).op(OP.EMPTY_LIST);
    p.bin(Buffer.alloc(65536, 1)).op(OP.BINPUT, 0).op(OP.POP);
    p.dtype('f4', '>').op(OP.BINPUT, 1).op(OP.POP);
    for (let i = 0; i < 200; i++) {
      p.reconstruct().op(OP.MARK).int(1).op(OP.MARK).op(OP.BININT, i32(16384)).op(OP.TUPLE).op(OP.BINGET, 1).op(OP.NEWFALSE).op(OP.BINGET, 0).op(OP.TUPLE).op(OP.BUILD).op(OP.APPEND);
    }
    add('memo', 'copy-amplification', p.stop(), PICKLE, /far more than its own size/);
  }

  // 5. Deep nesting.
  {
    const p = pk(2);
    p.raw(Buffer.alloc(100_000, OP.MARK)).stop();
    add('nesting', 'MARK-100k', p, PICKLE, /MARKs nested deeper than 100/);
  }
  {
    const p = pk(2);
    p.raw(Buffer.alloc(100_000, OP.EMPTY_LIST)).raw(Buffer.alloc(99_999, OP.APPEND)).stop();
    add('nesting', 'EMPTY_LIST-APPEND-100k', p, PICKLE, /containers nested deeper than 100/);
  }
  {
    const p = pk(2).op(OP.EMPTY_TUPLE);
    p.raw(Buffer.alloc(100_000, OP.TUPLE1)).stop();
    add('nesting', 'TUPLE1-100k', p, PICKLE, /containers nested deeper than 100/);
  }
  {
    // {'a': {'a': {'a': ...}}} 50k deep: EMPTY_DICT str('a') pushed 50k times, then SETITEM 50k times.
    const p = pk(2).op(OP.EMPTY_DICT);
    const step = bytes(OP.SHORT_BINUNICODE, 1, 'a', OP.EMPTY_DICT);
    p.raw(Buffer.concat(new Array(50_000).fill(step))).raw(Buffer.alloc(50_000, OP.SETITEM)).stop();
    add('nesting', 'dict-50k', p, PICKLE, /containers nested deeper than 100/);
  }
  {
    // Nesting inside the dataset dict: features is a list nested 1,000 deep.
    const p = pk(2).op(OP.EMPTY_DICT).str('features');
    p.raw(Buffer.alloc(1000, OP.EMPTY_LIST)).raw(Buffer.alloc(999, OP.APPEND)).op(OP.SETITEM).stop();
    add('nesting', 'inside-dataset-dict', p, PICKLE, /containers nested deeper than 100/, { via: 'dataset' });
  }
  {
    // A header literal nested 10,000 deep (format 2.0 allows a 4 GB header length).
    const text = `{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(10_000)}1${')'.repeat(10_000)}, }`;
    add('nesting', 'header-parens-10k', npyHeader('', '', { major: 2, text }), NPY, /literal nested deeper than 32/);
  }

  // 6. Lying .npy headers.
  const f4 = (shape, dataBytes, opts) => Buffer.concat([npyHeader("'<f4'", shape, opts), Buffer.alloc(dataBytes)]);
  add('header', 'shape-larger-than-data', f4('(1000, 1000)', 16), NPY, /truncated data: shape \(1000, 1000\) of <f4 needs 4000000 bytes, only 16 follow/);
  add('header', 'shape-smaller-than-data', f4('(2,)', 64), NPY, /accounts for 8 data bytes, but 64 follow/);
  add('header', 'negative-dim', f4('(-1, 4)', 16), NPY, /'shape' must be a tuple of non-negative integers, found -1/);
  add('header', 'product-overflows-int64', f4('(2147483648, 2147483648, 4, 4)', 0), NPY, /overflows any possible file size/);
  // 16 * 1048577 * 1099510579201 = 2^64 + 16: a reader multiplying in uint64 sees exactly the 16 bytes that follow.
  add('header', 'product-wraps-to-16', Buffer.concat([npyHeader("'|u1'", '(16, 1048577, 1099510579201)'), Buffer.alloc(16)]), NPY, /overflows any possible file size/);
  add('header', 'dim-beyond-2^53', f4('(9007199254740993,)', 0), NPY, /integer 9007199254740993 is too large/);
  add('header', 'dim-float', f4('(2.5,)', 10), NPY, /only decimal integers|expected ',' or '\)'/);
  add('header', 'dim-hex', f4('(0x10,)', 64), NPY, /only decimal integers/);
  add('header', 'shape-list', f4('[4]', 16), NPY, /'shape' must be a tuple/);
  add('header', 'fortran-not-bool', f4('(4,)', 16, { fortran: "'yes'" }), NPY, /'fortran_order' must be True or False/);
  add('header', 'extra-key', Buffer.concat([npyHeader('', '', { text: "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), '__class__': 'os.system', }" }), Buffer.alloc(16)]), NPY, /must have exactly the keys/);
  add('header', 'not-a-dict', Buffer.concat([npyHeader('', '', { text: "__import__('os').system('true')" }), Buffer.alloc(16)]), NPY, /not a valid Python literal/);
  add('header', 'descr-complex', Buffer.concat([npyHeader("'<c8'", '(2,)'), Buffer.alloc(16)]), NPY, /complex numbers/);
  add('header', 'descr-structured', Buffer.concat([npyHeader("[('a', '<f4')]", '(2,)'), Buffer.alloc(8)]), NPY, /structured\/record arrays/);
  add('header', 'descr-unicode', Buffer.concat([npyHeader("'<U8'", '(2,)'), Buffer.alloc(64)]), NPY, /strings/);
  {
    const b = f4('(4,)', 16);
    b.writeUInt16LE(0xffff, 8);
    add('header', 'header-length-beyond-file', b, NPY, /truncated header: it declares 65535 bytes/);
  }
  {
    const b = Buffer.concat([npyHeader("'<f4'", '(4,)', { major: 2 }), Buffer.alloc(16)]);
    b.writeUInt32LE(0xffffffff, 8);
    add('header', 'header-length-4G', b, NPY, /header length 4294967295 exceeds the 1048576-byte limit/);
  }
  {
    const b = f4('(4,)', 16);
    b[6] = 4;
    add('header', 'version-4', b, NPY, /unsupported \.npy format version 4\.0/);
  }
  {
    const b = Buffer.concat([npyHeader("'<f4'", '(4,)', { major: 3 }), Buffer.alloc(16)]);
    b[20] = 0xff; // inside "'descr'": not UTF-8
    add('header', 'v3-invalid-utf8', b, NPY, /not valid UTF-8/);
  }
  {
    const b = f4('(4,)', 16);
    b[0] = 0x50; b[1] = 0x4b; // a zip (torch.save) file is not .npy
    add('header', 'bad-magic', b, NPY, /not a \.npy file: expected the magic bytes/);
  }
  add('header', 'object-shape-disagrees', Buffer.concat([npyHeader("'|O'", '(3,)'), pk(2).array('f4', [2], Buffer.alloc(8)).stop().bytes()]), NPY, /disagrees with the pickled array's shape \(2\)/);
  add('header', 'object-no-payload', npyHeader("'|O'", '()'), NPY, /the object array has no pickle payload/);

  // 7. Lengths of 2^62 and more.
  add('length', 'BINBYTES8-2^62', pk(4).op(OP.BINBYTES8, u64(2n ** 62n), 'x').stop(), PICKLE, /BINBYTES8 needs 9007199254740991 bytes of bytes but 2 remain/);
  add('length', 'BINUNICODE8-2^64-1', pk(4).op(OP.BINUNICODE8, u64(2n ** 64n - 1n)).stop(), PICKLE, /truncated pickle: BINUNICODE8 needs/);
  add('length', 'BYTEARRAY8-2^62', pk(5).op(OP.BYTEARRAY8, u64(2n ** 62n)).stop(), PICKLE, /truncated pickle: BYTEARRAY8 needs/);
  add('length', 'FRAME-2^62', pk(4).op(OP.FRAME, u64(2n ** 62n)).op(OP.NONE).stop(), PICKLE, /FRAME of 9007199254740991 bytes but only 2 remain/);
  add('length', 'BINUNICODE-4G', pk(3).op(OP.BINUNICODE, u32(0xffffffff)).stop(), PICKLE, /BINUNICODE needs 4294967295 bytes/);
  add('length', 'BINBYTES-4G', pk(3).op(OP.BINBYTES, u32(0xffffffff)).stop(), PICKLE, /BINBYTES needs 4294967295 bytes/);
  add('length', 'BINSTRING-negative', pk(2).op(OP.BINSTRING, i32(-1)).stop(), PICKLE, /negative length -1/);
  add('length', 'LONG4-2G', pk(2).op(OP.LONG4, i32(0x7fffffff)).stop(), PICKLE, /integer of 2147483647 bytes exceeds the 1024-byte limit/);
  add('length', 'LONG4-negative', pk(2).op(OP.LONG4, i32(-5)).stop(), PICKLE, /negative length -5/);
  add('length', 'LONG-10k-digits', pk(null).op(OP.LONG, `${'9'.repeat(10_000)}L\n`).stop(), PICKLE, /no newline within 256 bytes/);
  add('length', 'GLOBAL-no-newline', pk(2).op(OP.GLOBAL, 'o'.repeat(1000)).stop(), PICKLE, /GLOBAL module: no newline within 256 bytes/);

  // 8. A valid dataset-format file truncated at every section boundary.
  const mini = miniDataset();
  const cuts = new Map();
  for (const [section, offsets] of Object.entries(mini.boundaries)) for (const at of offsets) if (!cuts.has(at)) cuts.set(at, section);
  for (const [at, section] of [...cuts].sort((a, b) => a[0] - b[0])) {
    const cut = mini.file.subarray(0, at);
    let error; let message;
    if (at < 10) { error = NPY; message = at === 0 ? /truncated preamble: a \.npy file needs at least 10 bytes, this one has 0/ : /truncated preamble/; }
    else if (at < mini.boundaries.dataOffset[0]) { error = NPY; message = /truncated header/; }
    else if (at === mini.boundaries.dataOffset[0]) { error = NPY; message = /no pickle payload/; }
    else { error = PICKLE; message = /truncated pickle/; }
    add('truncated', `${String(at).padStart(4, '0')}-${section}`, Buffer.from(cut), error, message, { via: 'dataset' });
  }

  // 9. Dataset-level lies: valid pickles that loadDataset must refuse.
  const dict = (build) => { const p = pk(3).op(OP.EMPTY_DICT).op(OP.MARK); build(p); return p.op(OP.SETITEMS).stop(); };
  add('dataset', 'top-level-list', pk(3).op(OP.EMPTY_LIST).stop(), DATASET, /expected a pickled dict/, { via: 'dataset' });
  add('dataset', 'top-level-bytes', pk(3).bin(Buffer.from(cmd)).stop(), DATASET, /expected a pickled dict/, { via: 'dataset' });
  add('dataset', 'plain-array', Buffer.concat([npyHeader("'<f4'", '(2, 4, 4)'), Buffer.alloc(128)]), DATASET, /expected a pickled dict/, { via: 'dataset' });
  add('dataset', 'missing-features', dict((p) => p.str('target').array('f8', [2], Buffer.alloc(16))), DATASET, /field 'features'\): missing field/, { via: 'dataset' });
  add('dataset', 'proto-key-instead-of-features', dict((p) => p.str('__proto__').op(OP.EMPTY_DICT).str('features').array('f4', [2, 2, 2], Buffer.alloc(32)).op(OP.SETITEM).str('target').array('f8', [2], Buffer.alloc(16))), DATASET, /field 'features'\): missing field/, { via: 'dataset' });
  add('dataset', 'features-is-list', dict((p) => p.str('features').op(OP.EMPTY_LIST).str('target').array('f8', [2], Buffer.alloc(16))), DATASET, /field 'features'\): expected a numpy array/, { via: 'dataset' });
  add('dataset', 'features-float64', dict((p) => p.str('features').array('f8', [2, 2, 2], Buffer.alloc(64)).str('target').array('f8', [2], Buffer.alloc(16))), DATASET, /field 'features'\): expected float32 of shape \(N, H, W\), got float64/, { via: 'dataset' });
  add('dataset', 'features-2d', dict((p) => p.str('features').array('f4', [2, 4], Buffer.alloc(32)).str('target').array('f8', [2], Buffer.alloc(16))), DATASET, /field 'features'\)/, { via: 'dataset' });
  add('dataset', 'target-length-mismatch', dict((p) => p.str('features').array('f4', [2, 2, 2], Buffer.alloc(32)).str('target').array('f8', [3], Buffer.alloc(24))), DATASET, /field 'target'\): expected a numeric array of shape \(2,\)/, { via: 'dataset' });
  add('dataset', 'class-names-not-str', dict((p) => p.str('features').array('f4', [2, 2, 2], Buffer.alloc(32)).str('target').array('f8', [2], Buffer.alloc(16)).str('class_names').op(OP.EMPTY_LIST).int(1).op(OP.APPEND)), DATASET, /field 'class_names'\): expected a list of str/, { via: 'dataset' });
  add('dataset', 'hasOwnProperty-shadowed', dict((p) => p.str('hasOwnProperty').int(1).str('constructor').str(cmd).str('target').array('f8', [2], Buffer.alloc(16))), DATASET, /field 'features'\): missing field/, { via: 'dataset' });
  return out;
}

/**
 * The entries worth committing: none over 16 KB (the 100k-opcode bombs) and,
 * of the truncations, the first cut in each section.
 */
export function committedSelection(entries) {
  const seen = new Set();
  return entries.filter((e) => {
    if (e.large) return false;
    if (e.group !== 'truncated') return true;
    const section = e.name.replace(/^truncated-\d+-/, '');
    if (seen.has(section)) return false;
    seen.add(section);
    return true;
  });
}

/**
 * Writes the corpus into `dir` with manifest.json (one entry per line).
 * `all: false` writes only {@link committedSelection}.
 */
export function writeCorpus(dir, { canary = `/tmp/torchfit-canary-${process.pid}`, all = true } = {}) {
  const built = buildCorpus({ canary });
  const entries = all ? built : committedSelection(built);
  mkdirSync(dir, { recursive: true });
  for (const e of entries) writeFileSync(join(dir, e.name), e.bytes);
  const lines = entries.map(({ bytes: b, large: _large, ...rest }) => JSON.stringify({ ...rest, size: b.length }));
  writeFileSync(join(dir, 'manifest.json'), `{"canary":${JSON.stringify(canary)},"entries":[\n${lines.join(',\n')}\n]}\n`);
  return entries;
}
