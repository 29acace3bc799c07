/**
 * The model diagram, Keras's plot_model(show_shapes=True) drawn by Graphviz:
 * one box per layer with its name, type and shapes, edges from `inbound`.
 */
import type { LayerSummary, ModelSummary } from '../torch/types.js';
import { InvalidOptionError } from '../errors.js';
import { FONT_FAMILY, escapeXml, pngScaleOf, svgSize, svgToPng, type Figure, type FigureOptions } from './render.js';
import { importReportPackage } from './optional.js';
import { checkSummary, formatShape } from './summary.js';

/** Options of {@link renderModelDiagram}. */
export interface ModelDiagramOptions extends FigureOptions {
  /** Show each layer's settings line (kernel, filters, activation) and parameter count (default true). */
  showDetails?: boolean;
}

// Box colours by Keras class: similar layers look alike across models.
const FILL: Record<string, string> = {
  InputLayer: '#e5e7eb',
  Conv2D: '#dbeafe',
  BatchNormalization: '#fef3c7',
  Activation: '#fce7f3',
  MaxPooling2D: '#dcfce7',
  AveragePooling2D: '#dcfce7',
  Flatten: '#ede9fe',
  Dense: '#fee2e2',
  Add: '#ccfbf1',
};

let vizPromise: Promise<import('@viz-js/viz').Viz> | undefined;

/** Graphviz compiled to WebAssembly, loaded once (it takes ~100 ms). */
function viz(): Promise<import('@viz-js/viz').Viz> {
  vizPromise ??= importReportPackage('@viz-js/viz', () => import('@viz-js/viz')).then((m) => m.instance());
  // A failed load is not cached: installing the package then works without a restart.
  vizPromise.catch(() => { vizPromise = undefined; });
  return vizPromise;
}

/** Escapes text for a Graphviz HTML-like label. */
function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/**
 * The input shape Keras shows for a layer: the output shape of its inbound
 * layer (a list when several feed it; the input layer shows its own shape).
 */
export function inputShapeText(layer: LayerSummary, byName: ReadonlyMap<string, LayerSummary>): string {
  if (layer.inbound.length === 0) return `[${formatShape(layer.outputShape)}]`;
  const shapes = layer.inbound.map((n) => formatShape(byName.get(n)!.outputShape));
  return shapes.length === 1 ? shapes[0]! : `[${shapes.join(', ')}]`;
}

/**
 * The Graphviz DOT source of the diagram (exposed for tests and for users who
 * want to restyle it).
 *
 * @example
 * ```ts
 * const dot = modelDiagramDot(model.summary());
 * ```
 */
export function modelDiagramDot(summary: ModelSummary, options: ModelDiagramOptions = {}): string {
  checkSummary(summary);
  const showDetails = options.showDetails ?? true;
  const byName = new Map(summary.layers.map((l) => [l.name, l]));
  const id = new Map(summary.layers.map((l, i) => [l.name, `n${i}`]));
  const title = options.title ?? `${summary.name} (${summary.totalParams.toLocaleString('en-US')} parameters)`;
  const lines = [
    'digraph model {',
    `  graph [rankdir=TB, nodesep=0.3, ranksep=0.28, fontname="Helvetica", fontsize=16, labelloc=t, label=<<B>${esc(title)}</B>>, bgcolor="white", pad=0.25];`,
    '  node [shape=plaintext, fontname="Helvetica", fontsize=11, margin=0];',
    '  edge [color="#64748b", arrowsize=0.7, penwidth=1.2];',
  ];
  for (const layer of summary.layers) {
    const fill = FILL[layer.type] ?? '#f3f4f6';
    // The whole box takes the type's colour: a coloured header cell would poke
    // out of the rounded corners.
    const rows = [
      `<TR><TD COLSPAN="2" CELLPADDING="5"><B>${esc(layer.name)}</B><FONT COLOR="#475569">  ${esc(layer.type)}</FONT></TD></TR>`,
    ];
    if (showDetails) {
      const detail = [layer.config, layer.params > 0 ? `${layer.params.toLocaleString('en-US')} params` : ''].filter(Boolean).join(' · ');
      if (detail) rows.push(`<TR><TD COLSPAN="2"><FONT POINT-SIZE="10" COLOR="#475569">${esc(detail)}</FONT></TD></TR>`);
    }
    rows.push(
      '<HR/>',
      `<TR><TD ALIGN="RIGHT"><FONT COLOR="#64748b">input:</FONT></TD><TD ALIGN="LEFT">${esc(inputShapeText(layer, byName))}</TD></TR>`,
      `<TR><TD ALIGN="RIGHT"><FONT COLOR="#64748b">output:</FONT></TD><TD ALIGN="LEFT">${esc(formatShape(layer.outputShape))}</TD></TR>`,
    );
    lines.push(
      `  ${id.get(layer.name)} [label=<<TABLE BORDER="1" COLOR="#94a3b8" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" BGCOLOR="${fill}" STYLE="rounded">${rows.join('')}</TABLE>>];`,
    );
  }
  for (const layer of summary.layers) {
    for (const from of layer.inbound) lines.push(`  ${id.get(from)} -> ${id.get(layer.name)};`);
  }
  lines.push('}');
  return lines.join('\n');
}

/**
 * Draws the model as Keras's `plot_model(model, show_shapes=True)` does: one box
 * per layer (name, type, settings, input and output shapes), arrows from each
 * layer's inbound layers (the ResNet's skip connections meet at 'Add' boxes),
 * laid out top to bottom by Graphviz.
 *
 * @example
 * ```ts
 * const { svg, png } = await renderModelDiagram(model.summary());
 * await writeFile('model.svg', svg);
 * ```
 */
export async function renderModelDiagram(summary: ModelSummary, options: ModelDiagramOptions = {}): Promise<Figure> {
  const pngScale = pngScaleOf(options, (o, e, v) => new InvalidOptionError(o, e, v));
  const dot = modelDiagramDot(summary, options);
  const raw = (await viz()).renderString(dot, { format: 'svg', engine: 'dot' });
  // Graphviz sized the text with Helvetica's metrics; Liberation Sans has the same
  // metrics and is what we ship, so name it first (browsers and resvg then agree).
  // Drop the XML declaration, doctype and comments before <svg> so the file can also be inlined.
  const svg = raw
    .slice(raw.indexOf('<svg'))
    .replace(/font-family="Helvetica,sans-Serif"/g, `font-family="${escapeXml(FONT_FAMILY)}"`);
  const { width, height } = svgSize(svg);
  return { svg, png: await svgToPng(svg, pngScale), width, height };
}
