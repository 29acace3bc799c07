// The committed corpora under test/fixtures/ are part of the repository: a deleted or emptied one
// must fail the suite (the tests that read them would otherwise have less to check, silently).
import { existsSync, readFileSync } from 'node:fs';

import test from 'ava';

import { COMMITTED, fixturePath } from './support/fixtures.js';

for (const corpus of COMMITTED) {
  test(`committed fixture: ${corpus.name} (${corpus.manifest})`, (t) => {
    const manifestPath = fixturePath(corpus.manifest);
    t.true(existsSync(manifestPath), `${manifestPath} is missing: restore it from git or rerun ${corpus.generator}`);
    if (!existsSync(manifestPath)) return;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const entries = corpus.entries(manifest);
    t.true(entries >= corpus.atLeast, `${corpus.manifest} lists ${entries} entries, expected at least ${corpus.atLeast}`);
    const missing = corpus.files(manifest).filter((f) => !existsSync(fixturePath(f)));
    t.deepEqual(missing, [], `files of ${corpus.manifest} are missing: restore them from git or rerun ${corpus.generator}`);
  });
}
