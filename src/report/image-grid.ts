/**
 * The sample-image grid: the notebook's first 40 training images, in its layout.
 */
import { resolveLayout, type DataFormat } from '../data/image-layout.js';
import type { NdArray } from '../data/ndarray.js';
import { InvalidOptionError } from '../errors.js';
import { importReportPackage } from './optional.js';
import { FONT_FAMILY, INK, escapeXml, pngScaleOf, svgToPng, textWidth, type Figure, type FigureOptions } from './render.js';

/** Options of {@link renderImageGrid}. */
export interface ImageGridOptions extends FigureOptions {
  /** One label per image (at least as many as are drawn), shown under each image. */
  labels?: ArrayLike<number>;
  /** Class names; the name of label `l` is `classNames[l - labelBase]`. */
  classNames?: readonly string[];
  /** The value of the first class's label: 1 for the notebook's 1..5 labels (default), 0 for 0-based. */
  labelBase?: 0 | 1;
  /** Grid columns (default 10) and rows (default 4); the grid shows columns × rows images at most. */
  columns?: number;
  rows?: number;
  /**
   * 'column-major' (default, the notebook's: image k goes to column ⌊k / rows⌋, row k mod rows)
   * or 'row-major'.
   */
  order?: 'column-major' | 'row-major';
  /** Screen pixels per image pixel (default 4: 28×28 images are drawn 112×112). */
  scale?: number;
  /** Layout of 4-D images, as trainModel's option; default: read from the shape. */
  dataFormat?: DataFormat;
}

const LABEL_FONT = 11;
const GAP = 10;
const MARGIN = 16;
const TITLE_FONT = 16;

/**
 * Draws the first `columns × rows` images of an (N,H,W), (N,H,W,C) or (N,C,H,W)
 * array in the notebook's layout, levels 0 = black to 1 = white (uint8 images:
 * 0..255): one channel in grey, three as RGB, two or four as grey or RGB with an
 * alpha channel laid over white. The label and class name go under each image when given.
 *
 * @example
 * ```ts
 * const { svg, png } = await renderImageGrid(dataset.features, {
 *   labels: dataset.target, classNames: dataset.classNames, labelBase: 1,
 * });
 * await writeFile('samples.png', png);
 * ```
 */
export async function renderImageGrid(images: NdArray, options: ImageGridOptions = {}): Promise<Figure> {
  const pngScale = pngScaleOf(options, (o, e, v) => new InvalidOptionError(o, e, v));
  const { count, height: h, width: w, colour, pixel } = readImages(images, options.dataFormat);
  const columns = positiveInt('columns', options.columns ?? 10, 100);
  const rows = positiveInt('rows', options.rows ?? 4, 100);
  const scale = positiveInt('scale', options.scale ?? 4, 32);
  const order = options.order ?? 'column-major';
  if (order !== 'column-major' && order !== 'row-major') {
    throw new InvalidOptionError('order', "'column-major' or 'row-major'", order);
  }
  const labelBase = options.labelBase ?? 1;
  if (labelBase !== 0 && labelBase !== 1) throw new InvalidOptionError('labelBase', '0 or 1', labelBase);
  const n = Math.min(count, columns * rows);
  const labels = options.labels;
  if (labels !== undefined) {
    if (!(Array.isArray(labels) || ArrayBuffer.isView(labels)) || labels.length < n) {
      throw new InvalidOptionError('labels', `an array of at least ${n} labels (one per image drawn)`, labels);
    }
  }
  const classNames = options.classNames;
  if (classNames !== undefined && (!Array.isArray(classNames) || classNames.some((c) => typeof c !== 'string'))) {
    throw new InvalidOptionError('classNames', 'an array of strings', classNames);
  }

  // Caption lines per image: the label, then the class name (wrapped to the tile width).
  const tile = Math.max(w, h) * scale;
  const captions: string[][] = [];
  for (let k = 0; k < n && labels !== undefined; k++) {
    const raw = Number(labels[k]);
    const name = classNames?.[raw - labelBase];
    captions.push(name === undefined ? [`label ${raw}`] : [`${raw} · ${name}`].flatMap((s) => wrap(s, tile)));
  }
  const captionLines = Math.max(0, ...captions.map((c) => c.length));
  const captionHeight = captionLines > 0 ? captionLines * (LABEL_FONT + 3) + 6 : 0;
  const cellW = w * scale + GAP;
  const cellH = h * scale + captionHeight + GAP;
  const title = options.title ?? (n === 1 ? 'First training image' : `First ${n} training images`);
  const titleHeight = title ? TITLE_FONT + 14 : 0;
  // A short series (fewer images than the grid holds) gets a smaller grid, not empty cells.
  const usedColumns = order === 'column-major' ? Math.ceil(n / rows) : Math.min(columns, n);
  const usedRows = order === 'column-major' ? Math.min(rows, n) : Math.ceil(n / columns);
  const gridW = usedColumns * cellW - GAP;
  const gridH = usedRows * cellH - GAP;
  // Wide enough for the title when the grid is small; the grid is then centred.
  const width = Math.ceil(Math.max(gridW, title ? textWidth(title, TITLE_FONT, true) : 0) + 2 * MARGIN);
  const height = Math.ceil(titleHeight + gridH + 2 * MARGIN);

  // One mosaic of every image (grey, or RGB for colour), upscaled by pixel repetition, embedded once.
  const { PNG } = await importReportPackage('pngjs', () => import('pngjs'));
  const colorType = colour ? 2 : 0;
  const bytes = colour ? 3 : 1;
  const mosaic = new PNG({ width: gridW, height: gridH, colorType, inputColorType: colorType, bitDepth: 8, inputHasAlpha: false });
  const buf = Buffer.alloc(gridW * gridH * bytes, 255);
  const rgb = [0, 0, 0];
  const cells: Array<{ x: number; y: number; k: number }> = [];
  for (let k = 0; k < n; k++) {
    const col = order === 'column-major' ? Math.floor(k / rows) : k % columns;
    const row = order === 'column-major' ? k % rows : Math.floor(k / columns);
    const x0 = col * cellW;
    const y0 = row * cellH;
    cells.push({ x: x0, y: y0, k });
    for (let y = 0; y < h * scale; y++) {
      const src = Math.floor(y / scale);
      const line = ((y0 + y) * gridW + x0) * bytes;
      for (let x = 0; x < w * scale; x++) {
        pixel(k, src, Math.floor(x / scale), rgb);
        for (let b = 0; b < bytes; b++) buf[line + x * bytes + b] = rgb[b]!;
      }
    }
  }
  mosaic.data = buf;
  const mosaicPng = PNG.sync.write(mosaic, { colorType, inputColorType: colorType, inputHasAlpha: false });

  const ox = Math.round((width - gridW) / 2);
  const oy = MARGIN + titleHeight;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT_FAMILY)}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
  );
  if (title) {
    parts.push(`<text x="${width / 2}" y="${MARGIN + TITLE_FONT}" text-anchor="middle" font-size="${TITLE_FONT}" font-weight="bold" fill="${INK}">${escapeXml(title)}</text>`);
  }
  parts.push(
    `<image x="${ox}" y="${oy}" width="${gridW}" height="${gridH}" image-rendering="optimizeSpeed" style="image-rendering:pixelated" preserveAspectRatio="none" href="data:image/png;base64,${mosaicPng.toString('base64')}"/>`,
  );
  for (const { x, y, k } of cells) {
    parts.push(`<rect x="${ox + x - 0.5}" y="${oy + y - 0.5}" width="${w * scale + 1}" height="${h * scale + 1}" fill="none" stroke="#d1d5db" stroke-width="1"/>`);
    const lines = captions[k];
    if (!lines) continue;
    lines.forEach((line, i) => {
      parts.push(
        `<text x="${ox + x + (w * scale) / 2}" y="${oy + y + h * scale + 4 + (i + 1) * (LABEL_FONT + 3) - 2}" text-anchor="middle" font-size="${LABEL_FONT}" fill="${INK}">${escapeXml(line)}</text>`,
      );
    });
  }
  parts.push('</svg>');
  const svg = parts.join('\n');
  return { svg, png: await svgToPng(svg, pngScale), width, height };
}

/** Splits a caption at spaces so each line fits `maxWidth` pixels (a long word is kept whole). */
function wrap(text: string, maxWidth: number): string[] {
  if (textWidth(text, LABEL_FONT) <= maxWidth) return [text];
  const words = text.split(' ');
  const lines: string[] = [];
  let current = '';
  for (const word of words) {
    const next = current ? `${current} ${word}` : word;
    if (current && textWidth(next, LABEL_FONT) > maxWidth) {
      lines.push(current);
      current = word;
    } else current = next;
  }
  if (current) lines.push(current);
  return lines;
}

function positiveInt(option: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionError(option, `an integer from 1 to ${max}`, value);
  }
  return value;
}

/**
 * Accepts (N,H,W), (N,H,W,C) and (N,C,H,W) float or uint8 images with 1 to 4 channels;
 * returns a reader that writes a pixel's grey level (or RGB when `colour`) into `out`.
 */
function readImages(images: NdArray, dataFormat: DataFormat | undefined): {
  count: number;
  height: number;
  width: number;
  colour: boolean;
  pixel: (k: number, y: number, x: number, out: number[]) => void;
} {
  if (images === null || typeof images !== 'object' || !Array.isArray(images.shape) || !ArrayBuffer.isView(images.data)) {
    throw new InvalidOptionError('images', 'an NdArray { dtype, shape, data }', images);
  }
  const shape = images.shape;
  if (dataFormat !== undefined && dataFormat !== 'channels_last' && dataFormat !== 'channels_first') {
    throw new InvalidOptionError('dataFormat', "'channels_last' or 'channels_first'", dataFormat);
  }
  if (shape.length !== 3 && shape.length !== 4) {
    throw new InvalidOptionError('images.shape', '(N,H,W), (N,H,W,C) or (N,C,H,W)', `(${shape.join(',')})`);
  }
  const layout = resolveLayout(shape, 'images', dataFormat);
  const [count, channels, height, width] = layout.shape;
  // Where channel c of pixel (y, x) of image k lives in the flat data (one channel: both layouts agree).
  const last = layout.channelsLast;
  if (channels > 4) {
    throw new InvalidOptionError('images.shape', 'images with 1 to 4 channels (grey, grey + alpha, RGB, RGBA)', `(${shape.join(',')})`);
  }
  if (count < 1 || height < 1 || width < 1) {
    throw new InvalidOptionError('images.shape', 'at least one image of at least 1×1 pixels', `(${shape.join(',')})`);
  }
  const data = images.data;
  const size = count * channels * height * width;
  if (data.length !== size) {
    throw new InvalidOptionError('images.data', `${size} values for shape (${shape.join(',')})`, data);
  }
  const plane = height * width;
  let level: (i: number) => number;
  if (images.dtype === 'float32' || images.dtype === 'float64') {
    const d = data as Float32Array | Float64Array;
    level = (i) => {
      const v = d[i]!;
      // NaN shows as black rather than poisoning the PNG encoder.
      return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) * 255 : v === Infinity ? 255 : 0;
    };
  } else if (images.dtype === 'uint8') {
    const d = data as Uint8Array;
    level = (i) => d[i]!;
  } else {
    throw new InvalidOptionError('images.dtype', "'float32', 'float64' or 'uint8'", images.dtype);
  }
  const index = last
    ? (k: number, c: number, y: number, x: number) => ((k * plane + y * width + x) * channels + c)
    : (k: number, c: number, y: number, x: number) => ((k * channels + c) * plane + y * width + x);
  const colour = channels >= 3;
  const alpha = channels === 2 || channels === 4;
  const colours = colour ? 3 : 1;
  return {
    count, height, width, colour,
    pixel: (k, y, x, out) => {
      const a = alpha ? level(index(k, channels - 1, y, x)) / 255 : 1;
      // Over a white background: v * a + 255 * (1 - a).
      for (let c = 0; c < colours; c++) out[c] = Math.round(level(index(k, c, y, x)) * a + 255 * (1 - a));
    },
  };
}
