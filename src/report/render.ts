/**
 * What every figure shares: the font, the colours, SVG → PNG with resvg, and
 * the text-width table that Vega lays text out with.
 */
import { existsSync } from 'node:fs';

import { importReportPackage } from './optional.js';

// Vega and resvg take most of a second to load: they are loaded on the first
// figure, not when torchfit is imported (every CLI command imports it).
let vegaModule: Promise<typeof import('vega')> | undefined;
const loadVega = () => {
  if (!vegaModule) {
    vegaModule = importReportPackage('vega', () => import('vega'));
    vegaModule.catch(() => { vegaModule = undefined; });  // not cached when missing: installing it then works
  }
  return vegaModule;
};

/** A rendered figure: the same picture as SVG text and as a PNG. */
export interface Figure {
  svg: string;
  png: Buffer;
  /** Size of the SVG in CSS pixels (the PNG is `pngScale` times larger). */
  width: number;
  height: number;
}

/** Options every render function takes. */
export interface FigureOptions {
  /** Title drawn at the top; each figure has a sensible default. */
  title?: string;
  /** PNG pixels per SVG pixel (default 2, sharp on high-density screens and in print). */
  pngScale?: number;
}

/**
 * The CSS font stack of every figure. Liberation Sans comes first because it has
 * Arial's (and Helvetica's) metrics, which is what Graphviz and our width table
 * assume when they size boxes and legends; Debian ships it as fonts-liberation.
 */
export const FONT_FAMILY = "'Liberation Sans', Arial, Helvetica, 'DejaVu Sans', sans-serif";

/** Run colours, in order (Tableau 10: distinct, colour-blind friendly, print well). */
export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1', '#edc948', '#ff9da7', '#9c755f', '#bab0ac'];

/** Text and rule colours shared by the figures and the HTML page. */
export const INK = '#1f2937';
export const MUTED = '#6b7280';

const FONT_CANDIDATES: ReadonlyArray<{ family: string; files: string[]; monospace?: boolean }> = [
  {
    family: 'Liberation Sans',
    files: [
      '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
      '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf',
      '/usr/share/fonts/truetype/liberation/LiberationSans-Italic.ttf',
      '/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf',
      '/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf',
      '/usr/share/fonts/truetype/liberation2/LiberationSans-Italic.ttf',
      '/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf',
      '/usr/share/fonts/liberation-sans/LiberationSans-Bold.ttf',
    ],
  },
  {
    family: 'DejaVu Sans',
    files: [
      '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
      '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
      '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf',
      '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf',
    ],
  },
  {
    family: 'Liberation Mono',
    monospace: true,
    files: ['/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf'],
  },
];

/** The fonts the PNG renderer will use. */
export interface FontStatus {
  /** Font files found and loaded explicitly (fast: no system font scan). */
  files: string[];
  /** The family used for generic sans-serif text. */
  family: string;
  /** The family used for monospace text. */
  monospaceFamily: string;
  /** True when no known font file was found; PNGs may then lack text. */
  missing: boolean;
}

let fontStatusCache: FontStatus | undefined;

/**
 * Which fonts the PNG figures are drawn with. resvg has no fonts of its own and
 * drops text it cannot shape, so we look for Liberation Sans (then DejaVu Sans)
 * at the Debian and Fedora paths; `npm run setup` installs fonts-liberation.
 *
 * @example
 * ```ts
 * if (fontStatus().missing) console.warn('install fonts-liberation for PNG text');
 * ```
 */
export function fontStatus(): FontStatus {
  if (fontStatusCache) return fontStatusCache;
  const files: string[] = [];
  let family = '';
  let monospaceFamily = '';
  for (const c of FONT_CANDIDATES) {
    const found = c.files.filter((f) => existsSync(f));
    files.push(...found);
    if (found.length === 0) continue;
    if (c.monospace) monospaceFamily ||= found[0]!.includes('DejaVu') ? 'DejaVu Sans Mono' : c.family;
    else family ||= c.family;
  }
  fontStatusCache = { files, family: family || 'sans-serif', monospaceFamily: monospaceFamily || family || 'monospace', missing: family === '' };
  return fontStatusCache;
}

let warnedNoFont = false;

/**
 * Draws an SVG as a PNG with resvg (no browser, no system font scan when our
 * fonts are found). It renders on libuv's thread pool, so the event loop (and a
 * training run's progress callbacks) keep going meanwhile.
 *
 * @example
 * ```ts
 * const png = await svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', 2); // 20×20 PNG
 * ```
 */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  const fonts = fontStatus();
  if (fonts.missing && !warnedNoFont) {
    warnedNoFont = true;
    process.emitWarning(
      'torchfit report: no Liberation Sans or DejaVu Sans font file found; PNG figures may have no text. ' +
        'Run `npm run setup` (it installs fonts-liberation) or `sudo apt-get install fonts-liberation`.',
    );
  }
  const { renderAsync } = await importReportPackage('@resvg/resvg-js', () => import('@resvg/resvg-js'));
  const rendered = await renderAsync(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    // Nearest-neighbour scaling keeps the 28×28 images' pixels sharp.
    imageRendering: 1,
    font: {
      loadSystemFonts: fonts.missing,
      fontFiles: fonts.files,
      defaultFontFamily: fonts.family,
      sansSerifFamily: fonts.family,
      serifFamily: fonts.family,
      monospaceFamily: fonts.monospaceFamily,
    },
    logLevel: 'off',
  });
  return Buffer.from(rendered.asPng());
}

/** Validates the options every render function shares and returns the PNG scale. */
export function pngScaleOf(options: FigureOptions | undefined, invalid: (option: string, expected: string, value: unknown) => Error): number {
  const scale = options?.pngScale ?? 2;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0 || scale > 8) {
    throw invalid('pngScale', 'a number in (0, 8]', scale);
  }
  return scale;
}

// Advance widths of Helvetica/Arial (= Liberation Sans) in 1/1000 em for ASCII
// 32..126. Vega, without a canvas, guesses 0.8 em per character, which leaves
// legends and axis titles far from their labels; this table makes its layout
// match what resvg and browsers draw.
const REGULAR = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722,
  778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556,
  278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260,
  334, 584,
];
const BOLD = [
  278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722,
  778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556,
  333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280,
  389, 584,
];

/**
 * Width in pixels of `text` in Liberation Sans (Arial metrics) at `fontSize`.
 *
 * @example
 * ```ts
 * textWidth('Epoch', 12); // ≈ 31
 * ```
 */
export function textWidth(text: string, fontSize: number, bold = false): number {
  const table = bold ? BOLD : REGULAR;
  let w = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    w += c >= 32 && c <= 126 ? table[c - 32]! : 600;
  }
  return (w * fontSize) / 1000;
}

/** Runs `fn` with Vega measuring text by our width table instead of its 0.8 em guess. */
export async function withTextMetrics<T>(fn: () => Promise<T>): Promise<T> {
  const vega = await loadVega();
  // textMetrics is public in vega's JavaScript API but missing from its typings.
  const metrics = (vega as unknown as { textMetrics: { width: (item: VegaTextItem, text?: unknown) => number } }).textMetrics;
  const previous = metrics.width;
  metricsUsers++;
  metrics.width = measureItem;
  try {
    return await fn();
  } finally {
    // Restore only when the last overlapping render is done.
    if (--metricsUsers === 0) metrics.width = previous;
  }
}
let metricsUsers = 0;

interface VegaTextItem {
  text?: unknown;
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
}

function measureItem(item: VegaTextItem, text?: unknown): number {
  const value = text === undefined ? item.text : text;
  const s = value == null ? '' : Array.isArray(value) ? value.join(' ') : String(value);
  const size = typeof item.fontSize === 'number' ? item.fontSize : 11;
  const bold = item.fontWeight === 'bold' || (typeof item.fontWeight === 'number' && item.fontWeight >= 600);
  return textWidth(s, size, bold);
}

/**
 * Vega numbers gradient and clip ids with a process-wide counter, so the same
 * chart drawn twice (or while another is drawn) gets other ids. Renumbering them
 * per document makes the SVG depend on its input only.
 */
function renumberDefs(svg: string): string {
  const ids = [...svg.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]!);
  if (ids.length === 0) return svg;
  const rename = new Map(ids.map((id, i) => [id, `${id.replace(/_?\d+$/, '')}_${i + 1}`]));
  return svg
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${rename.get(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (m, id: string) => (rename.has(id) ? `url(#${rename.get(id)})` : m));
}

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Reads the width and height attributes of a rendered SVG's root element (in px; pt converted). */
export function svgSize(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const read = (attr: string) => {
    const m = new RegExp(`\\b${attr}="([\\d.]+)(pt|px)?"`).exec(root);
    if (!m) return 0;
    const v = Number(m[1]);
    return m[2] === 'pt' ? (v * 4) / 3 : v;
  };
  return { width: Math.round(read('width')), height: Math.round(read('height')) };
}

/** The look every Vega-Lite figure shares (fonts, sizes, greys), as a Vega-Lite config. */
export const VEGA_CONFIG = {
  font: FONT_FAMILY,
  background: '#ffffff',
  padding: 16,
  title: { fontSize: 16, fontWeight: 'bold', color: INK, subtitleFontSize: 12, subtitleColor: MUTED, anchor: 'start', offset: 12 },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    labelColor: INK,
    titleColor: INK,
    gridColor: '#e5e7eb',
    domainColor: '#9ca3af',
    tickColor: '#9ca3af',
    titlePadding: 8,
  },
  legend: { labelFontSize: 12, titleFontSize: 12, titleColor: INK, labelColor: INK, symbolStrokeWidth: 2 },
  header: { labelFontSize: 13, titleFontSize: 13 },
  view: { stroke: '#d1d5db' },
} as const;

/**
 * Compiles a Vega-Lite spec and draws it as SVG with Vega's headless renderer.
 *
 * @example
 * ```ts
 * const svg = await vegaLiteToSvg({ mark: 'point', data: { values: [{ x: 1 }] }, encoding: { x: { field: 'x', type: 'quantitative' } } });
 * ```
 */
export async function vegaLiteToSvg(spec: Record<string, unknown>): Promise<string> {
  // One after the other: with both missing, the error always names vega-lite (Promise.all would race).
  const vl = await importReportPackage('vega-lite', () => import('vega-lite'));
  const vega = await loadVega();
  const config = { ...VEGA_CONFIG, ...(spec.config as object | undefined) } as Record<string, unknown>;
  for (const k of ['legend', 'axis', 'title'] as const) {
    config[k] = { ...(VEGA_CONFIG[k] as object), ...((spec.config as Record<string, object> | undefined)?.[k] ?? {}) };
  }
  // Vega-Lite logs its warnings to the console; a library must stay quiet, so they are dropped.
  const quiet = { level: () => quiet, warn: () => quiet, info: () => quiet, debug: () => quiet, error: (...args: unknown[]) => { throw new Error(args.map(String).join(' ')); } };
  const compiled = vl.compile({ ...spec, config } as unknown as Parameters<typeof vl.compile>[0], { logger: quiet as never }).spec;
  return withTextMetrics(async () => {
    const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    try {
      return renumberDefs(await view.toSVG());
    } finally {
      view.finalize();
    }
  });
}
