/**
 * Keras's model.summary() text (tf.keras 2.x layout) from a ModelSummary.
 */
import type { LayerSummary, ModelSummary } from '../torch/types.js';
import { InvalidOptionError } from '../errors.js';

/** Options of {@link formatSummary}. */
export interface FormatSummaryOptions {
  /**
   * Whether to add Keras's 'Connected to' column. 'auto' (default) decides as Keras
   * does: only for graphs that are not a plain chain of layers (a ResNet with skip
   * connections, i.e. depth ≥ 8; the notebook's depth-2 ResNet is a chain).
   */
  connectedTo?: boolean | 'auto';
  /** Total line length (Keras's default: 65 without 'Connected to', 98 with it). */
  lineLength?: number;
}

/**
 * A shape as Keras prints it, with the batch dimension: `(None, 26, 26, 32)`.
 *
 * @example
 * ```ts
 * formatShape([1600]); // '(None, 1600)'
 * ```
 */
export function formatShape(shape: readonly number[]): string {
  return `(${['None', ...shape.map(String)].join(', ')})`;
}

/** Checks a ModelSummary's fields and links; every report function that takes one calls this. */
export function checkSummary(summary: ModelSummary, option = 'summary'): void {
  if (summary === null || typeof summary !== 'object') throw new InvalidOptionError(option, 'a ModelSummary', summary);
  if (typeof summary.name !== 'string') throw new InvalidOptionError(`${option}.name`, 'a string', summary.name);
  if (!Array.isArray(summary.layers) || summary.layers.length === 0) {
    throw new InvalidOptionError(`${option}.layers`, 'a non-empty array of layers', summary.layers);
  }
  for (const k of ['totalParams', 'trainableParams', 'nonTrainableParams'] as const) {
    if (typeof summary[k] !== 'number' || !Number.isSafeInteger(summary[k]) || summary[k] < 0) {
      throw new InvalidOptionError(`${option}.${k}`, 'a non-negative integer', summary[k]);
    }
  }
  const seen = new Set<string>();
  summary.layers.forEach((l: LayerSummary, i) => {
    const at = `${option}.layers[${i}]`;
    if (l === null || typeof l !== 'object') throw new InvalidOptionError(at, 'a LayerSummary', l);
    if (typeof l.name !== 'string' || l.name === '') throw new InvalidOptionError(`${at}.name`, 'a non-empty string', l.name);
    if (seen.has(l.name)) throw new InvalidOptionError(`${at}.name`, 'a name no other layer has', l.name);
    if (typeof l.type !== 'string') throw new InvalidOptionError(`${at}.type`, 'a Keras class name', l.type);
    if (!Array.isArray(l.outputShape) || l.outputShape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new InvalidOptionError(`${at}.outputShape`, 'an array of dimensions', l.outputShape);
    }
    if (typeof l.params !== 'number' || !Number.isSafeInteger(l.params) || l.params < 0) {
      throw new InvalidOptionError(`${at}.params`, 'a non-negative integer', l.params);
    }
    if (!Array.isArray(l.inbound)) throw new InvalidOptionError(`${at}.inbound`, 'an array of layer names', l.inbound);
    // Layers come in topological order, as Keras lists them: inbound layers come first.
    l.inbound.forEach((n, j) => {
      if (!seen.has(n)) throw new InvalidOptionError(`${at}.inbound[${j}]`, 'the name of an earlier layer', n);
    });
    seen.add(l.name);
  });
}

/**
 * Keras's rule for the plain layout: every layer has at most one inbound layer
 * and feeds at most one other (a chain, no branches).
 */
export function isSequentialLike(summary: ModelSummary): boolean {
  const fanOut = new Map<string, number>();
  for (const l of summary.layers) {
    if (l.inbound.length > 1) return false;
    for (const n of l.inbound) fanOut.set(n, (fanOut.get(n) ?? 0) + 1);
  }
  return [...fanOut.values()].every((c) => c <= 1);
}

/**
 * The text of Keras's `model.summary()` (tf.keras 2.x layout): the layer table
 * with 'Layer (type)', 'Output Shape', 'Param #' and, for branching graphs,
 * 'Connected to'; then total, trainable and non-trainable parameter counts.
 * Long fields are cut at the column edge, as Keras cuts them.
 *
 * @example
 * ```ts
 * console.log(formatSummary(model.summary()));
 * // Model: "model_cnn5"
 * // _________________________________________________________________
 * // Layer (type)                Output Shape              Param #
 * // =================================================================
 * // input_1 (InputLayer)        [(None, 28, 28, 1)]       0
 * // ...
 * // Total params: 33,989
 * ```
 */
export function formatSummary(summary: ModelSummary, options: FormatSummaryOptions = {}): string {
  checkSummary(summary);
  const mode = options.connectedTo ?? 'auto';
  if (mode !== 'auto' && mode !== true && mode !== false) throw new InvalidOptionError('connectedTo', "true, false or 'auto'", mode);
  const withConnections = mode === 'auto' ? !isSequentialLike(summary) : mode;
  const lineLength = options.lineLength ?? (withConnections ? 98 : 65);
  if (typeof lineLength !== 'number' || !Number.isSafeInteger(lineLength) || lineLength < 40 || lineLength > 400) {
    throw new InvalidOptionError('lineLength', 'an integer from 40 to 400', lineLength);
  }
  const relative = withConnections ? [0.33, 0.55, 0.67, 1] : [0.45, 0.85, 1];
  const positions = relative.map((p) => Math.floor(lineLength * p));
  const header = withConnections ? ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'] : ['Layer (type)', 'Output Shape', 'Param #'];

  const out: string[] = [];
  // Keras's print_row: each field starts where the previous column ends, and
  // the character before it is always a space (so cut fields never touch).
  const row = (fields: string[]) => {
    let line = '';
    fields.forEach((f, i) => {
      if (i > 0) line = line.slice(0, -1) + ' ';
      line = (line + f).slice(0, positions[i]);
      line += ' '.repeat(Math.max(0, positions[i]! - line.length));
    });
    out.push(line);
  };
  out.push(`Model: "${summary.name}"`, '_'.repeat(lineLength));
  row(header);
  out.push('='.repeat(lineLength));
  summary.layers.forEach((l, i) => {
    // A functional model's InputLayer reports a list of shapes.
    const shape = l.type === 'InputLayer' ? `[${formatShape(l.outputShape)}]` : formatShape(l.outputShape);
    const first = `${l.name} (${l.type})`;
    if (withConnections) {
      const connections = l.inbound.map((n) => `${n}[0][0]`);
      row([first, shape, String(l.params), connections[0] ?? '']);
      for (const c of connections.slice(1)) row(['', '', '', c]);
    } else {
      row([first, shape, String(l.params)]);
    }
    out.push((i === summary.layers.length - 1 ? '=' : '_').repeat(lineLength));
  });
  const n = (v: number) => v.toLocaleString('en-US');
  out.push(
    `Total params: ${n(summary.totalParams)}`,
    `Trainable params: ${n(summary.trainableParams)}`,
    `Non-trainable params: ${n(summary.nonTrainableParams)}`,
    '_'.repeat(lineLength),
  );
  return out.join('\n');
}
