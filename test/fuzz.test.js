// Fuzzing the .npy reader and restricted unpickler: mutated, truncated and random inputs built from valid
// files (plain arrays, pickled dicts, the dataset format) must parse to well-formed values or be refused
// with NpyFormatError / PickleSecurityError: never a TypeError, RangeError or hang.
// `npm run fuzz` (scripts/long/fuzz-npy.mjs) runs the same generators for minutes; set FUZZ_SEED to replay a failure.
import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DatasetError, loadDataset, loadNpy, NpyFormatError, PickleSecurityError } from '../dist/index.js';
import { classify, FuzzFinding, fuzzInput, fuzzSeeds } from './support/npy-fuzz.js';

const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const dir = mkdtempSync(join(tmpdir(), 'torchfit-fuzz-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('the oracle itself: typed refusals are classified, anything else is a finding', (t) => {
  t.is(classify(Buffer.from('not npy at all')), 'ERR_NPY_FORMAT');
  t.is(classify(fuzzSeeds()[0]), 'parsed');
  const evil = fuzzSeeds().find((b) => b.includes(Buffer.from('os\nsystem\n')));
  t.truthy(evil);
  t.is(classify(evil), 'ERR_PICKLE_REFUSED');
  // Every seed that is a valid file parses: the mutations start from real inputs.
  const parsed = fuzzSeeds().filter((b) => classify(b) === 'parsed').length;
  t.true(parsed >= 35, `${parsed} of ${fuzzSeeds().length} seeds parse`);
  t.true(new FuzzFinding('x') instanceof Error);
});

test('property: parseNpy on thousands of mutated/truncated/random inputs only ever refuses with our typed errors', (t) => {
  t.timeout(120_000);
  const counts = {};
  const runs = 20_000;
  fc.assert(
    fc.property(fuzzInput(), (bytes) => {
      const outcome = classify(bytes);
      counts[outcome] = (counts[outcome] ?? 0) + 1;
    }),
    { numRuns: runs, ...(seed === undefined ? {} : { seed }) },
  );
  t.log(`${runs} inputs: ${JSON.stringify(counts)}`);
  // The run is only useful if it reaches all three outcomes.
  t.true((counts.parsed ?? 0) > 0, 'nothing parsed');
  t.true((counts.ERR_NPY_FORMAT ?? 0) > 0);
  t.true((counts.ERR_PICKLE_REFUSED ?? 0) > 0);
});

test('property: loadNpy and loadDataset on mutated files refuse with typed errors only', async (t) => {
  t.timeout(120_000);
  const counts = {};
  let i = 0;
  await fc.assert(
    fc.asyncProperty(fuzzInput(), async (bytes) => {
      const path = join(dir, `in-${i++ % 8}.npy`);
      writeFileSync(path, bytes);
      for (const [name, load, allowed] of [
        ['loadNpy', () => loadNpy(path), [NpyFormatError, PickleSecurityError]],
        ['loadDataset', () => loadDataset(path), [NpyFormatError, PickleSecurityError, DatasetError]],
      ]) {
        try {
          await load();
          counts[`${name}:ok`] = (counts[`${name}:ok`] ?? 0) + 1;
        } catch (error) {
          if (!allowed.some((cls) => error instanceof cls)) {
            throw new Error(`${name} threw ${error?.constructor?.name} (${error?.code}): ${error?.message}`);
          }
          if (error.file !== path) throw new Error(`${name}: ${error.constructor.name} names ${error.file}, not ${path}`);
          counts[`${name}:${error.code}`] = (counts[`${name}:${error.code}`] ?? 0) + 1;
        }
      }
    }),
    { numRuns: 2000, ...(seed === undefined ? {} : { seed }) },
  );
  t.log(JSON.stringify(counts));
  t.true((counts['loadDataset:ok'] ?? 0) + (counts['loadDataset:ERR_DATASET'] ?? 0) > 0, 'no input reached the dataset checks');
});
