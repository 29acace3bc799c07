// Pickle protocols 0 and 1 (text opcodes: INT, LONG, FLOAT, UNICODE with raw-unicode-escape, STRING,
// PUT/GET, MARK-built LIST/DICT/TUPLE; and protocol 1's classics) in the restricted unpickler: .npy files
// written by /usr/bin/python3 with numpy (scripts/fixtures/pickle-protocol01.py, run here) read back exactly
// what np.load(allow_pickle=True) returns. The allow-list is the same as for protocols 2 to 5.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadNpy, PickleSecurityError } from '../dist/index.js';
import { unpickle } from '../dist/data/pickle.js';
import { needs, python } from './support/conditional.js';
import { PYTHON } from './support/python.js';

const SCRIPT = fileURLToPath(new URL('../scripts/fixtures/pickle-protocol01.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'torchfit-p01-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** Our value in the form the Python script describes np.load's result. */
function describe(v) {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : { bigint: v.toString() };
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { float: 'nan' };
    if (!Number.isFinite(v)) return { float: v > 0 ? 'inf' : '-inf' };
    return v;
  }
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return v.map(describe);
  if (typeof v === 'object' && typeof v.dtype === 'string' && Array.isArray(v.shape)) {
    const data = [...v.data].map((x) => (v.dtype === 'bool' ? x === 1 : describe(x)));
    return { ndarray: v.dtype, shape: v.shape, data };
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, describe(x)]));
}

// The protocol 0/1 files are written by numpy (scripts/fixtures/pickle-protocol01.py).
const withNumpy = needs(python('numpy'));

withNumpy('np.load and loadNpy read the same values from protocol 0 and 1 pickles', async (t) => {
  const r = spawnSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  t.is(Object.keys(expected).length, 10);
  for (const [name, value] of Object.entries(expected)) {
    const ours = await loadNpy(join(dir, `${name}.npy`));
    t.deepEqual(describe(ours), value, name);
  }
  // The text forms really are in the files (not protocol 2 in disguise).
  const p0 = readFileSync(join(dir, 'p0-strings.npy'), 'latin1');
  t.true(p0.includes('\nVcaf\u00e9\n') && p0.includes('\\u2713') && !p0.includes('\x80\x02'));
});

const P = (text) => Buffer.from(`${text}.`, 'latin1');

test('protocol 0 text opcodes by hand: escapes, memo, MARK-built containers', (t) => {
  t.deepEqual(unpickle(P("(S'a\\x00\\'b\\n\\\\'\np0\nS\"q\"\ng0\nt")), [Uint8Array.from([97, 0, 39, 98, 10, 92]), Uint8Array.from([113]), Uint8Array.from([97, 0, 39, 98, 10, 92])]);
  t.is(unpickle(P('V\\u00e9\\U0001F600 \\\\u0041\n')), '\u00e9\u{1F600} \\\\u0041');
  t.deepEqual(unpickle(P('(dp0\nVk\np1\n(lp2\nI1\naL5L\naF0.5\nas')), { k: [1, 5, 0.5] });
  t.is(unpickle(P("S'\\101\\1012'\n")).toString(), [65, 65, 50].toString(), 'octal escapes of up to three digits');
});

test('protocol 0 refusals: unquoted or malformed STRING, bad UNICODE escapes, globals off the allow-list', (t) => {
  const refused = (text, message) => t.throws(() => unpickle(P(text), 'p0.pkl'), { instanceOf: PickleSecurityError, message });
  refused("S'abc\n", /the STRING argument must be quoted/);
  refused("S'\\x4'\n", /invalid \\x escape in a STRING argument/);
  refused('V\\u12\n', /truncated \\uXXXX escape in a UNICODE argument/);
  refused('V\\U00110000\n', /a UNICODE escape beyond U\+10FFFF/);
  refused('Vno newline', /UNICODE: no newline before the end of the pickle/);
  refused("cos\nsystem\n(S'touch /tmp/x'\ntR", /global 'os\.system' is refused by GLOBAL/);
  refused("(i__main__\nEvil\n", /opcode INST is refused/);
  refused('p5\n', /PUT on an empty stack/);
  refused('Np-1\n', /bad memo index/);
  refused('Np7\n', /memo index 7 skips ahead of the 0 PUTs so far/);
});
