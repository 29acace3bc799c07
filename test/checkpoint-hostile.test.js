// The hostile checkpoint corpus (test/support/checkpoint-attacks.js: differential zip views, aliased and
// overlapping entries, deep type tags and tuples, memo abuse, tensors past their storage, wrong storage
// types, non-finite values, lying descriptions and optimizer state) loaded by Model.load in a child
// process: the child must survive every file, and each file must be refused with its class, code and
// message, naming the file.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { baseCheckpoint, checkpointAttacks } from './support/checkpoint-attacks.js';
import { loadInChild, writeCorpus } from './support/corpus-files.js';

const dir = mkdtempSync(join(tmpdir(), 'torchfit-hostile-ckpt-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('every hostile checkpoint is refused with its typed error, and the loading process survives them all', async (t) => {
  t.timeout(300_000);
  const attacks = checkpointAttacks({ large: true });
  writeCorpus(dir, [{ name: 'base', bytes: baseCheckpoint() }, ...attacks]);
  const run = await loadInChild(dir);
  t.is(run.signal, null, `the child died of ${run.signal}: ${run.stderr}`);
  t.is(run.code, 0, run.stderr);
  t.is(run.results.get('base')?.outcome, 'loaded', 'the valid checkpoint the attacks start from loads');
  const classes = new Map();
  const wrong = [];
  for (const a of attacks) {
    const r = run.results.get(a.name);
    const path = join(dir, `${a.name}.pt`);
    // A PickleSecurityError names the entry as well: <file>:data.pkl.
    const ok = r && r.outcome === 'refused' && r.type === a.expected.type && r.code === a.expected.code && a.message.test(r.message) &&
      (r.file === path || r.file === `${path}:data.pkl`);
    if (!ok) wrong.push(`${a.name}: ${r ? `${r.outcome} ${r.type} ${r.code} ${r.message}` : 'no result (the child stopped before it)'}`);
    classes.set(a.class, (classes.get(a.class) ?? 0) + 1);
  }
  t.deepEqual(wrong, [], 'files loaded or refused otherwise than expected');
  const slowest = [...run.results.values()].sort((a, b) => b.ms - a.ms).slice(0, 3).map((r) => `${r.name} ${r.ms.toFixed(0)} ms`);
  t.log(`${attacks.length} hostile files in ${classes.size} classes (${[...classes].map(([c, n]) => `${c}: ${n}`).join('; ')})`);
  t.log(`child peak RSS ${(run.maxRssKb / 1024).toFixed(0)} MB; slowest: ${slowest.join(', ')}`);
});
