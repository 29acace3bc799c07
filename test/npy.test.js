import test from 'ava';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy, loadNpy, parseNpy, saveNpy } from '../dist/data/index.js';
import { InvalidOptionError, NpyFormatError, PickleSecurityError, TorchfitError } from '../dist/errors.js';
import { command, needs, python } from './support/conditional.js';
import { FIXTURES } from './support/fixtures.js';
import { rawNpy } from './support/npy-writer.js';
import { holds } from './support/property.js';
import { py, pyJson } from './support/python.js';

const manifest = JSON.parse(await readFile(join(FIXTURES, 'npy.json'), 'utf8'));
const fixture = (name) => readFile(join(FIXTURES, 'npy', name));
const withNumpy = needs(python('numpy'));
const CTORS = {
  bool: Uint8Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array,
  uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array, float16: Uint16Array, float32: Float32Array, float64: Float64Array,
};

function expectedValues(e) {
  return e.values.map((v) => (e.dtype === 'int64' || e.dtype === 'uint64' ? BigInt(v) : v));
}

const tmp = await mkdtemp(join(tmpdir(), 'torchfit-npy-'));
test.after.always(() => rm(tmp, { recursive: true, force: true }));

function throwsNpy(t, fn, { message, offset } = {}) {
  const e = t.throws(fn, { instanceOf: NpyFormatError });
  t.is(e.code, 'ERR_NPY_FORMAT');
  if (message) t.regex(e.message, message);
  if (offset !== undefined) t.is(e.offset, offset);
  return e;
}

test('reads numpy-written arrays of every dtype, both byte orders, Fortran order, 0-d, empty, v2 and v3', async (t) => {
  for (const [name, e] of Object.entries(manifest.arrays)) {
    const a = parseNpy(await fixture(name), name);
    t.is(a.dtype, e.dtype, name);
    t.deepEqual(a.shape, e.shape, name);
    t.true(a.data instanceof CTORS[e.dtype], name);
    t.deepEqual(Array.from(a.data), expectedValues(e), name);
  }
});

test('views the file buffer when aligned and native-endian, copies otherwise', async (t) => {
  const le = await fixture('float64.npy');
  const a = parseNpy(le, 'float64.npy');
  t.is(a.data.buffer, le.buffer, 'little-endian data is a view');
  t.is(a.data.byteOffset, le.byteOffset + 128);
  const be = await fixture('float64_be.npy');
  const b = parseNpy(be, 'float64_be.npy');
  t.not(b.data.buffer, be.buffer, 'big-endian data is swapped into a copy');
  t.deepEqual(Array.from(b.data), Array.from(a.data));
  // Misaligned: the same file shifted by one byte in memory still parses (by copying).
  const shifted = Buffer.alloc(le.length + 1);
  le.copy(shifted, 1);
  const c = parseNpy(shifted.subarray(1), 'shifted');
  t.deepEqual(Array.from(c.data), Array.from(a.data));
});

test('writes plain arrays byte-identical to np.save', async (t) => {
  for (const [name] of Object.entries(manifest.arrays)) {
    if (name.includes('_be') || name.startsWith('fortran') || name.startsWith('v')) continue;
    const bytes = await fixture(name);
    t.true(encodeNpy(parseNpy(bytes, name)).equals(bytes), name);
  }
});

test('bool bytes other than 0/1 (numpy accepts any) are normalised to 0/1', (t) => {
  const a = parseNpy(rawNpy("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", Buffer.from([0, 1, 2, 255])));
  t.deepEqual(a, { dtype: 'bool', shape: [4], data: Uint8Array.from([0, 1, 1, 1]) });
});

test('header needing more than 65535 bytes is written as version 2.0', (t) => {
  const shape = new Array(25000).fill(1);
  const buf = encodeNpy({ dtype: 'uint8', shape, data: new Uint8Array(1) });
  t.is(buf[6], 2);
  t.is((12 + buf.readUInt32LE(8)) % 64, 0);
  t.deepEqual(parseNpy(buf).shape, shape);
});

test('bad magic, version and truncation errors name the file and offset', (t) => {
  throwsNpy(t, () => parseNpy(Buffer.from('PK\x03\x04hello world'), 'x.npy'), { message: /^x\.npy at byte 0: not a \.npy file/, offset: 0 });
  throwsNpy(t, () => parseNpy(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x58]), 'x.npy'), { offset: 5 });
  throwsNpy(t, () => parseNpy(Buffer.from([0x93, 0x4e, 0x55, 0x4d]), 'x.npy'), { message: /truncated preamble/, offset: 4 });
  const good = rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(4));
  const v9 = Buffer.from(good); v9[6] = 9;
  throwsNpy(t, () => parseNpy(v9, 'x.npy'), { message: /unsupported \.npy format version 9\.0/, offset: 6 });
  const v11 = Buffer.from(good); v11[7] = 1;
  throwsNpy(t, () => parseNpy(v11, 'x.npy'), { message: /version 1\.1/ });
  throwsNpy(t, () => parseNpy(good.subarray(0, 40), 'x.npy'), { message: /truncated header/, offset: 40 });
  throwsNpy(t, () => parseNpy(good.subarray(0, good.length - 1), 'x.npy'), { message: /truncated data: shape \(1\) of <f4 needs 4 bytes, only 3/, offset: good.length - 1 });
  throwsNpy(t, () => parseNpy(Buffer.concat([good, Buffer.alloc(4)]), 'x.npy'), { message: /accounts for 4 data bytes, but 8 follow/, offset: good.length });
});

test('headers that are not the expected Python literal dict', (t) => {
  const cases = [
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,), ", /not a valid Python literal/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk", /not a valid Python literal: unexpected "j"/],
    ["__import__('os').system('ls')", /not a valid Python literal/],
    ["['descr', '<f4']", /not a Python dict/],
    ["{'descr': '<f4', 'shape': (1,), }", /exactly the keys/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", /exactly the keys/],
    ["{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", /'fortran_order' must be True or False/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': [1], }", /'shape' must be a tuple/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", /non-negative integers/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,), }", /not a valid Python literal/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", /too large/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': 3, }", /'shape' must be a tuple/],
  ];
  for (const [text, message] of cases) {
    const e = throwsNpy(t, () => parseNpy(rawNpy(text), 'h.npy'), { message });
    t.true(e.offset >= 10 && e.offset <= 128, `${text}: offset ${e.offset} inside the header`);
  }
  // (1) without a comma is the int 1, not a tuple, exactly as Python reads it.
  throwsNpy(t, () => parseNpy(rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1), }", Buffer.alloc(4))), { message: /'shape' must be a tuple/ });
  // Python 2 long suffix, double quotes and escapes are accepted.
  const ok = parseNpy(rawNpy('{"descr": "<u\\x32", "fortran_order": False, "shape": (2L,), }', Buffer.alloc(4)));
  t.deepEqual(ok.shape, [2]);
  t.is(ok.dtype, 'uint16');
});

test('unsupported dtypes are refused by name', (t) => {
  const cases = [
    ['<U3', /strings/], ['|S4', /strings/], ['<c16', /complex/], ['<M8[ns]', /datetimes/], ['|V8', /void/], ['<f16', /not supported/],
  ];
  for (const [descr, message] of cases) {
    throwsNpy(t, () => parseNpy(rawNpy(`{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }`, Buffer.alloc(16))), { message });
  }
  throwsNpy(t, () => parseNpy(rawNpy("{'descr': [('a', '<i4'), ('b', '<f8')], 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(12))), { message: /structured/ });
});

test('shapes whose byte count overflows or exceeds the file', (t) => {
  throwsNpy(t, () => parseNpy(rawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (4503599627370496, 4503599627370496), }")), { message: /overflows/ });
  throwsNpy(t, () => parseNpy(rawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000), }", Buffer.alloc(8))), { message: /truncated data/ });
  // A zero dimension makes any other dimension harmless.
  t.deepEqual(parseNpy(rawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4503599627370496), }")).data.length, 0);
});

test('version 2.0 and 3.0 headers (UTF-8 in 3.0)', (t) => {
  const v2 = parseNpy(rawNpy("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", Buffer.from([1, 0, 2, 0]), 2));
  t.deepEqual(Array.from(v2.data), [1, 2]);
  const bad = rawNpy("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", Buffer.from([1, 0, 2, 0]), 3);
  bad[20] = 0xff;
  throwsNpy(t, () => parseNpy(bad), { message: /not valid UTF-8/, offset: 12 });
});

test('object arrays: dicts pickled by np.save and by protocols 2, 4 and 5', async (t) => {
  for (const [name, e] of Object.entries(manifest.pickles)) {
    const v = parseNpy(await fixture(name), name);
    if (name === 'object_2x2.npy') {
      t.deepEqual(v, { dtype: 'object', shape: [2, 2], data: ['a', 1, null, [2]] });
      continue;
    }
    t.deepEqual(Object.keys(v), Object.keys(e), name);
    for (const key of ['features', 'target']) {
      t.is(v[key].dtype, e[key].dtype);
      t.deepEqual(v[key].shape, e[key].shape);
      t.deepEqual(Array.from(v[key].data), e[key].values);
    }
    t.deepEqual(v.class_names, e.class_names);
    t.is(v.count, 3);
    t.is(v.ratio, 0.25);
    t.is(v.flag, true);
    t.is(v.nothing, null);
    t.deepEqual(v.nested, e.nested);
    t.is(v.scalar32, 1.5);
    t.is(v.scalar64i, -7n);
    t.deepEqual(Array.from(v.bytes), e.bytes);
  }
});

test('object arrays are refused when allowPickle is false, and pickled exploits always', async (t) => {
  const e = t.throws(() => parseNpy(encodeNpy({ a: 1 }), 'd.npy', { allowPickle: false }), { instanceOf: PickleSecurityError });
  t.is(e.code, 'ERR_PICKLE_REFUSED');
  for (const name of ['evil_os_system_p2.npy', 'evil_os_system_p4.npy']) {
    const bytes = await fixture(name);
    const err = t.throws(() => parseNpy(bytes, name), { instanceOf: PickleSecurityError });
    t.regex(err.message, /global '(posix|os)\.system' is refused/);
    t.regex(err.message, /file byte \d+/);
  }
});

test('an object array whose pickled shape disagrees with the header is refused', async (t) => {
  const buf = Buffer.from(await fixture('dict_np_save.npy'));
  const text = buf.subarray(10, 128).toString('latin1').replace("'shape': (), ", "'shape': (1,)");
  buf.write(text, 10, 'latin1');
  throwsNpy(t, () => parseNpy(buf, 'm.npy'), { message: /header shape \(1\) disagrees with the pickled array's shape \(\)/ });
});

test('saveNpy writes atomically and leaves no temporary files', async (t) => {
  const dir = await mkdtemp(join(tmp, 'atomic-'));
  const path = join(dir, 'a.npy');
  await saveNpy(path, { dtype: 'int32', shape: [3], data: Int32Array.from([1, 2, 3]) });
  await saveNpy(path, { dtype: 'int32', shape: [2], data: Int32Array.from([4, 5]) });
  t.deepEqual(Array.from((await loadNpy(path)).data), [4, 5]);
  await t.throwsAsync(saveNpy(path, { dtype: 'int32', shape: [3], data: Int32Array.from([1]) }), { instanceOf: InvalidOptionError, message: /value\.data/ });
  await t.throwsAsync(saveNpy(join(dir, 'missing-dir', 'b.npy'), { dtype: 'int32', shape: [1], data: Int32Array.from([1]) }), { code: 'ENOENT' });
  t.deepEqual(await readdir(dir), ['a.npy']);
  t.deepEqual(Array.from((await loadNpy(path)).data), [4, 5], 'the failed saves left the old file intact');
});

test('saveNpy validates what it is given', async (t) => {
  const bad = [
    [{ dtype: 'complex64', shape: [1], data: new Float32Array(2) }, /value\.dtype/],
    [{ dtype: 'float32', shape: [1], data: new Float64Array(1) }, /value\.data/],
    [{ dtype: 'float32', shape: [-1], data: new Float32Array(1) }, /value\.shape/],
    [[1, 2], /^Invalid option value:/],
    [new Map(), /^Invalid option value:/],
    [{ f: () => 1 }, /value\.f/],
    [{ deep: { x: Symbol('s') } }, /value\.deep\.x/],
  ];
  for (const [value, message] of bad) {
    await t.throwsAsync(saveNpy(join(tmp, 'bad.npy'), value), { instanceOf: InvalidOptionError, message });
  }
  const cyclic = { a: [] };
  cyclic.a.push(cyclic);
  await t.throwsAsync(saveNpy(join(tmp, 'bad.npy'), cyclic), { instanceOf: InvalidOptionError, message: /without cycles/ });
});

// --- property tests ----------------------------------------------------------

const DTYPES = Object.keys(CTORS);

function arbValues(dtype, n) {
  switch (dtype) {
    case 'bool': return fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n });
    case 'int8': return fc.array(fc.integer({ min: -128, max: 127 }), { minLength: n, maxLength: n });
    case 'uint8': return fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n });
    case 'int16': return fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: n, maxLength: n });
    case 'uint16': case 'float16': return fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: n, maxLength: n });
    case 'int32': return fc.array(fc.integer(), { minLength: n, maxLength: n });
    case 'uint32': return fc.array(fc.nat({ max: 0xffffffff }), { minLength: n, maxLength: n });
    case 'int64': return fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: n, maxLength: n });
    case 'uint64': return fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: n, maxLength: n });
    case 'float32': return fc.array(fc.float({ noNaN: true }), { minLength: n, maxLength: n });
    default: return fc.array(fc.double(), { minLength: n, maxLength: n });
  }
}

const arbNdArray = fc.record({
  dtype: fc.constantFrom(...DTYPES),
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
}).chain(({ dtype, shape }) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return arbValues(dtype, n).map((values) => ({ dtype, shape, data: CTORS[dtype].from(values) }));
});

test('property: every dtype and shape round-trips through encodeNpy/parseNpy', (t) => {
  holds(t, fc.property(arbNdArray, (a) => {
    const back = parseNpy(encodeNpy(a));
    return back.dtype === a.dtype && back.shape.length === a.shape.length && back.shape.every((d, i) => d === a.shape[i])
      && back.data.constructor === a.data.constructor && Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength)
      .equals(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength));
  }), { numRuns: 400 });
});

const arbDictValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true }).filter((x) => !Number.isInteger(x)),
    fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }).filter((x) => x < -(2n ** 53n) || x > 2n ** 53n),
    fc.string({ unit: 'grapheme' }), fc.uint8Array({ maxLength: 300 }), arbNdArray,
    fc.array(tie('value'), { maxLength: 4 }), tie('dict')),
  dict: fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), tie('value'), { maxKeys: 4 }),
}));

test('property: dicts of arrays, strings, numbers and lists round-trip through the pickle', (t) => {
  fc.assert(fc.property(arbDictValue.dict, (d) => {
    const back = parseNpy(encodeNpy(d));
    t.deepEqual(normalise(back), normalise(d));
    return true;
  }), { numRuns: 200 });
});

/** Typed arrays compare by bytes, so -0/NaN patterns are checked exactly. */
function normalise(v) {
  if (ArrayBuffer.isView(v)) return [v.constructor.name, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')];
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return v;
}

function onlyTypedErrors(buf) {
  try {
    parseNpy(buf, 'fuzz.npy');
  } catch (e) {
    if (!(e instanceof NpyFormatError || e instanceof PickleSecurityError)) throw e;
  }
  return true;
}

test('property: random bytes only ever raise our typed errors', (t) => {
  holds(t, fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => onlyTypedErrors(Buffer.from(bytes))), { numRuns: 1000 });
  const magic = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
  holds(t, fc.property(fc.integer({ min: 1, max: 3 }), fc.uint8Array({ maxLength: 300 }),
    (v, rest) => onlyTypedErrors(Buffer.concat([magic, Buffer.from([v, 0]), Buffer.from(rest)]))), { numRuns: 1000 });
});

test('property: mutated valid files only ever raise our typed errors', async (t) => {
  const seeds = await Promise.all(['dict_np_save.npy', 'dict_protocol2.npy', 'dict_protocol4.npy', 'dict_protocol5.npy',
    'object_2x2.npy', 'fortran_int32.npy', 'float16_be.npy', 'v3_uint16.npy'].map(fixture));
  const arbMutation = fc.record({
    seed: fc.nat({ max: seeds.length - 1 }),
    edits: fc.array(fc.record({ at: fc.nat(), kind: fc.constantFrom('set', 'insert', 'delete', 'truncate'), byte: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 6 }),
  });
  holds(t, fc.property(arbMutation, ({ seed, edits }) => {
    let b = Buffer.from(seeds[seed]);
    for (const { at, kind, byte } of edits) {
      const i = at % (b.length + 1);
      if (kind === 'set' && i < b.length) b[i] = byte;
      else if (kind === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
      else if (kind === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
      else if (kind === 'truncate') b = b.subarray(0, i);
    }
    return onlyTypedErrors(b);
  }), { numRuns: 3000 });
});

test('errors are TorchfitErrors with a stable code', (t) => {
  const e = t.throws(() => parseNpy(Buffer.alloc(3), 'z.npy'));
  t.true(e instanceof TorchfitError);
  t.is(e.file, 'z.npy');
});

// --- numpy cross-checks ------------------------------------------------------

const sha = (a) => createHash('sha256').update(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)).digest('hex');
const PY_DIGEST = `
import sys, json, hashlib, numpy as np
out = {}
for p in sys.argv[1:]:
    a = np.load(p)
    a = a.astype(a.dtype.newbyteorder('='), order='C')
    out[p] = {'dtype': a.dtype.name, 'shape': list(a.shape), 'sha': hashlib.sha256(a.tobytes()).hexdigest()}
print(json.dumps(out))`;

withNumpy('numpy reads what saveNpy writes, for every dtype', async (t) => {
  const samples = fc.sample(arbNdArray, { numRuns: 60, seed: 42 });
  const paths = [];
  for (const [i, a] of samples.entries()) {
    const p = join(tmp, `ours-${i}.npy`);
    await saveNpy(p, a);
    paths.push(p);
  }
  const got = pyJson(PY_DIGEST, paths);
  samples.forEach((a, i) => {
    const g = got[paths[i]];
    t.is(g.dtype, a.dtype);
    t.deepEqual(g.shape, a.shape);
    t.is(g.sha, sha(a));
  });
});

withNumpy('we read what numpy writes: random arrays, both byte orders, C and Fortran order', async (t) => {
  const manifestOut = pyJson(`
import sys, json, hashlib, numpy as np
rng = np.random.default_rng(7)
out = []
i = 0
for code in ['?', 'i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'f2', 'f4', 'f8']:
    for order in '<>':
        for fortran in (False, True):
            shape = tuple(int(x) for x in rng.integers(0, 5, size=int(rng.integers(0, 4))))
            raw = rng.integers(0, 256, size=int(np.prod(shape)) * np.dtype(code).itemsize, dtype=np.uint8).tobytes()
            a = np.frombuffer(raw, dtype=np.dtype(code).newbyteorder(order)).reshape(shape)
            if code == '?': a = a.view(np.uint8) % 3 == 0  # numpy keeps any byte in a bool; we promise 0/1
            if fortran: a = np.asfortranarray(a)
            p = sys.argv[1] + '/np-%d.npy' % i; i += 1
            np.save(p, a)
            c = a.astype(a.dtype.newbyteorder('='), order='C')
            out.append({'path': p, 'dtype': c.dtype.name, 'shape': list(c.shape), 'sha': hashlib.sha256(c.tobytes()).hexdigest()})
print(json.dumps(out))`, [tmp]);
  for (const e of manifestOut) {
    const a = await loadNpy(e.path);
    t.is(a.dtype, e.dtype, e.path);
    t.deepEqual(a.shape, e.shape, e.path);
    t.is(sha(a), e.sha, e.path);
  }
});

withNumpy("numpy's np.load(allow_pickle=True)[()] returns our dict with the same keys, dtypes, shapes and values", async (t) => {
  const p = join(tmp, 'dict.npy');
  const features = { dtype: 'float32', shape: [4, 2, 3], data: Float32Array.from({ length: 24 }, (_, i) => i / 7) };
  const target = { dtype: 'float64', shape: [4], data: Float64Array.from([1, 2, 3, 5]) };
  await saveNpy(p, {
    features, target, class_names: ['Tops', 'Bags & boots', 'é✓'], epochs: 3, lr: 0.001, big: 2n ** 70n, on: false, none: null,
    raw: Uint8Array.from([0, 255]), labels: { dtype: 'int64', shape: [2], data: BigInt64Array.from([-1n, 2n ** 62n]) },
    nested: { list: [1, 'two', [3.5]] },
  });
  const got = pyJson(`
import sys, json, hashlib, numpy as np
d = np.load(sys.argv[1], allow_pickle=True)[()]
def desc(v):
    if isinstance(v, np.ndarray): return {'ndarray': v.dtype.str, 'shape': list(v.shape), 'sha': hashlib.sha256(v.tobytes()).hexdigest(), 'c': v.flags['C_CONTIGUOUS']}
    if isinstance(v, dict): return {'dict': {k: desc(x) for k, x in v.items()}}
    if isinstance(v, list): return {'list': [desc(x) for x in v]}
    if isinstance(v, bytes): return {'bytes': list(v)}
    if isinstance(v, bool) or v is None: return v
    if isinstance(v, int): return {'int': str(v)}
    if isinstance(v, float): return {'float': repr(v)}
    return {type(v).__name__: v}
print(json.dumps({'type': type(d).__name__, 'keys': list(d.keys()), 'd': desc(d)}))`, [p]);
  t.is(got.type, 'dict');
  t.deepEqual(got.keys, ['features', 'target', 'class_names', 'epochs', 'lr', 'big', 'on', 'none', 'raw', 'labels', 'nested']);
  const d = got.d.dict;
  t.deepEqual(d.features, { ndarray: '<f4', shape: [4, 2, 3], sha: sha(features), c: true });
  t.deepEqual(d.target, { ndarray: '<f8', shape: [4], sha: sha(target), c: true });
  t.deepEqual(d.class_names, { list: [{ str: 'Tops' }, { str: 'Bags & boots' }, { str: 'é✓' }] });
  t.deepEqual(d.epochs, { int: '3' });
  t.deepEqual(d.lr, { float: '0.001' });
  t.deepEqual(d.big, { int: String(2n ** 70n) });
  t.is(d.on, false);
  t.is(d.none, null);
  t.deepEqual(d.raw, { bytes: [0, 255] });
  t.is(d.labels.ndarray, '<i8');
  t.deepEqual(d.nested, { dict: { list: { list: [{ int: '1' }, { str: 'two' }, { list: [{ float: '3.5' }] }] } } });
});

withNumpy('large arrays in numpy-written pickles are loaded as aligned views of one buffer', async (t) => {
  const p = join(tmp, 'np-dict-large.npy');
  py(`
import sys, numpy as np
np.save(sys.argv[1], {'features': np.arange(300000, dtype=np.float32), 'target': np.ones(7, dtype=np.float64)}, allow_pickle=True)`, [p]);
  const d = await loadNpy(p);
  t.is(d.features.data.length, 300000);
  t.is(d.features.data[299999], 299999);
  t.is(d.features.data.byteOffset % 64, 0, 'the big payload was placed at an aligned address');
  t.true(d.features.data.buffer.byteLength >= (await readFile(p)).length, 'features views the whole-file buffer');
});

test('loadNpy reports missing files with the system error', async (t) => {
  await t.throwsAsync(loadNpy(join(tmp, 'nope.npy')), { code: 'ENOENT' });
  await writeFile(join(tmp, 'empty.npy'), '');
  await t.throwsAsync(loadNpy(join(tmp, 'empty.npy')), { instanceOf: NpyFormatError, message: /truncated preamble/ });
});

test('loadNpy refuses a directory', async (t) => {
  await t.throwsAsync(loadNpy(tmp), { instanceOf: NpyFormatError, message: /not a regular file \(a directory\)/ });
});

needs(command('mkfifo'))('loadNpy refuses a FIFO without blocking', async (t) => {
  const fifo = join(tmp, 'pipe.npy');
  const made = spawnSync('mkfifo', [fifo]);
  t.is(made.status, 0, String(made.stderr));
  await t.throwsAsync(loadNpy(fifo), { instanceOf: NpyFormatError, message: /a device, FIFO or socket/ });
});
