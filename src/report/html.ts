/**
 * The report page: one self-contained HTML file (inline CSS, no scripts, no
 * external resources) that shows the figures written beside it.
 */
import { resolveLayout } from '../data/image-layout.js';
import type { NdArray } from '../data/ndarray.js';
import type { ClassificationReport } from './metrics.js';
import { formatFixed } from './pyformat.js';
import { notebookResultFor } from './notebook.js';
import { formatSummary } from './summary.js';
import type { ReportInput, ReportRun } from './types.js';
import { stopLabel } from './stop-label.js';

/** A figure as the page refers to it: files relative to the page. */
export interface PageFigure {
  svgPath: string;
  pngPath: string;
  width: number;
  height: number;
  alt: string;
  caption: string;
}

/** Metrics of one split of one run. */
export interface SplitMetrics {
  numSamples: number;
  accuracy: number;
  confusionMatrix: number[][];
  classificationReport: ClassificationReport;
}

/** What the page shows for one run besides its ReportRun. */
export interface PageRun {
  run: ReportRun;
  anchor: string;
  test: SplitMetrics;
  heldOut?: SplitMetrics;
  figures: { curves: PageFigure; diagram: PageFigure; confusionTest: PageFigure; confusionHeldOut?: PageFigure };
}

/** Everything the page needs. */
export interface PageData {
  input: ReportInput;
  title: string;
  createdAt: string;
  runs: PageRun[];
  samples?: PageFigure;
  comparisonCurves?: PageFigure;
  resultsFile: string;
}

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @example
 * ```ts
 * escapeHtml('<b>"Trousers & dresses"</b>'); // '&lt;b&gt;&quot;Trousers &amp; dresses&quot;&lt;/b&gt;'
 * ```
 */
export function escapeHtml(s: string): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const e = escapeHtml;
const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(2)} %`);
const fixed = (x: number | undefined, d: number) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
const int = (x: number) => x.toLocaleString('en-US');

/** "+0.42 pt" against a reference accuracy, coloured by sign. */
function delta(ours: number, reference: number | undefined): string {
  if (reference === undefined || !Number.isFinite(ours)) return '';
  const d = (ours - reference) * 100;
  const cls = d >= 0.005 ? 'up' : d <= -0.005 ? 'down' : 'same';
  const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
  return `<br><span class="delta ${cls}" title="difference from the notebook, in percentage points">${sign}${Math.abs(d).toFixed(2)} pt</span>`;
}

function figureHtml(f: PageFigure, extraClass = ''): string {
  return `<figure class="${e(extraClass)}">
  <a href="${e(f.svgPath)}"><img src="${e(f.svgPath)}" width="${f.width}" height="${f.height}" alt="${e(f.alt)}"></a>
  <figcaption>${e(f.caption)} · <a href="${e(f.pngPath)}">PNG</a> · <a href="${e(f.svgPath)}">SVG</a></figcaption>
</figure>`;
}

function table(headers: string[], rows: string[][], numeric: ReadonlySet<number> = new Set(), rowClasses: string[] = []): string {
  const th = headers.map((h, i) => `<th${numeric.has(i) ? ' class="num"' : ''}>${h}</th>`).join('');
  const body = rows
    .map((r, ri) => `<tr${rowClasses[ri] ? ` class="${rowClasses[ri]}"` : ''}>${r.map((c, i) => `<td${numeric.has(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** Option values as compact JSON (strings unquoted), escaped. */
function optionValue(v: unknown): string {
  if (typeof v === 'string') return `<code>${e(v)}</code>`;
  let s: string;
  try {
    s = JSON.stringify(v, (_k, x) => (ArrayBuffer.isView(x) ? `[${(x as unknown as ArrayLike<number>).length} values]` : typeof x === 'bigint' ? String(x) : x)) ?? String(v);
  } catch {
    s = String(v);
  }
  return `<code>${e(s)}</code>`;
}

function optionsTable(options: Record<string, unknown> | undefined): string {
  // What results.json cannot keep (undefined, callbacks) is not shown either, so a redrawn page is the same.
  const entries = Object.entries(options ?? {}).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol');
  if (entries.length === 0) return '<p class="meta">No options recorded.</p>';
  return table(['Option', 'Value'], entries.map(([k, v]) => [`<code>${e(k)}</code>`, optionValue(v)]));
}

function reportTable(r: ClassificationReport): string {
  const n4 = (x: number) => formatFixed(x, 4);
  const rows = r.perClass.map((c) => [e(c.name), n4(c.precision), n4(c.recall), n4(c.f1), int(c.support)]);
  const classes = r.perClass.map(() => '');
  if (r.accuracy !== undefined) {
    rows.push(['accuracy', '', '', n4(r.accuracy), int(r.macroAvg.support)]);
    classes.push('avg first');
  } else if (r.microAvg) {
    rows.push(['micro avg', n4(r.microAvg.precision), n4(r.microAvg.recall), n4(r.microAvg.f1), int(r.microAvg.support)]);
    classes.push('avg first');
  }
  rows.push(['macro avg', n4(r.macroAvg.precision), n4(r.macroAvg.recall), n4(r.macroAvg.f1), int(r.macroAvg.support)]);
  rows.push(['weighted avg', n4(r.weightedAvg.precision), n4(r.weightedAvg.recall), n4(r.weightedAvg.f1), int(r.weightedAvg.support)]);
  classes.push('avg', 'avg');
  return table(['Class', 'Precision', 'Recall', 'F1-score', 'Support'], rows, new Set([1, 2, 3, 4]), classes);
}

function splitBlock(title: string, m: SplitMetrics, figure: PageFigure): string {
  return `<h3>${e(title)}</h3>
<div class="cols">
${figureHtml(figure, 'confusion')}
<div>
<p class="meta">Accuracy ${pct(m.accuracy)} on ${int(m.numSamples)} images. Classification report (scikit-learn's numbers, 4 decimals):</p>
${reportTable(m.classificationReport)}
<p class="meta">As <code>sklearn.metrics.classification_report</code> prints it:</p>
<pre class="sklearn">${e(m.classificationReport.text)}</pre>
</div>
</div>`;
}

function epochLog(run: ReportRun): string {
  const h = run.history;
  const rows = h.epoch.map((ep, i) => [
    String(ep),
    fixed(h.loss[i], 4),
    fixed(h.accuracy[i], 4),
    fixed(h.valLoss[i], 4),
    fixed(h.valAccuracy[i], 4),
    fixed(h.seconds[i], 2),
    fixed(h.msPerStep[i], 2),
    h.learningRate?.[i] === undefined ? '—' : e(String(h.learningRate[i])),
  ]);
  const classes = h.epoch.map((ep) => (ep === run.stoppedEpoch ? 'stopped' : ''));
  return `<details>
<summary>Per-epoch log (${h.epoch.length} epochs${run.stoppedEpoch !== undefined ? `, ${stopLabel(run.stopReason)} at epoch ${run.stoppedEpoch}` : ''})</summary>
${table(['Epoch', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'Seconds', 'ms/step', 'Learning rate'], rows, new Set([0, 1, 2, 3, 4, 5, 6, 7]), classes)}
</details>`;
}

function runSection(p: PageRun, input: ReportInput): string {
  const { run } = p;
  const s = run.summary;
  const epochsPlanned = typeof run.options.epochs === 'number' ? run.options.epochs : undefined;
  const epochsRun = run.history.epoch.length;
  const meta = [
    `<code>${e(s.name)}</code>`,
    `${int(s.totalParams)} parameters (${int(s.trainableParams)} trainable)`,
    `trained on ${e(run.device)}`,
    `${epochsRun}${epochsPlanned !== undefined ? ` of ${epochsPlanned}` : ''} epochs`,
    run.stoppedEpoch !== undefined ? `${stopLabel(run.stopReason)} at epoch ${run.stoppedEpoch}` : 'no early stop',
  ].join(' · ');
  const split = input.dataset.split;
  const finals: string[][] = [
    ['Training', int(split.train), fixed(run.final.train.loss, 4), pct(run.final.train.accuracy)],
    ['Validation', int(split.val), fixed(run.final.val.loss, 4), pct(run.final.val.accuracy)],
    ['Test', int(split.test), fixed(run.final.test.loss, 4), pct(run.final.test.accuracy)],
  ];
  if (run.final.heldOut) {
    finals.push(['Held-out file', int(run.final.heldOut.numSamples), fixed(run.final.heldOut.loss, 4), pct(run.final.heldOut.accuracy)]);
  }
  const t = run.timings;
  const timings = table(
    ['Device', 'ms / step', 's / epoch', 'Total seconds', 'Epochs'],
    [[e(run.device), fixed(t.msPerStep, 2), fixed(t.secondsPerEpoch, 2), fixed(t.totalSeconds, 1), String(epochsRun)]],
    new Set([1, 2, 3, 4]),
  );
  return `<section class="run" id="${e(p.anchor)}">
<h2>${e(run.name)}</h2>
<p class="meta">${meta}</p>
<h3>Final loss and accuracy</h3>
${table(['Split', 'Images', 'Loss', 'Accuracy'], finals, new Set([1, 2, 3]))}
<h3>Training curves</h3>
${figureHtml(p.figures.curves, 'wide')}
${warningNotes(run)}
${splitBlock('Test split: confusion matrix and classification report', p.test, p.figures.confusionTest)}
${p.heldOut && p.figures.confusionHeldOut ? splitBlock('Held-out file: confusion matrix and classification report', p.heldOut, p.figures.confusionHeldOut) : ''}
<h3>Timings</h3>
${timings}
${epochLog(run)}
<h3>Model</h3>
<div class="cols model">
${figureHtml(p.figures.diagram, 'diagram')}
<div>
<p class="meta">Keras-style <code>model.summary()</code>:</p>
<pre class="summary">${e(formatSummary(s))}</pre>
</div>
</div>
<h3>Training options</h3>
${optionsTable(run.options)}
</section>`;
}

/** The run's warnings (the BatchNorm lag above all), beside its curves. */
function warningNotes(run: ReportRun): string {
  return (run.warnings ?? []).map((w) => `<p class="warning" data-code="${e(w.code)}"><strong>Note:</strong> ${e(w.message)}</p>`).join('\n');
}

function comparisonSection(data: PageData): string {
  const rows: string[][] = [];
  const classes: string[] = [];
  for (const p of data.runs) {
    const r = p.run;
    const ref = notebookResultFor(r.summary);
    // A subset run is not scored against the notebook's full-run figures.
    const against = (x: number | undefined) => (r.subset === undefined ? x : undefined);
    rows.push([
      `<a href="#${e(p.anchor)}">${e(r.name)}</a>`,
      r.subset === undefined ? 'this run' : `this run: a subset<br><span class="delta same">${e(r.subset)}</span>`,
      pct(r.final.train.accuracy) + delta(r.final.train.accuracy, against(ref?.trainAccuracy)),
      pct(r.final.val.accuracy) + delta(r.final.val.accuracy, against(ref?.valAccuracy)),
      pct(r.final.test.accuracy) + delta(r.final.test.accuracy, against(ref?.testAccuracy)),
      r.final.heldOut ? pct(r.final.heldOut.accuracy) : '—',
      fixed(r.final.test.loss, 4),
      String(r.history.epoch.length) + (r.stoppedEpoch !== undefined ? '<br><span class="delta same">early stop</span>' : ''),
      fixed(r.timings.secondsPerEpoch, 2),
      fixed(r.timings.msPerStep, 2),
      e(r.device),
      int(r.summary.totalParams),
    ]);
    classes.push('ours');
    if (ref) {
      rows.push([
        e(ref.model),
        'notebook',
        pct(ref.trainAccuracy),
        pct(ref.valAccuracy),
        pct(ref.testAccuracy),
        '—',
        '—',
        '—',
        `≈ ${ref.secondsPerEpoch}`,
        `≈ ${ref.msPerStep}`,
        e(ref.device),
        '—',
      ]);
      classes.push('ref');
    }
  }
  const heading = data.runs.length > 1 ? data.runs.map((p) => e(p.run.name)).join(' versus ') : 'Results';
  return `<section id="comparison">
<h2>${heading}</h2>
<div class="table-scroll">
${table(
  ['Model', 'Source', 'Train<br>accuracy', 'Validation<br>accuracy', 'Test<br>accuracy', 'Held-out<br>accuracy', 'Test<br>loss', 'Epochs', 's /<br>epoch', 'ms /<br>step', 'Device', 'Parameters'],
  rows,
  new Set([2, 3, 4, 5, 6, 7, 8, 9, 11]),
  classes,
)}
</div>
<p class="note">Notebook rows: the figures the original notebook published, on its own copy of the data set and a Colab GPU; its times are Keras's rounded progress-bar figures. Differences under each of our accuracies are in percentage points against the notebook.</p>
${subsetNote(data)}
${data.comparisonCurves ? figureHtml(data.comparisonCurves, 'wide') : ''}
</section>`;
}

function subsetNote(data: PageData): string {
  const subsets = data.runs.filter((p) => p.run.subset !== undefined);
  if (subsets.length === 0) return '';
  return `<p class="note subset">${subsets.map((p) => e(p.run.name)).join(' and ')}: a subset run (${e(subsets[0]!.run.subset!)}), a first look rather than ` +
    'the notebook\'s full run, so its accuracies are not compared with the notebook\'s figures. Run without --quick or --limit for those.</p>';
}

/** "grey-scale images of 28 × 28 pixels", "colour images (3 channels) of 32 × 32 pixels", from the samples' shape. */
function imageKind(samples: NdArray | undefined): string {
  if (samples === undefined || (samples.shape.length !== 3 && samples.shape.length !== 4)) return 'images';
  let c: number, h: number, w: number;
  try {
    [, c, h, w] = resolveLayout(samples.shape, 'sampleImages').shape;
  } catch {
    return 'images';
  }
  return `${c === 1 ? 'grey-scale images' : `colour images (${c} channels)`} of ${h} × ${w} pixels`;
}

function datasetSection(data: PageData): string {
  const d = data.input.dataset;
  const total = d.split.train + d.split.val + d.split.test;
  const share = (n: number) => (total > 0 ? `${((n / total) * 100).toFixed(1)} %` : '—');
  const classes = table(['Label', 'Class'], d.classNames.map((c, i) => [String(i + 1), e(c)]), new Set([0]));
  const splits = table(
    ['Split', 'Images', 'Share'],
    [
      ['Training', int(d.split.train), share(d.split.train)],
      ['Validation', int(d.split.val), share(d.split.val)],
      ['Test', int(d.split.test), share(d.split.test)],
      ['Total', int(total), total > 0 ? '100 %' : '—'],
    ],
    new Set([1, 2]),
    ['', '', '', 'total'],
  );
  return `<section id="dataset">
<h2>Data set</h2>
<p><code>${e(d.file)}</code>: ${int(d.numSamples)} ${imageKind(d.sampleImages)} in ${d.classNames.length} classes, labelled 1 to ${d.classNames.length} as in the notebook.</p>
<div class="cols tables">
<div><h3>Classes</h3>${classes}</div>
<div><h3>Splits</h3>${splits}</div>
</div>
${data.samples ? `<h3>Sample images</h3>\n${figureHtml(data.samples, 'wide')}` : ''}
</section>`;
}

function environmentLine(input: ReportInput): string {
  const env = input.environment;
  if (!env) return '';
  return [`libtorch ${e(env.libtorchVersion)}`, e(env.device), `${env.threads} threads`, `Node ${e(env.node)}`, e(env.platform)].join(' · ');
}

const CSS = `
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --accent: #2563eb; --bg: #f3f4f6; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 15px/1.55 'Liberation Sans', Arial, Helvetica, 'DejaVu Sans', sans-serif; color: var(--ink); background: var(--bg); }
header { background: #fff; border-bottom: 1px solid var(--line); }
header .inner, main, footer { max-width: 1320px; margin: 0 auto; padding-left: 32px; padding-right: 32px; }
header .inner { padding-top: 24px; padding-bottom: 14px; }
h1 { font-size: 26px; line-height: 1.25; margin: 0 0 6px; }
h2 { font-size: 21px; margin: 0 0 6px; }
h3 { font-size: 16px; margin: 26px 0 8px; color: #374151; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
nav { margin-top: 10px; font-size: 14px; }
nav a { margin-right: 18px; white-space: nowrap; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 22px 26px 16px; margin: 24px 0; }
.meta, .note { color: var(--muted); margin: 0 0 8px; font-size: 14px; }
.note { margin-top: 8px; max-width: 80ch; }
.warning { margin: 8px 0 12px; padding: 8px 12px; max-width: 100ch; font-size: 14px; background: #fffbeb; border-left: 4px solid #d97706; border-radius: 4px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 14px; }
th, td { padding: 6px 12px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: #f9fafb; font-weight: bold; border-bottom: 2px solid #d1d5db; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.ref td { color: var(--muted); font-style: italic; background: #fafafa; }
tr.ours td:first-child a { font-weight: bold; }
tr.avg td { background: #f9fafb; }
tr.first td { border-top: 2px solid #d1d5db; }
tr.total td { font-weight: bold; border-top: 2px solid #d1d5db; }
tr.stopped td { background: #fef3c7; }
.delta { font-size: 12px; font-style: normal; }
.delta.up { color: #15803d; } .delta.down { color: #b91c1c; } .delta.same { color: var(--muted); }
code { font-family: 'Liberation Mono', 'DejaVu Sans Mono', monospace; font-size: 0.92em; }
pre { font: 12.5px/1.45 'Liberation Mono', 'DejaVu Sans Mono', monospace; background: #f9fafb; border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; overflow-x: auto; margin: 6px 0 12px; }
figure { margin: 10px 0 16px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
.cols { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
.cols > * { flex: 1 1 420px; min-width: 0; }
.cols > figure.confusion { flex: 0 1 auto; }
.cols.tables > div { flex: 0 1 auto; }
.cols.tables h3 { margin-top: 8px; }
.cols.model > figure.diagram { flex: 0 0 auto; max-width: 100%; }
.table-scroll { overflow-x: auto; }
details { margin: 4px 0 12px; }
summary { cursor: pointer; color: var(--accent); font-size: 14px; }
footer { color: var(--muted); font-size: 13px; padding-top: 4px; padding-bottom: 32px; }
@media print { body { background: #fff; } section { border: none; padding: 0; } }
`;

/**
 * Builds the report page.
 *
 * @example
 * ```ts
 * const html = renderReportHtml(pageData); // what writeReport() saves as report.html
 * ```
 */
export function renderReportHtml(data: PageData): string {
  const nav = [
    '<a href="#dataset">Data set</a>',
    `<a href="#comparison">${data.runs.length > 1 ? 'Comparison' : 'Results'}</a>`,
    ...data.runs.map((p) => `<a href="#${e(p.anchor)}">${e(p.run.name)}</a>`),
    '<a href="#options">Options</a>',
  ].join('\n');
  const env = environmentLine(data.input);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="torchfit">
<title>${e(data.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><div class="inner">
<h1>${e(data.title)}</h1>
<p class="meta">Created ${e(data.createdAt)}${env ? ` · ${env}` : ''}</p>
<nav>
${nav}
</nav>
</div></header>
<main>
${datasetSection(data)}
${comparisonSection(data)}
${data.runs.map((p) => runSection(p, data.input)).join('\n')}
<section id="options">
<h2>Options</h2>
<p class="meta">The options of the command that produced this report.</p>
${optionsTable(data.input.options)}
</section>
</main>
<footer>Made by torchfit. Machine-readable results (everything needed to redraw this page): <a href="${e(data.resultsFile)}">${e(data.resultsFile)}</a>.</footer>
</body>
</html>
`;
}
