// The committed fixtures under test/fixtures/: where each corpus lives, which generator rewrites
// it, and what its manifest says must be there. A missing committed file is a failure, never a
// skip: test/committed-fixtures.test.js checks this table, and the tests that read a corpus fail
// on their own when a file is gone.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The absolute path of a committed fixture, from its path under test/fixtures/. */
export const fixturePath = (...parts) => join(FIXTURES, ...parts);

/**
 * Each corpus: its manifest (a JSON file under test/fixtures/), the files the manifest lists,
 * how many entries it holds at least (so that an emptied manifest fails too), and its generator.
 */
export const COMMITTED = [
  {
    name: 'numpy-written .npy files',
    manifest: 'npy.json',
    files: (m) => [...Object.keys(m.arrays), ...Object.keys(m.pickles), 'evil_os_system_p2.npy', 'evil_os_system_p4.npy'].map((f) => `npy/${f}`),
    entries: (m) => Object.keys(m.arrays).length + Object.keys(m.pickles).length,
    atLeast: 32,
    generator: '/usr/bin/python3 scripts/fixtures/npy-and-split.py',
  },
  {
    name: "scikit-learn's split indices and numpy's RandomState outputs",
    manifest: 'split.json',
    files: () => [],
    entries: (m) => m.trainTestSplit.length + m.randomState.length + m.notebookSplit.length,
    atLeast: 100,
    generator: '/usr/bin/python3 scripts/fixtures/npy-and-split.py',
  },
  {
    name: 'hostile .npy files (the committed selection)',
    manifest: 'hostile/manifest.json',
    files: (m) => m.entries.map((e) => `hostile/${e.name}`),
    entries: (m) => m.entries.length,
    atLeast: 100,
    generator: 'node scripts/fixtures/hostile-corpus.mjs',
  },
  {
    name: "scikit-learn's metrics and classification reports",
    manifest: 'report/sklearn-metrics.json',
    files: () => [],
    entries: (m) => m.cases.length,
    atLeast: 40,
    generator: '/usr/bin/python3 scripts/fixtures/sklearn-metrics.py',
  },
  {
    name: 'the first 40 training images, for the report tests',
    manifest: 'report/samples-40.json',
    files: () => [],
    entries: (m) => m.labels.length,
    atLeast: 40,
    generator: '/usr/bin/python3 scripts/fixtures/sklearn-metrics.py',
  },
];
