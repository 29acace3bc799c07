// fast-check mutations of a real checkpoint at the zip level: local headers, data descriptors, central
// directory entries, zip64 records and the end record are changed (their CRC fields left alone, so the
// data still passes its CRC-32 and only the structure is on trial), entries are duplicated or renamed,
// bytes are appended. Every mutant must parse and vet or be refused with CheckpointError /
// PickleSecurityError; mutants we accept load with Model.load and, where Python is present, Python's
// zipfile sees exactly the entries we saw (no second reading of the same bytes).
import test from 'ava';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

import { CheckpointError, Model, PickleSecurityError } from '../dist/index.js';
import { readCheckpoint } from '../dist/torch/checkpoint-file.js';
import { readStoredZip } from '../dist/data/zip-read.js';
import { archiveEntries, cnnState, picklePayload } from './support/checkpoint-writer.js';
import { zipLayout } from './support/zip-writer.js';
import { needs, python } from './support/conditional.js';
import { PYTHON } from './support/python.js';

const dir = mkdtempSync(join(tmpdir(), 'torchfit-zipfuzz-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

// A plain CNN state_dict (31 storages, 137 KB): every record kind of libtorch's layout, zip64 records included.
const { pickle, storages } = picklePayload(cnnState());
const entries = archiveEntries(pickle, storages);
const layout = zipLayout(entries);
const base = layout.bytes;
const options = { imageSize: [28, 28], allowNonFinite: false };

/** Byte ranges of every header, and the CRC fields inside them (left unmutated). */
function headerMap() {
  const ranges = [];
  const crcFields = new Set();
  entries.forEach(([name], i) => {
    const at = layout.offsets[i];
    const nameLength = Buffer.byteLength(name);
    ranges.push([at, at + 30 + nameLength]);
    const dataEnd = at + 30 + nameLength + entries[i][1].length;
    ranges.push([dataEnd, dataEnd + 16]);
    for (let k = 0; k < 4; k++) { crcFields.add(at + 14 + k); crcFields.add(dataEnd + 4 + k); }
  });
  let at = layout.cdOffset;
  for (const [name] of entries) {
    for (let k = 0; k < 4; k++) crcFields.add(at + 16 + k);
    at += 46 + Buffer.byteLength(name);
  }
  ranges.push([layout.cdOffset, base.length]);
  const positions = [];
  for (const [a, b] of ranges) for (let p = a; p < b; p++) if (!crcFields.has(p)) positions.push(p);
  return positions;
}
const positions = headerMap();
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x50, 0x4b, 0x05, 0x06, 0x07, 0x08, 0x2e, 0x2f];

const byteSet = fc.record({
  kind: fc.constant('bytes'),
  sets: fc.array(fc.tuple(fc.nat(positions.length - 1), fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 }))), { minLength: 1, maxLength: 6 }),
});
const wordSet = fc.record({
  kind: fc.constant('word'),
  at: fc.nat(positions.length - 1),
  value: fc.oneof(fc.constantFrom(0, 1, 0xffff, 0xffffffff, base.length, layout.cdOffset, layout.offsets[1], layout.central.length), fc.nat()),
});
const structural = fc.record({
  kind: fc.constantFrom('duplicate', 'case', 'trailing', 'comment', 'drop', 'swap'),
  index: fc.nat(entries.length - 1),
  other: fc.nat(entries.length - 1),
  extra: fc.uint8Array({ minLength: 1, maxLength: 40 }),
});

function mutate(m) {
  if (m.kind === 'bytes') {
    const b = Buffer.from(base);
    for (const [i, v] of m.sets) b[positions[i]] = v;
    return b;
  }
  if (m.kind === 'word') {
    const b = Buffer.from(base);
    const at = positions[m.at];
    if (at + 4 <= b.length) b.writeUInt32LE(m.value >>> 0, at);
    return b;
  }
  const list = entries.map(([n, d]) => [n, d]);
  switch (m.kind) {
    case 'duplicate': list.push(list[m.index]); break;
    case 'case': list[m.index] = [list[m.index][0].replace(/[a-z](?=[^/]*$)/, (c) => c.toUpperCase()), list[m.index][1]]; break;
    case 'drop': list.splice(m.index, 1); break;
    case 'swap': [list[m.index], list[m.other]] = [list[m.other], list[m.index]]; break;
    case 'trailing': return Buffer.concat([base, Buffer.from(m.extra)]);
    case 'comment': return zipLayout(entries, { comment: Buffer.from(m.extra) }).bytes;
    default: break;
  }
  return zipLayout(list.length === 0 ? entries : list).bytes;
}

let run;
/** Runs the mutations once (for both tests below): outcome counts and up to 25 distinct accepted mutants. */
function mutants() {
  if (run) return run;
  const counts = {};
  const accepted = new Map();
  fc.assert(fc.property(fc.oneof(byteSet, wordSet, structural), (m) => {
    const bytes = mutate(m);
    try {
      readCheckpoint(bytes, 'm.pt', options);
      counts.parsed = (counts.parsed ?? 0) + 1;
      if (!bytes.equals(base) && accepted.size < 25) accepted.set(bytes.toString('base64'), bytes);
    } catch (error) {
      if (!(error instanceof CheckpointError || error instanceof PickleSecurityError)) throw error;
      counts[error.code] = (counts[error.code] ?? 0) + 1;
    }
  }), { numRuns: 3000, seed: 1818 });
  run = { counts, accepted };
  return run;
}

test('property: zip-level mutations of a real checkpoint parse and vet, or give a typed error; accepted ones load', async (t) => {
  t.timeout(240_000);
  const { counts, accepted } = mutants();
  t.log(`${JSON.stringify(counts)}; ${accepted.size} distinct accepted mutants kept for Model.load`);
  t.true((counts.ERR_CHECKPOINT ?? 0) > 1000, 'the mutations reach the checks');
  let i = 0;
  for (const bytes of accepted.values()) {
    const path = join(dir, `accepted-${i++}.pt`);
    writeFileSync(path, bytes);
    const model = await Model.load(path);
    t.is(model.config.kind, 'cnn');
    model.dispose();
  }
});

// A second reader of the accepted mutants: Python's zipfile must list the same names with the same data.
needs(python('zipfile'))("Python's zipfile sees the same entries and data as our reader in every accepted mutant", (t) => {
  const { accepted } = mutants();
  t.true(accepted.size > 0);
  const ours = [...accepted.values()].map((bytes) => readStoredZip(bytes, (m) => { throw new Error(m); }).entries.map((e) => [e.name, crc32(e.data)]));
  const files = [...accepted.values()].map((bytes, k) => {
    const path = join(dir, `for-python-${k}.pt`);
    writeFileSync(path, bytes);
    return path;
  });
  const r = spawnSync(PYTHON, ['-c', `
import json, sys, zipfile, zlib
out = []
for f in sys.argv[1:]:
    with zipfile.ZipFile(f) as z:
        out.append([[i.filename, zlib.crc32(z.read(i))] for i in z.infolist()])
print(json.dumps(out))`, ...files], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), ours);
});

test('the unmutated archive is what libtorch writes: Python zipfile and our reader agree on it', (t) => {
  const ours = readStoredZip(base, (m) => { throw new Error(m); });
  t.is(ours.prefix, 'archive');
  t.deepEqual(ours.entries.map((e) => e.name), entries.map(([n]) => n));
});
