// Hostile .npy files (test/support/hostile-corpus.js; committed by scripts/fixtures/hostile-corpus.mjs) must be refused with our typed errors: no code
// runs (the canary file their payloads would create never appears), no unbounded allocation, no crash.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import * as torchfit from '../dist/index.js';
import { buildCorpus, miniDataset, writeCorpus } from './support/hostile-corpus.js';
import { npyHeader } from './support/npy-writer.js';
import { OP, Pickle } from './support/pickle-writer.js';
import { needs, python } from './support/conditional.js';
import { fixturePath } from './support/fixtures.js';
import { py } from './support/python.js';

const { loadDataset, loadNpy, parseNpy, NpyFormatError, PickleSecurityError, TorchfitError } = torchfit;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const dir = mkdtempSync(join(tmpdir(), 'torchfit-hostile-'));
const canary = `/tmp/torchfit-canary-${process.pid}`;
const committed = fixturePath('hostile');
const withNumpy = needs(python('numpy'));

test.after.always(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Loads `path` as the entry says and returns the error, asserting its class, code, message and file. */
async function refusal(t, path, entry) {
  const load = entry.via === 'dataset' ? () => loadDataset(path) : () => loadNpy(path);
  let error;
  try {
    const value = await load();
    t.fail(`${entry.name}: loaded without an error (got ${typeof value})`);
    return undefined;
  } catch (e) {
    error = e;
  }
  const cls = torchfit[entry.error];
  t.true(error instanceof cls, `${entry.name}: expected ${entry.error}, got ${error?.constructor?.name}: ${error?.message}`);
  t.true(error instanceof TorchfitError, entry.name);
  t.is(error.code, entry.code, entry.name);
  t.regex(error.message, new RegExp(entry.message), entry.name);
  t.is(error.file, path, `${entry.name}: the error names the file`);
  if (error instanceof NpyFormatError || error instanceof PickleSecurityError) {
    if (error.offset !== undefined) t.true(Number.isInteger(error.offset) && error.offset >= 0, `${entry.name}: offset ${error.offset}`);
  }
  return error;
}

test.serial('every hostile file is refused with its typed error; no canary, no prototype pollution, bounded memory', async (t) => {
  t.timeout(120_000);
  rmSync(canary, { force: true });
  const entries = writeCorpus(dir, { canary });
  t.true(entries.length > 200, `${entries.length} entries`);
  // Every payload names our canary, so "the canary never appears" checks the right file.
  t.true(entries.filter((e) => e.executes).every((e) => e.bytes.includes(Buffer.from(canary))));
  gc();
  const before = process.memoryUsage().rss;
  let peak = before;
  const growth = [];
  const counts = {};
  for (const entry of entries) {
    await refusal(t, join(dir, entry.name), entry);
    counts[entry.error] = (counts[entry.error] ?? 0) + 1;
    const rss = process.memoryUsage().rss;
    peak = Math.max(peak, rss);
    growth.push([entry.name, rss - before]);
    t.false(existsSync(canary), `${entry.name} created the canary`);
    if (entry.large) gc(); // what one bomb held must not add up with the next
  }
  growth.sort((a, b) => b[1] - a[1]);
  t.log(`largest RSS above the start: ${growth.slice(0, 3).map(([n, b]) => `${n} ${(b / 2 ** 20).toFixed(0)} MB`).join(', ')}`);
  // Give anything asynchronous a payload might have started (Popen) time to show itself.
  await new Promise((r) => setTimeout(r, 200));
  t.false(existsSync(canary), 'a payload ran');
  t.is({}.polluted, undefined);
  t.is(Object.prototype.features, undefined, 'a __proto__ key reached Object.prototype');
  const growthMb = (peak - before) / 2 ** 20;
  t.log(`${entries.length} files (${(entries.reduce((a, e) => a + e.bytes.length, 0) / 2 ** 20).toFixed(1)} MB): ${JSON.stringify(counts)}; peak RSS growth ${growthMb.toFixed(0)} MB`);
  t.true(growthMb < 200, `RSS grew by ${growthMb.toFixed(0)} MB`);
});

test('the committed fixtures are the generator output and are refused the same way', async (t) => {
  // The corpus is committed: its absence is a failure, not a reason to skip.
  const manifestPath = join(committed, 'manifest.json');
  t.true(existsSync(manifestPath), `${manifestPath} is missing: restore it from git or rerun node scripts/fixtures/hostile-corpus.mjs`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const fresh = new Map(buildCorpus({ canary: manifest.canary }).map((e) => [e.name, e]));
  const files = readdirSync(committed).filter((f) => f !== 'manifest.json');
  t.deepEqual(files.sort(), manifest.entries.map((e) => e.name).sort(), 'the folder holds exactly the files of its manifest');
  let size = 0;
  for (const entry of manifest.entries) {
    const path = join(committed, entry.name);
    const bytes = readFileSync(path);
    size += bytes.length;
    const expected = fresh.get(entry.name);
    t.truthy(expected, `${entry.name} is no longer generated: rerun node scripts/fixtures/hostile-corpus.mjs`);
    if (!expected) continue;
    t.true(bytes.equals(expected.bytes), `${entry.name} differs from the generator's output: rerun node scripts/fixtures/hostile-corpus.mjs`);
    t.deepEqual({ ...entry, size: undefined }, { group: expected.group, name: expected.name, via: expected.via, error: expected.error, code: expected.code, message: expected.message, executes: expected.executes, size: undefined });
    await refusal(t, path, entry);
  }
  t.true(size + readFileSync(join(committed, 'manifest.json')).length < 100 * 1024, `committed corpus is ${size} bytes plus its manifest`);
});

test('the dataset file the truncations cut is itself valid', async (t) => {
  const mini = miniDataset();
  const value = parseNpy(mini.file, 'mini.npy');
  t.deepEqual(value.features.shape, [2, 4, 4]);
  t.deepEqual([...value.features.data], [...mini.features]);
  t.deepEqual([...value.target.data], [...mini.target]);
  t.deepEqual(value.class_names, mini.classNames);
  const path = join(dir, 'mini-valid.npy');
  writeFileSync(path, mini.file);
  const d = await loadDataset(path);
  t.deepEqual(d.classNames, mini.classNames);
});

withNumpy('numpy reads the dataset file the truncations cut as we do', (t) => {
  const mini = miniDataset();
  const path = join(dir, 'mini-valid-for-numpy.npy');
  writeFileSync(path, mini.file);
  const out = JSON.parse(py(`import json, sys, numpy as np
d = np.load(sys.argv[1], allow_pickle=True)[()]
print(json.dumps({'shape': list(d['features'].shape), 'dtype': str(d['features'].dtype), 'features': d['features'].ravel().tolist(), 'target': d['target'].tolist(), 'names': d['class_names']}))`, [path]));
  t.deepEqual(out.shape, [2, 4, 4]);
  t.is(out.dtype, 'float32');
  t.deepEqual(out.features, [...mini.features]);
  t.deepEqual(out.target, [...mini.target]);
  t.deepEqual(out.names, mini.classNames);
});

test('a dataset file truncated at any byte gives a typed error naming the truncation', (t) => {
  const mini = miniDataset();
  const dataOffset = mini.boundaries.dataOffset[0];
  for (let at = 0; at < mini.file.length; at++) {
    const cut = mini.file.subarray(0, at);
    const error = t.throws(() => parseNpy(cut, `cut-${at}.npy`), undefined, `cut at ${at}`);
    if (!error) continue;
    if (at <= dataOffset) {
      t.true(error instanceof NpyFormatError, `cut at ${at}: ${error.constructor.name}: ${error.message}`);
      t.is(error.code, 'ERR_NPY_FORMAT');
      t.regex(error.message, /truncated/);
    } else {
      t.true(error instanceof PickleSecurityError, `cut at ${at}: ${error.constructor.name}: ${error.message}`);
      t.is(error.code, 'ERR_PICKLE_REFUSED');
      t.regex(error.message, /truncated/);
    }
  }
});

test('allowPickle: false refuses every pickled payload before reading it', async (t) => {
  const entries = buildCorpus({ canary }).filter((e) => e.group === 'exec' || e.group === 'opcode');
  for (const entry of entries) {
    const path = join(dir, `nopickle-${entry.name}`);
    writeFileSync(path, entry.bytes);
    const error = await t.throwsAsync(loadNpy(path, { allowPickle: false }), { instanceOf: PickleSecurityError }, entry.name);
    t.is(error?.code, 'ERR_PICKLE_REFUSED');
    t.regex(error?.message ?? '', /allowPickle is false/);
  }
  t.false(existsSync(canary));
});

withNumpy("CPython's np.load(allow_pickle=True) runs the exec payloads: the corpus is genuinely hostile", (t) => {
  // A separate folder and canary: this is the one place where the payloads are meant to run.
  const pyDir = mkdtempSync(join(tmpdir(), 'torchfit-hostile-py-'));
  try {
    const pyCanary = join(pyDir, 'CANARY');
    const entries = buildCorpus({ canary: pyCanary }).filter((e) => e.executes);
    t.true(entries.length >= 10);
    for (const e of entries) writeFileSync(join(pyDir, e.name), e.bytes);
    const ran = JSON.parse(py(`import json, os, sys, time, numpy as np
d, canary = sys.argv[1], sys.argv[2]
out = {}
for name in sys.argv[3:]:
    if os.path.exists(canary): os.remove(canary)
    try:
        np.load(os.path.join(d, name), allow_pickle=True)
    except Exception:
        pass
    for _ in range(100):
        if os.path.exists(canary): break
        time.sleep(0.02)
    out[name] = os.path.exists(canary)
print(json.dumps(out))`, [pyDir, pyCanary, ...entries.map((e) => e.name)]));
    for (const e of entries) t.true(ran[e.name], `${e.name} did not run under CPython: it tests nothing`);
  } finally {
    rmSync(pyDir, { recursive: true, force: true });
  }
});

test('pathological but valid files parse: 300,000 size-1 dimensions in Fortran order, zero-size arrays with huge dimensions', (t) => {
  // Before the fix, reordering Fortran data cost (elements x dimensions): this 2 MB file took hours of CPU.
  t.timeout(60_000, 'Fortran reordering is proportional to the number of dimensions again');
  const dims = [...new Array(20).fill(2), ...new Array(300_000).fill(1)];
  const count = 2 ** 20;
  const data = Buffer.alloc(count);
  for (let i = 0; i < count; i++) data[i] = (i * 31) & 0xff;
  const header = npyHeader("'|u1'", `(${dims.join(', ')})`, { fortran: 'True', major: 2 });
  const fortran = parseNpy(Buffer.concat([header, data]), 'many-dims.npy');
  t.is(fortran.shape.length, dims.length);
  // Size-1 dimensions do not move anything: the C-order data is the Fortran data of shape (2,)*20 transposed.
  const c = parseNpy(Buffer.concat([npyHeader("'|u1'", `(${new Array(20).fill(2).join(', ')})`, { fortran: 'True' }), data]), 'twenty-dims.npy');
  t.true(Buffer.from(fortran.data).equals(Buffer.from(c.data)));
  t.false(Buffer.from(c.data).equals(data), 'the reordering did happen');
  // Element (i0, ..., i19) sits at Fortran offset sum(i_k * 2^k): check a few.
  for (const flat of [1, 2, 12345, count - 2]) {
    let fOffset = 0;
    for (let k = 0; k < 20; k++) fOffset += ((flat >> (19 - k)) & 1) * 2 ** k;
    t.is(c.data[flat], data[fOffset], `element ${flat}`);
  }

  // numpy writes (2**52, 0): zero elements, zero bytes, whatever the other dimension.
  const empty = parseNpy(npyHeader("'<f8'", '(4503599627370496, 0)'), 'empty.npy');
  t.deepEqual(empty.shape, [2 ** 52, 0]);
  t.is(empty.data.length, 0);
  t.true(empty.data instanceof Float64Array);
  // The same inside a pickle (as np.save writes a dict holding such an array).
  const pickled = new Pickle(2).op(OP.EMPTY_DICT).str('a').reconstruct().op(OP.MARK).int(1).op(OP.MARK)
    .op(OP.LONG1, 8, Buffer.from([0, 0, 0, 0, 0, 0, 0x10, 0])).int(0).op(OP.TUPLE).dtype('f8').op(OP.NEWFALSE).bin(Buffer.alloc(0)).op(OP.TUPLE).op(OP.BUILD)
    .op(OP.SETITEM).stop();
  const dict = parseNpy(Buffer.concat([npyHeader("'|O'", '()'), pickled.bytes()]), 'empty-pickled.npy');
  t.deepEqual(dict.a.shape, [2 ** 52, 0]);
  t.is(dict.a.data.length, 0);
  // A pickled Fortran-order array with thousands of size-1 dimensions is reordered just as fast.
  const many = new Pickle(2).reconstruct().op(OP.MARK).int(1).op(OP.MARK).int(2).int(3);
  for (let i = 0; i < 50_000; i++) many.int(1);
  many.op(OP.TUPLE).dtype('u1').op(OP.NEWTRUE).bin(Buffer.from([0, 1, 2, 3, 4, 5])).op(OP.TUPLE).op(OP.BUILD).stop();
  const arr = parseNpy(Buffer.concat([npyHeader("'|O'", `(2, 3, ${new Array(50_000).fill(1).join(', ')})`, { major: 2 }), many.bytes()]), 'many-pickled.npy');
  t.deepEqual([...arr.data], [0, 2, 4, 1, 3, 5]);
});
