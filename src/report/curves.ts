/**
 * Training curves: loss and accuracy per epoch, training solid and validation
 * dashed, one colour per run, with the epoch where a run stopped early marked.
 */
import type { History, StopReason } from '../torch/types.js';
import { InvalidOptionError } from '../errors.js';
import { checkStopReason, stopLabel } from './stop-label.js';
import { PALETTE, pngScaleOf, svgSize, svgToPng, vegaLiteToSvg, type Figure, type FigureOptions } from './render.js';

/** One run to draw: its name (the legend entry), its History and where it stopped early. */
export interface CurveRun {
  name: string;
  history: History;
  /** 1-based epoch after which the run stopped before its last epoch (as History.epoch counts), if it did. */
  stoppedEpoch?: number;
  /** Why it stopped there (trainModel's stopReason); without it the stop is labelled an early stop. */
  stopReason?: StopReason;
  /** CSS colour; default: the next colour of {@link PALETTE}. */
  color?: string;
}

/** Options of {@link renderTrainingCurves}. */
export interface TrainingCurvesOptions extends FigureOptions {
  /** Width and height of each of the two panels in pixels (default 380 × 260). */
  panelWidth?: number;
  panelHeight?: number;
}

/**
 * Draws loss and accuracy per epoch in two panels: training solid, validation
 * dashed, one colour per run (several runs compare on one chart), and a dotted
 * rule with a label at the epoch where each run stopped early, saying why.
 *
 * @example
 * ```ts
 * const { svg, png } = await renderTrainingCurves([
 *   { name: 'CNN', history: cnn.history, stoppedEpoch: cnn.stoppedEpoch, stopReason: cnn.stopReason },
 *   { name: 'ResNet v1 depth 2', history: resnet.history },
 * ]);
 * ```
 */
export async function renderTrainingCurves(runs: readonly CurveRun[], options: TrainingCurvesOptions = {}): Promise<Figure> {
  const pngScale = pngScaleOf(options, (o, e, v) => new InvalidOptionError(o, e, v));
  // (Array.isArray on a readonly array would narrow it to any[].)
  if (!Array.isArray(runs as unknown) || runs.length === 0) throw new InvalidOptionError('runs', 'a non-empty array of { name, history }', runs);
  const names = runs.map((r, i) => {
    if (r === null || typeof r !== 'object' || typeof r.name !== 'string') throw new InvalidOptionError(`runs[${i}].name`, 'a string', r?.name);
    checkHistory(`runs[${i}].history`, r.history);
    return r.name;
  });
  if (new Set(names).size !== names.length) throw new InvalidOptionError('runs', 'runs with distinct names', names);
  const panelWidth = options.panelWidth ?? 380;
  const panelHeight = options.panelHeight ?? 260;
  for (const [k, v] of [['panelWidth', panelWidth], ['panelHeight', panelHeight]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 100 || v > 4000) throw new InvalidOptionError(k, 'a number of pixels from 100 to 4000', v);
  }

  const rows: Array<Record<string, unknown>> = [];
  const stops: Array<Record<string, unknown>> = [];
  let maxEpoch = 1;
  runs.forEach((run, i) => {
    const h = run.history;
    h.epoch.forEach((epoch, j) => {
      maxEpoch = Math.max(maxEpoch, epoch);
      // Non-finite values (a diverged run) become gaps instead of breaking the scale.
      const num = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
      rows.push({ run: run.name, split: 'Training', epoch, loss: num(h.loss[j]), accuracy: num(h.accuracy[j]) });
      rows.push({ run: run.name, split: 'Validation', epoch, loss: num(h.valLoss[j]), accuracy: num(h.valAccuracy[j]) });
    });
    if (run.stoppedEpoch !== undefined) {
      if (typeof run.stoppedEpoch !== 'number' || !Number.isFinite(run.stoppedEpoch)) {
        throw new InvalidOptionError(`runs[${i}].stoppedEpoch`, 'an epoch number', run.stoppedEpoch);
      }
      checkStopReason(`runs[${i}].stopReason`, run.stopReason);
      stops.push({
        run: run.name,
        epoch: run.stoppedEpoch,
        label: `${runs.length > 1 ? `${run.name}: ` : ''}${stopLabel(run.stopReason)}, epoch ${run.stoppedEpoch}`,
        // Stacked, so several runs' labels do not overlap.
        slot: stops.length,
      });
    }
  });
  const colors = runs.map((r, i) => r.color ?? PALETTE[i % PALETTE.length]!);

  const x = {
    field: 'epoch',
    type: 'quantitative',
    title: 'Epoch',
    scale: { domain: [1, Math.max(2, maxEpoch)], nice: false },
    axis: { tickMinStep: 1, format: 'd' },
  };
  const legend = { symbolType: 'stroke', symbolSize: 500, symbolStrokeWidth: 2.5 };
  const color = { field: 'run', type: 'nominal', title: 'Model', scale: { domain: names, range: colors }, legend: runs.length > 1 ? legend : null };
  // Loss curves end low and accuracy curves end high, so the early-stopping label
  // goes where the curves are not: at the top of the loss panel, the bottom of the other.
  const panel = (field: 'loss' | 'accuracy', title: string, axisTitle: string, format: string) => ({
    width: panelWidth,
    height: panelHeight,
    title: { text: title, fontSize: 13, anchor: 'middle' },
    layer: [
      {
        data: { values: rows },
        transform: [{ filter: `datum.${field} !== null` }],
        mark: { type: 'line', strokeWidth: 2, point: { filled: true, size: 22 } },
        encoding: {
          x,
          y: { field, type: 'quantitative', title: axisTitle, scale: { zero: false }, axis: { format } },
          color,
          strokeDash: {
            field: 'split',
            type: 'nominal',
            title: 'Line style',
            // Vega-Lite leaves these symbols without a stroke colour; give them one.
            legend: { ...legend, encode: { symbols: { update: { stroke: { value: '#4b5563' } } } } },
            scale: { domain: ['Training', 'Validation'], range: [[1, 0], [6, 4]] },
          },
          detail: { field: 'split' },
        },
      },
      ...(stops.length === 0
        ? []
        : [
            {
              data: { values: stops },
              mark: { type: 'rule', strokeDash: [2, 3], strokeWidth: 1.5, opacity: 0.9 },
              encoding: { x: { field: 'epoch', type: 'quantitative' }, color: { field: 'run', type: 'nominal' } },
            },
            {
              data: { values: stops },
              transform: [{ calculate: field === 'loss' ? `4 + datum.slot * 15` : `${panelHeight - 4} - datum.slot * 15`, as: 'ypx' }],
              mark: { type: 'text', align: 'right', baseline: field === 'loss' ? 'top' : 'bottom', dx: -4, fontSize: 11, fontWeight: 'bold' },
              encoding: {
                x: { field: 'epoch', type: 'quantitative' },
                y: { field: 'ypx', type: 'quantitative', scale: null },
                text: { field: 'label' },
                color: { field: 'run', type: 'nominal' },
              },
            },
          ]),
    ],
  });

  const title = options.title ?? (runs.length > 1 ? 'Training curves: ' + names.join(' vs ') : `Training curves: ${names[0]}`);
  const svg = await vegaLiteToSvg({
    title: { text: title, subtitle: 'solid: training set · dashed: validation set' + (stops.length ? ' · dotted rule: where a run stopped early' : '') },
    hconcat: [panel('loss', 'Loss', 'Cross-entropy loss', '.3~f'), panel('accuracy', 'Accuracy', 'Accuracy', '.0%')],
    spacing: 36,
    resolve: { scale: { color: 'shared', strokeDash: 'shared', x: 'shared' }, legend: { color: 'shared', strokeDash: 'shared' } },
    config: { legend: { orient: 'bottom', direction: 'horizontal', columnPadding: 16 } },
  });
  const { width, height } = svgSize(svg);
  return { svg, png: await svgToPng(svg, pngScale), width, height };
}

/** Checks that a History has the arrays the curves need, all of the same length. */
function checkHistory(option: string, h: unknown): asserts h is History {
  if (h === null || typeof h !== 'object') throw new InvalidOptionError(option, 'a History record', h);
  const r = h as Record<string, unknown>;
  const n = Array.isArray(r.epoch) ? r.epoch.length : -1;
  if (n < 1) throw new InvalidOptionError(`${option}.epoch`, 'a non-empty array of epoch numbers', r.epoch);
  for (const k of ['loss', 'accuracy', 'valLoss', 'valAccuracy']) {
    const v = r[k];
    if (!Array.isArray(v) || v.length !== n) throw new InvalidOptionError(`${option}.${k}`, `an array of ${n} numbers (one per epoch)`, v);
  }
}
