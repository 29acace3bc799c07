// writeReport writes every file through src/data/atomic-write.ts: a write that fails
// leaves no temporary file behind and the earlier file in place.
import test from 'ava';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport } from '../dist/report/report.js';
import { fakeReportInput } from './fixtures/report/fake-input.js';

async function listAll(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) out.push(join(entry.parentPath ?? entry.path, entry.name).slice(dir.length + 1));
  return out.sort();
}

test('a report whose page cannot be renamed into place leaves no temporary files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'torchfit-report-atomic-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // A folder where report.html should go: the final rename fails (EISDIR), after the figures and results.json.
  await mkdir(join(dir, 'report.html'));
  const error = await t.throwsAsync(writeReport(fakeReportInput(), dir));
  t.is(error.code, 'EISDIR');
  const files = await listAll(dir);
  t.deepEqual(files.filter((f) => f.endsWith('.tmp')), [], 'no temporary file left behind');
  t.true(files.includes('results.json'));
  t.true(files.includes('report.html'));  // still the folder it was
});

test('a finished report has no temporary files and every figure in place', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'torchfit-report-atomic-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const written = await writeReport(fakeReportInput(), dir);
  const files = await listAll(dir);
  t.deepEqual(files.filter((f) => f.endsWith('.tmp')), []);
  for (const f of written.figures) t.true(files.includes(f.slice(dir.length + 1)), f);
});
