#!/usr/bin/env node
/**
 * Peak resident memory of Model.load over the whole hostile checkpoint corpus
 * (test/support/checkpoint-attacks.js, the 35 MB aliasing file included),
 * against a child that loads only the valid checkpoint the attacks start from.
 * Each child loads its files in one process (test/support/load-corpus.mjs);
 * its peak RSS is getrusage's maxrss. Prints the corpus size, the medians of
 * `--runs` runs (default 3), and the slowest files.
 *
 * Usage: node scripts/bench/checkpoint-rss.mjs [--runs 3]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { baseCheckpoint, checkpointAttacks } from '../../test/support/checkpoint-attacks.js';
import { loadInChild, writeCorpus } from '../../test/support/corpus-files.js';

const i = process.argv.indexOf('--runs');
const runs = i >= 0 ? Number(process.argv[i + 1]) : 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;

const root = mkdtempSync(join(tmpdir(), 'torchfit-rss-'));
try {
  const attacks = checkpointAttacks({ large: true });
  const base = { name: 'base', bytes: baseCheckpoint() };
  mkdirSync(join(root, 'base'));
  mkdirSync(join(root, 'corpus'));
  writeCorpus(join(root, 'base'), [base]);
  writeCorpus(join(root, 'corpus'), [base, ...attacks]);
  const bytes = attacks.reduce((a, f) => a + f.bytes.length, 0);
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`corpus: ${attacks.length} hostile files in ${new Set(attacks.map((a) => a.class)).size} classes, ${(bytes / 2 ** 20).toFixed(1)} MiB in all, largest ${(Math.max(...attacks.map((a) => a.bytes.length)) / 2 ** 20).toFixed(1)} MiB; base checkpoint ${(base.bytes.length / 1024).toFixed(0)} KiB`);
  const peaks = { base: [], corpus: [] };
  const times = new Map();
  for (let r = 0; r < runs; r++) {
    for (const which of ['base', 'corpus']) {
      const run = await loadInChild(join(root, which));
      if (run.signal !== null || run.code !== 0) throw new Error(`the ${which} child died (${run.signal ?? run.code}): ${run.stderr}`);
      const refusedAll = [...run.results.values()].every((x) => x.name === 'base' || x.outcome === 'refused');
      if (!refusedAll) throw new Error(`a hostile file loaded in the ${which} run`);
      peaks[which].push(run.maxRssKb);
      if (which === 'corpus') for (const x of run.results.values()) times.set(x.name, [...(times.get(x.name) ?? []), x.ms]);
    }
  }
  console.log(`peak RSS, median of ${runs} runs: base checkpoint alone ${mb(median(peaks.base))}, whole corpus ${mb(median(peaks.corpus))} (runs: ${peaks.corpus.map(mb).join(', ')})`);
  const slow = [...times].map(([name, ms]) => [name, median(ms)]).sort((a, b) => b[1] - a[1]).slice(0, 6);
  console.log(`slowest files (median ms): ${slow.map(([n, ms]) => `${n} ${ms.toFixed(1)}`).join(', ')}`);
  const all = [...times].filter(([n]) => n !== 'base').map(([, ms]) => median(ms));
  console.log(`hostile files: median ${median(all).toFixed(1)} ms to refuse, total ${all.reduce((a, b) => a + b, 0).toFixed(0)} ms`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
