// Writes a list of { name, bytes, options? } into a folder with the manifest load-corpus.mjs reads,
// and runs that child on it; shared by the hostile-checkpoint tests and scripts/bench/checkpoint-rss.mjs.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./load-corpus.mjs', import.meta.url));
const DIST = new URL('../../dist/index.js', import.meta.url).href;

/** Writes the files and manifest.json into `dir`. */
export function writeCorpus(dir, files) {
  for (const f of files) writeFileSync(join(dir, `${f.name}.pt`), f.bytes);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(files.map((f) => ({ name: f.name, options: f.options }))));
}

/**
 * Loads every file of `dir` in a child process. Resolves with { code, signal, results (by name),
 * maxRssKb, stderr } whatever happens to the child, so a crash is an assertion failure, not a lost runner.
 */
export function loadInChild(dir, { execArgv = [] } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, CHILD, dir], { env: { ...process.env, TORCHFIT_DIST: DIST }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const results = new Map(lines.filter((l) => l.name).map((l) => [l.name, l]));
      const done = lines.find((l) => l.done);
      resolve({ code, signal, results, maxRssKb: done?.maxRssKb, stderr: err.slice(-4000) });
    });
  });
}
