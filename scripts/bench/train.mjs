#!/usr/bin/env node
// `npm run bench`: ours against the Python reference port (eager PyTorch on the same
// machine, data, split, models, batch and threads), one model at a time, each run in its
// own process. Prints a table, writes bench-results/bench.json and bench-results/benchmark.md,
// and with --docs refreshes the table of docs/performance.md between its bench markers.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'cnn,resnet' },
    epochs: { type: 'string', default: '3' },
    device: { type: 'string', default: 'cpu' },
    threads: { type: 'string', default: String(availableParallelism()) },
    depth: { type: 'string', default: '2' },
    limit: { type: 'string' },
    out: { type: 'string', default: join(root, 'bench-results') },
    docs: { type: 'boolean', default: false },
    python: { type: 'string', default: '/usr/bin/python3' },
    kernels: { type: 'string', default: 'fused' },
    // Runs ours and Python alternately this many times per model (a shared machine's load
    // comes and goes: interleaving exposes both sides to it alike); times are medians over all runs.
    repeat: { type: 'string', default: '1' },
  },
});

// The notebook's own published figures (Keras on a Colab GPU, its own data; docs/parity.md).
const KERAS = {
  cnn: { train: 0.8864, val: 0.8513, test: 0.8513, secondsPerEpoch: 2, msPerStep: 6 },
  resnet: { train: 0.7601, val: 0.7463, test: 0.7347, secondsPerEpoch: 1, msPerStep: 3 },
};

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length === 0 ? NaN : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
// Median over epochs with the first (warm-up) excluded when there are others.
const steady = (xs) => median(xs.length > 1 ? xs.slice(1) : xs);

function run(label, command, args) {
  console.log(`\n--- ${label}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, OMP_NUM_THREADS: values.threads } });
  if (result.status !== 0) throw new Error(`${label} failed (exit ${result.status})`);
}

mkdirSync(values.out, { recursive: true });
// Each invocation's own scratch folder: two benchmarks at once must not read each other's runs.
const scratch = mkdtempSync(join(tmpdir(), 'torchfit-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const common = ['--epochs', values.epochs, '--device', values.device, '--threads', values.threads, '--depth', values.depth,
  ...(values.limit ? ['--limit', values.limit] : [])];
const loadBefore = os.loadavg()[0];
const rows = [];
const repeat = Math.max(1, Number(values.repeat));
// Steady-state figures of several runs: every run's epochs but its first, together.
const pooled = (runs, model) => {
  const first = runs[0].models[model];
  if (runs.length === 1) return first;
  const steadyOf = (key) => runs.flatMap((r) => { const xs = r.models[model].history[key]; return xs.length > 1 ? xs.slice(1) : xs; });
  return { ...first, history: { ...first.history, ms_per_step: [NaN, ...steadyOf('ms_per_step')], seconds: [NaN, ...steadyOf('seconds')] } };
};
for (const model of values.models.split(',')) {
  const oursRuns = [];
  const pyRuns = [];
  for (let i = 0; i < repeat; i += 1) {
    const oursJson = join(scratch, `ours-${model}-${i}.json`);
    const pyJson = join(scratch, `py-${model}-${i}.json`);
    const tag = repeat > 1 ? ` run ${i + 1}/${repeat}` : '';
    run(`ours (${model})${tag}`, process.execPath, [join(root, 'scripts', 'bench', 'train-ours.mjs'), '--model', model, ...common, '--kernels', values.kernels, '--json', oursJson]);
    run(`python (${model})${tag}`, values.python, [join(root, 'reference', 'notebook_port.py'), '--models', model, ...common, '--quiet', '--json', pyJson]);
    oursRuns.push(JSON.parse(readFileSync(oursJson, 'utf8')));
    pyRuns.push(JSON.parse(readFileSync(pyJson, 'utf8')));
  }
  const maxRss = (runs) => Math.max(...runs.map((r) => r.peak_rss_mb));
  const ours = { ...oursRuns[0], peak_rss_mb: maxRss(oursRuns), runs: oursRuns };
  const py = { ...pyRuns[0], peak_rss_mb: maxRss(pyRuns), runs: pyRuns };
  rows.push({ model, ours, py, o: pooled(oursRuns, model), p: pooled(pyRuns, model) });
}

// Dataset load: ours against np.load, from the data layer's own benchmark.
let load;
const loadJson = join(scratch, 'load.json');
if (existsSync(join(root, 'scripts', 'bench', 'load.mjs'))) {
  run('dataset load', process.execPath, [join(root, 'scripts', 'bench', 'load.mjs'), '--json', loadJson]);
  load = JSON.parse(readFileSync(loadJson, 'utf8'));
}

const pct = (x) => (x === undefined || x === null || Number.isNaN(x) ? '–' : `${(100 * x).toFixed(2)} %`);
const num = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '–' : x.toFixed(d));
const ratio = (a, b) => (a > 0 && b > 0 ? (a / b).toFixed(2) : '–');

const lines = [];
const date = new Date().toISOString().slice(0, 10);
lines.push(`Measured ${date} on ${cpus()[0]?.model ?? 'unknown CPU'} (${availableParallelism()} cores), ${values.threads} threads, device ${values.device}, ` +
  `${values.epochs} epochs${values.limit ? ` on the first ${values.limit} training images` : ' on the 54,000 training images'}; ` +
  `ours: libtorch ${rows[0]?.ours.libtorch}, Node ${process.version}, kernels ${values.kernels}; Python: torch ${rows[0]?.py.torch_version ?? rows[0]?.py.torch ?? '?'}. ` +
  `Load average ${loadBefore.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end (the benchmark itself keeps the 2 cores busy; a load well above 2 means other work shared the machine, which distorts both sides, Python's spinning OpenMP threads more than ours, which wait passively). ` +
  `Times are medians over epochs, the first of each run excluded${repeat > 1 ? `, over ${repeat} interleaved runs of each side (accuracies: the first run; peak RSS: the largest)` : ''}. Keras: the notebook's own figures (Colab GPU, its own data).`);
lines.push('');
lines.push('| model | measure | ours | Python (PyTorch eager) | ours / Python | Keras notebook |');
lines.push('|---|---|---|---|---|---|');
for (const { model, ours, py, o, p } of rows) {
  const name = model === 'cnn' ? 'CNN' : `ResNet v1 depth ${values.depth}`;
  const k = KERAS[model];
  const oMs = steady(o.history.ms_per_step);
  const pMs = steady(p.history.ms_per_step);
  const oS = steady(o.history.seconds);
  const pS = steady(p.history.seconds);
  const samples = (o.steps_per_epoch * Number(128));
  lines.push(`| ${name} | ms/step | ${num(oMs)} | ${num(pMs)} | ${ratio(oMs, pMs)} | ${k.msPerStep} |`);
  if (ours.runs.length > 1) {
    // Each interleaved pair on its own, so the table shows how far a shared machine's slow
    // spells moved the figures, beside the pooled medians above.
    const pairs = ours.runs.map((r, i) => [steady(r.models[model].history.ms_per_step), steady(py.runs[i].models[model].history.ms_per_step)]);
    const each = pairs.map(([a, b]) => `${num(a)} / ${num(b)} (${ratio(a, b)})`).join('; ');
    lines.push(`| ${name} | ms/step of each pair, ours / Python | ${each} | | median ${num(median(pairs.map(([a, b]) => a / b)), 2)} | |`);
  }
  lines.push(`| ${name} | s/epoch (with validation) | ${num(oS, 2)} | ${num(pS, 2)} | ${ratio(oS, pS)} | ${k.secondsPerEpoch} |`);
  lines.push(`| ${name} | samples/s | ${num(samples / (oMs * o.steps_per_epoch / 1000), 0)} | ${num(samples / (pMs * p.steps_per_epoch / 1000), 0)} | ${ratio(pMs, oMs)} | |`);
  lines.push(`| ${name} | peak RSS (MB) | ${num(ours.peak_rss_mb, 0)} | ${num(py.peak_rss_mb, 0)} | ${ratio(ours.peak_rss_mb, py.peak_rss_mb)} | |`);
  for (const part of ['train', 'val', 'test']) {
    lines.push(`| ${name} | ${part} accuracy | ${pct(o.final[part].accuracy)} | ${pct(p.final[part].accuracy)} | ${num(100 * (o.final[part].accuracy - p.final[part].accuracy), 2)} pts | ${pct(k[part])} |`);
  }
  lines.push(`| ${name} | test loss | ${num(o.final.test.loss, 4)} | ${num(p.final.test.loss, 4)} | | |`);
}
if (load) {
  lines.push(`| dataset | load ${load.file.split('/').pop()} (ms, median of ${load.runs}) | ${num(load.ours.medianMs, 0)} | ${num(load.numpy.medianMs, 0)} (np.load) | ${num(load.ratio, 2)} | |`);
  lines.push(`| dataset | peak RSS while loading (MB) | ${num(load.ours.peakRssBytes / 2 ** 20, 0)} | ${num(load.numpy.peakRssBytes / 2 ** 20, 0)} | ${ratio(load.ours.peakRssBytes, load.numpy.peakRssBytes)} | |`);
}
const table = lines.join('\n');
console.log(`\n${table}\n`);
writeFileSync(join(values.out, 'bench.json'), JSON.stringify({ date, options: values, rows: rows.map(({ model, ours, py }) => ({ model, ours, python: py })), load }, null, 1));
writeFileSync(join(values.out, 'benchmark.md'), `${table}\n`);
console.log(`Wrote ${join(values.out, 'bench.json')} and benchmark.md`);

if (values.docs) {
  const page = join(root, 'docs', 'performance.md');
  const text = readFileSync(page, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  if (text.includes(start) && text.includes(end)) {
    writeFileSync(page, text.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n${table}\n${end}`));
    console.log('Updated the table in docs/performance.md');
  }
}
