/**
 * writeReport(): the HTML report, results.json and every figure, in one directory.
 */
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../data/atomic-write.js';
import { InvalidOptionError } from '../errors.js';
import { confusionMatrix, classificationReport, accuracyScore } from './metrics.js';
import { renderConfusionMatrix } from './confusion-plot.js';
import { renderTrainingCurves } from './curves.js';
import { renderModelDiagram } from './diagram.js';
import { renderImageGrid } from './image-grid.js';
import { renderReportHtml, type PageData, type PageFigure, type PageRun, type SplitMetrics } from './html.js';
import { PALETTE, type Figure } from './render.js';
import { RESULTS_FORMAT, RESULTS_VERSION, checkReportInput, serializeReportInput } from './results.js';
import type { ReportFiles, ReportInput, ReportPredictions } from './types.js';

/** Where the figures go, relative to the report directory. */
export const FIGURES_DIR = 'figures';

/** A lowercase file-name-safe form of a run name: 'ResNet v1 depth 2' → 'resnet-v1-depth-2'. */
function slug(name: string): string {
  const s = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return s || 'run';
}

function splitMetrics(p: ReportPredictions, classNames: readonly string[]): SplitMetrics {
  const labels = classNames.map((_, i) => i);
  return {
    numSamples: p.yTrue.length,
    accuracy: accuracyScore(p.yTrue, p.yPred),
    confusionMatrix: confusionMatrix(p.yTrue, p.yPred, classNames.length),
    // All classes, in label order, named as the notebook shows them (1..5).
    classificationReport: classificationReport(p.yTrue, p.yPred, { labels, targetNames: displayNames(classNames) }),
  };
}

/** The notebook's labels are 1-based: class 0 is shown as '1 Tops'. */
function displayNames(classNames: readonly string[]): string[] {
  return classNames.map((c, i) => `${i + 1} ${c}`);
}

function isoDate(d: string | Date): string {
  return (d instanceof Date ? d : new Date(d)).toISOString();
}

function readableDate(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/**
 * Writes a complete report into `dir` (created if needed):
 * - `report.html`: one page, inline CSS, no scripts, no external resources: the
 *   data set and its splits, the sample images, a comparison of the runs with
 *   the notebook's published figures, and per run the curves, final loss and
 *   accuracy, confusion matrix, classification report (table and sklearn text),
 *   timings, model diagram, Keras-style summary and options;
 * - `results.json`: the whole input (typed arrays as arrays, sample images as
 *   base64) and the computed metrics; {@link readReportInput} reads it back;
 * - `figures/*.svg` and `figures/*.png`: every figure, each referenced by the page.
 *
 * Everything is drawn in memory first, so a bad input writes nothing. Stale
 * `.svg`/`.png` files left in `dir/figures` by an earlier report are removed,
 * so the page and the folder always agree.
 *
 * @example
 * ```ts
 * const files = await writeReport({
 *   createdAt: new Date(),
 *   dataset: { file, numSamples: 60000, classNames, split: { train: 43200, val: 10800, test: 6000 } },
 *   runs: [{ name: 'CNN', summary: model.summary(), history, stoppedEpoch, device, final, test, options, timings }],
 * }, 'runs/latest');
 * console.log(files.html); // /abs/path/runs/latest/report.html
 * ```
 */
export async function writeReport(input: ReportInput, dir: string): Promise<ReportFiles> {
  checkReportInput(input);
  if (typeof dir !== 'string' || dir === '') throw new InvalidOptionError('dir', 'a directory path', dir);
  const root = resolve(dir);
  const classNames = input.dataset.classNames;
  const shownNames = displayNames(classNames);
  const files = new Map<string, string | Buffer>();
  const order: string[] = [];
  const pending: Array<Promise<void>> = [];

  // Figures are drawn concurrently (resvg works on the thread pool) and filed in
  // page order; their sizes are filled in when they are done.
  const add = (base: string, drawing: Promise<Figure>, alt: string, caption: string): PageFigure => {
    const svgPath = `${FIGURES_DIR}/${base}.svg`;
    const pngPath = `${FIGURES_DIR}/${base}.png`;
    order.push(svgPath, pngPath);
    const figure: PageFigure = { svgPath, pngPath, width: 0, height: 0, alt, caption };
    pending.push(
      drawing.then((fig) => {
        files.set(svgPath, fig.svg);
        files.set(pngPath, fig.png);
        figure.width = fig.width;
        figure.height = fig.height;
      }),
    );
    return figure;
  };

  let samples: PageFigure | undefined;
  const d = input.dataset;
  if (d.sampleImages) {
    const n = Math.min(40, d.sampleImages.shape[0] ?? 0);
    const fig = renderImageGrid(d.sampleImages, {
      labels: d.sampleLabels && d.sampleLabels.length >= n ? d.sampleLabels : undefined,
      classNames,
      labelBase: 1,
    });
    samples = add(
      'samples',
      fig,
      `The first ${n} training images with their labels`,
      `The first ${n} training images, laid out as the notebook plots them (column by column, 10 columns × 4 rows).`,
    );
  }

  const used = new Set<string>();
  const pageRuns: PageRun[] = [];
  for (const [index, run] of input.runs.entries()) {
    // Each run keeps its colour on every chart: its own curves and the comparison.
    const color = PALETTE[index % PALETTE.length]!;
    let base = slug(run.name);
    for (let i = 2; used.has(base); i++) base = `${slug(run.name)}-${i}`;
    used.add(base);
    const curves = add(
      `${base}-curves`,
      renderTrainingCurves([{ name: run.name, history: run.history, stoppedEpoch: run.stoppedEpoch, stopReason: run.stopReason, color }]),
      `${run.name}: loss and accuracy per epoch`,
      `${run.name}: loss and accuracy per epoch, training (solid) and validation (dashed).`,
    );
    const diagram = add(
      `${base}-model`,
      renderModelDiagram(run.summary),
      `${run.name}: model diagram`,
      `${run.summary.name}: layers with their input and output shapes (batch dimension None).`,
    );
    const test = splitMetrics(run.test, classNames);
    const confusionTest = add(
      `${base}-confusion-test`,
      renderConfusionMatrix(test.confusionMatrix, {
        classNames: shownNames,
        title: `${run.name}: confusion matrix, test split`,
        subtitle: `${test.numSamples.toLocaleString('en-US')} images · accuracy ${(test.accuracy * 100).toFixed(2)} % · cell: count and share of the true class`,
      }),
      `${run.name}: confusion matrix on the test split`,
      `${run.name}: confusion matrix on the test split (rows: true class, columns: predicted class).`,
    );
    const page: PageRun = { run, anchor: `run-${base}`, test, figures: { curves, diagram, confusionTest } };
    if (run.heldOutPredictions) {
      const held = splitMetrics(run.heldOutPredictions, classNames);
      page.heldOut = held;
      page.figures.confusionHeldOut = add(
        `${base}-confusion-heldout`,
        renderConfusionMatrix(held.confusionMatrix, {
          classNames: shownNames,
          title: `${run.name}: confusion matrix, held-out file`,
          subtitle: `${held.numSamples.toLocaleString('en-US')} images · accuracy ${(held.accuracy * 100).toFixed(2)} % · cell: count and share of the true class`,
        }),
        `${run.name}: confusion matrix on the held-out file`,
        `${run.name}: confusion matrix on the held-out file (rows: true class, columns: predicted class).`,
      );
    }
    pageRuns.push(page);
  }

  let comparisonCurves: PageFigure | undefined;
  if (input.runs.length > 1) {
    comparisonCurves = add(
      'comparison-curves',
      renderTrainingCurves(input.runs.map((r) => ({ name: r.name, history: r.history, stoppedEpoch: r.stoppedEpoch, stopReason: r.stopReason }))),
      'Loss and accuracy per epoch of every run',
      'Every run on one chart: training (solid) and validation (dashed) per epoch.',
    );
  }

  await Promise.all(pending);

  const createdAt = isoDate(input.createdAt);
  const title = input.title ?? `torchfit report: ${input.runs.map((r) => r.name).join(' vs ')}`;
  const resultsFile = 'results.json';
  const page: PageData = { input, title, createdAt: readableDate(createdAt), runs: pageRuns, samples, comparisonCurves, resultsFile };
  const html = renderReportHtml(page);
  const results = {
    format: RESULTS_FORMAT,
    version: RESULTS_VERSION,
    createdAt,
    input: { ...serializeReportInput(input), createdAt },
    metrics: pageRuns.map((p) => ({
      run: p.run.name,
      test: metricsJson(p.test),
      ...(p.heldOut ? { heldOut: metricsJson(p.heldOut) } : {}),
    })),
    figures: order,
  };

  await mkdir(join(root, FIGURES_DIR), { recursive: true });
  // Remove figures of an earlier report that this one does not redraw.
  for (const name of await readdir(join(root, FIGURES_DIR))) {
    if (/\.(svg|png)$/.test(name) && !files.has(`${FIGURES_DIR}/${name}`)) await unlink(join(root, FIGURES_DIR, name));
  }
  for (const rel of order) await writeAtomic(join(root, rel), files.get(rel)!);
  const jsonPath = join(root, resultsFile);
  await writeAtomic(jsonPath, `${stringify(results)}\n`);
  const htmlPath = join(root, 'report.html');
  // The page goes last: when it exists, everything it refers to does too.
  await writeAtomic(htmlPath, html);
  return { html: htmlPath, json: jsonPath, figures: order.map((rel) => join(root, rel)) };
}

function metricsJson(m: SplitMetrics) {
  const r = m.classificationReport;
  return {
    numSamples: m.numSamples,
    accuracy: m.accuracy,
    confusionMatrix: m.confusionMatrix,
    classificationReport: {
      text: r.text,
      perClass: r.perClass,
      ...(r.accuracy !== undefined ? { accuracy: r.accuracy } : {}),
      ...(r.microAvg ? { microAvg: r.microAvg } : {}),
      macroAvg: r.macroAvg,
      weightedAvg: r.weightedAvg,
    },
  };
}

/**
 * JSON indented for people, except that arrays of numbers (predictions, curves,
 * matrix rows) stay on one line: thousands of labels one per line would make the
 * file ten times longer and no easier to read.
 */
function stringify(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return JSON.stringify(value);
    const inner = indent + ' ';
    return `[\n${value.map((v) => inner + stringify(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = indent + ' ';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${stringify(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Each file goes through writeFileAtomic (temporary file, fsync, rename): no reader sees half a file. */
async function writeAtomic(path: string, content: string | Buffer): Promise<void> {
  await writeFileAtomic(path, [typeof content === 'string' ? Buffer.from(content, 'utf8') : content]);
}
