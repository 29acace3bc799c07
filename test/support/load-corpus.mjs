#!/usr/bin/env node
// Child process for the hostile-checkpoint tests and the RSS script: loads every file listed in
// <dir>/manifest.json with Model.load and prints one JSON line per file, then one with the peak RSS.
// Run apart from the test runner so that a crash (SIGSEGV, abort, OOM kill) shows as a dead child
// instead of taking the runner down or going unseen.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const { Model } = await import(process.env.TORCHFIT_DIST ?? '../../dist/index.js');
const dir = process.argv[2];
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
for (const { name, options } of manifest) {
  const path = join(dir, `${name}.pt`);
  const start = process.hrtime.bigint();
  let out;
  try {
    const model = await Model.load(path, options ?? {});
    out = { name, outcome: 'loaded', config: model.config };
    model.dispose();
  } catch (error) {
    out = { name, outcome: 'refused', type: error?.constructor?.name, code: error?.code, message: String(error?.message), file: error?.file };
  }
  out.ms = Number(process.hrtime.bigint() - start) / 1e6;
  out.maxRssKb = process.resourceUsage().maxRSS;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
process.stdout.write(`${JSON.stringify({ done: true, maxRssKb: process.resourceUsage().maxRSS })}\n`);
