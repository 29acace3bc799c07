/**
 * Confusion-matrix heat map: counts and row percentages in each cell, true
 * class on rows, predicted class on columns.
 */
import { InvalidOptionError } from '../errors.js';
import { pngScaleOf, svgSize, svgToPng, textWidth, vegaLiteToSvg, type Figure, type FigureOptions } from './render.js';

/** Options of {@link renderConfusionMatrix}. */
export interface ConfusionMatrixOptions extends FigureOptions {
  /** Axis label of each class, in matrix order (default '0', '1', ...). */
  classNames?: readonly string[];
  /** Subtitle under the title, e.g. 'test set, 9,000 images'. */
  subtitle?: string;
  /** Side of one cell in pixels (default: 88, or less for many classes). */
  cellSize?: number;
}

/**
 * Draws a confusion matrix (rows = true class, columns = predicted, as
 * {@link confusionMatrix} returns it) as a heat map. Each cell shows its count
 * and its share of the row (the recall on the diagonal); colour follows the row
 * share, so classes of different sizes read alike.
 *
 * @example
 * ```ts
 * const m = confusionMatrix(yTrue, yPred, 5);
 * const { svg, png } = await renderConfusionMatrix(m, {
 *   classNames: ['1 Tops', '2 Trousers & dresses', '3 Pullovers & coats', '4 Sandals & sneakers', '5 Bags & boots'],
 *   title: 'CNN: confusion matrix',
 * });
 * ```
 */
export async function renderConfusionMatrix(matrix: readonly (readonly number[])[], options: ConfusionMatrixOptions = {}): Promise<Figure> {
  const pngScale = pngScaleOf(options, (o, e, v) => new InvalidOptionError(o, e, v));
  if (!Array.isArray(matrix as unknown) || matrix.length === 0) {
    throw new InvalidOptionError('matrix', 'a non-empty square array of counts', matrix);
  }
  const n = matrix.length;
  matrix.forEach((row, i) => {
    if (!Array.isArray(row as unknown) || row.length !== n || row.some((v) => typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new InvalidOptionError(`matrix[${i}]`, `${n} non-negative counts (a square matrix)`, row);
    }
  });
  const names = options.classNames ?? matrix.map((_, i) => String(i));
  if (!Array.isArray(names as unknown) || names.length !== n || names.some((s) => typeof s !== 'string')) {
    throw new InvalidOptionError('classNames', `${n} strings, one per row of the matrix`, options.classNames);
  }
  if (new Set(names).size !== n) throw new InvalidOptionError('classNames', 'distinct names', names);
  const cell = options.cellSize ?? Math.max(28, Math.min(88, Math.floor(560 / n)));
  if (typeof cell !== 'number' || !Number.isFinite(cell) || cell < 16 || cell > 300) {
    throw new InvalidOptionError('cellSize', 'a number of pixels from 16 to 300', cell);
  }

  const values: Array<Record<string, unknown>> = [];
  let total = 0;
  matrix.forEach((row, i) => {
    const rowSum = row.reduce((a, b) => a + b, 0);
    total += rowSum;
    row.forEach((count, j) => {
      const share = rowSum > 0 ? count / rowSum : 0;
      values.push({
        truth: names[i],
        predicted: names[j],
        count,
        share,
        countText: count.toLocaleString('en-US'),
        shareText: rowSum > 0 ? `${(share * 100).toFixed(1)}%` : '–',
        diagonal: i === j,
      });
    });
  });
  // Small cells cannot hold two lines: keep the count, drop the percentage.
  const twoLines = cell >= 56;
  const countSize = Math.max(9, Math.min(15, Math.floor(cell / 5.5)));
  const shareSize = Math.max(8, countSize - 3);
  const longest = Math.max(...names.map((s) => textWidth(s, 11)));
  // Rotate column labels only when they would collide.
  const angle = longest > cell - 6 ? -35 : 0;

  const textColor = { condition: { test: 'datum.share > 0.55', value: '#ffffff' }, value: '#1f2937' };
  const x = { field: 'predicted', type: 'ordinal', sort: names, title: 'Predicted label', axis: { labelAngle: angle, labelAlign: angle ? 'right' : 'center', labelLimit: 180, orient: 'bottom' } };
  const y = { field: 'truth', type: 'ordinal', sort: names, title: 'True label', axis: { labelLimit: 180 } };
  const svg = await vegaLiteToSvg({
    title: {
      text: options.title ?? 'Confusion matrix',
      subtitle: options.subtitle ?? `${total.toLocaleString('en-US')} samples · cell: count and share of the true class (row)`,
    },
    data: { values },
    width: cell * n,
    height: cell * n,
    encoding: { x, y },
    layer: [
      {
        mark: { type: 'rect', stroke: '#d5dde8', strokeWidth: 1 },
        encoding: {
          color: {
            field: 'share',
            type: 'quantitative',
            title: 'Row share',
            // matplotlib's Blues: an empty cell is near white, so the errors stand out.
            scale: { domain: [0, 0.25, 0.5, 0.75, 1], range: ['#f7fbff', '#c6dbef', '#6baed6', '#2171b5', '#08306b'] },
            legend: { format: '.0%', gradientLength: Math.max(120, cell * n - 20), direction: 'vertical' },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: countSize, fontWeight: 'bold', baseline: 'middle', dy: twoLines ? -shareSize / 2 - 1 : 0 },
        encoding: { text: { field: 'countText' }, color: textColor },
      },
      ...(twoLines
        ? [{ mark: { type: 'text', fontSize: shareSize, baseline: 'middle', dy: countSize / 2 + 3 }, encoding: { text: { field: 'shareText' }, color: textColor } }]
        : []),
    ],
    config: { axis: { grid: false, domain: false, ticks: false, labelFontSize: 11, labelPadding: 6 }, view: { stroke: null } },
  });
  const { width, height } = svgSize(svg);
  return { svg, png: await svgToPng(svg, pngScale), width, height };
}
