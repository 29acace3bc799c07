#!/usr/bin/env node
/**
 * Times loading the dataset file: our loadDataset() against numpy's
 * `np.load(path, allow_pickle=True)[()]`, each run in a fresh process (ours and
 * numpy's alternating, so machine load hits both alike), timing only the load.
 * Prints the medians, the ratio ours/numpy and each side's peak RSS.
 *
 *   node scripts/bench/load.mjs [--file data/fashion_mnist_dataset_train.npy] [--runs 7] [--json out.json]
 *
 * Needs `npx tsc -p .` (dist/) and, for the numpy side, /usr/bin/python3 with numpy.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const PYTHON = process.env.TORCHFIT_PYTHON ?? '/usr/bin/python3';

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

if (process.argv[2] === '--child') {
  // One timed load in this fresh process; report time, RSS before, peak RSS and array bytes.
  const { loadDataset } = await import(resolve(root, 'dist/data/index.js'));
  const file = process.argv[3];
  const rssBefore = process.memoryUsage.rss();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const d = await loadDataset(file);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const arrayBytes = d.features.data.byteLength + d.target.data.byteLength;
  process.stdout.write(JSON.stringify({ ms, cpuMs, rssBefore, peakRss, arrayBytes, shape: d.features.shape }));
  process.exit(0);
}

const PY_CHILD = `
import sys, time, json, resource
import numpy as np
path = sys.argv[1]
r0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
d = np.load(path, allow_pickle=True)[()]
ms = (time.perf_counter() - t0) * 1000
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000
print(json.dumps({"ms": ms, "cpuMs": cpu, "peakRss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "shape": list(d["features"].shape), "numpy": np.__version__}))
`;

const file = resolve(arg('--file', resolve(root, 'data/fashion_mnist_dataset_train.npy')));
const runs = Number(arg('--runs', '7'));
const jsonOut = arg('--json', undefined);

if (!existsSync(file)) {
  console.log(`${file} is missing: building the dataset first...`);
  const { buildDataset } = await import(resolve(root, 'dist/data/index.js'));
  await buildDataset({ outDir: dirname(file) });
}
// Both sides then read from the page cache.
readFileSync(file);

const hasNumpy = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const ours = [];
const theirs = [];
for (let i = 0; i < runs; i++) {
  ours.push(JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', file], { encoding: 'utf8' })));
  if (hasNumpy) theirs.push(JSON.parse(execFileSync(PYTHON, ['-c', PY_CHILD, file], { encoding: 'utf8' })));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mb = (b) => (b / 2 ** 20).toFixed(1);
const oursMs = median(ours.map((r) => r.ms));
const peak = Math.max(...ours.map((r) => r.peakRss));
const arrayBytes = ours[0].arrayBytes;
const result = {
  file, runs, node: process.version, cpus: cpus().length, loadAverage: loadavg(),
  ours: { medianMs: oursMs, runsMs: ours.map((r) => r.ms), medianCpuMs: median(ours.map((r) => r.cpuMs)), peakRssBytes: peak, rssBeforeLoadBytes: median(ours.map((r) => r.rssBefore)) },
  numpy: hasNumpy
    ? { medianMs: median(theirs.map((r) => r.ms)), runsMs: theirs.map((r) => r.ms), medianCpuMs: median(theirs.map((r) => r.cpuMs)), peakRssBytes: Math.max(...theirs.map((r) => r.peakRss)), version: theirs[0].numpy }
    : null,
  arrayBytes,
  ratio: hasNumpy ? oursMs / median(theirs.map((r) => r.ms)) : null,
  peakRssOverArrayBytes: peak / arrayBytes,
};

console.log(`file: ${file} (features ${ours[0].shape.join('x')}, arrays ${mb(arrayBytes)} MiB), ${runs} fresh-process runs each`);
console.log(`machine: ${result.cpus} CPUs, load average ${result.loadAverage.map((x) => x.toFixed(2)).join(' ')} (timings are only comparable on an idle machine)`);
console.log(`ours  loadDataset : median ${oursMs.toFixed(1)} ms wall, ${result.ours.medianCpuMs.toFixed(1)} ms CPU  [${result.ours.runsMs.map((x) => x.toFixed(0)).join(', ')}]`);
if (result.numpy) {
  console.log(`numpy ${result.numpy.version} np.load: median ${result.numpy.medianMs.toFixed(1)} ms wall, ${result.numpy.medianCpuMs.toFixed(1)} ms CPU  [${result.numpy.runsMs.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`ratio ours/numpy: ${result.ratio.toFixed(2)}`);
} else {
  console.log(`numpy: not available at ${PYTHON}, skipped`);
}
console.log(`peak RSS ours: ${mb(peak)} MiB (${result.peakRssOverArrayBytes.toFixed(2)}x the array bytes; ${mb(result.ours.rssBeforeLoadBytes)} MiB before loading)`
  + (result.numpy ? `; numpy process: ${mb(result.numpy.peakRssBytes)} MiB` : ''));
if (jsonOut) {
  writeFileSync(jsonOut, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${jsonOut}`);
}
