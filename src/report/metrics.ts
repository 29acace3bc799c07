/**
 * Classification metrics that return exactly what scikit-learn returns:
 * accuracy_score, confusion_matrix and classification_report (numbers and text).
 * The arithmetic follows sklearn 1.2's code step by step (same divisions, same
 * numpy summation order) so results agree to the last bit.
 */
import { InvalidOptionError } from '../errors.js';
import { formatFixed, numpySum, padLeft, pyLen } from './pyformat.js';

/** Class labels: integers, in an Int32Array (what the trainer returns) or a plain array. */
export type Labels = Int32Array | ArrayLike<number>;

/** zero_division as sklearn takes it: 'warn' behaves as 0 (we never print warnings). */
export type ZeroDivision = 'warn' | 0 | 1;

/** Options of {@link classificationReport}, named as sklearn names them. */
export interface ClassificationReportOptions {
  /** Display names, one per label (same order as `labels`). */
  targetNames?: readonly string[];
  /** Labels to include, in order; default: the sorted union of labels in yTrue and yPred. */
  labels?: Labels;
  /** Digits after the decimal point in the text (default 2). */
  digits?: number;
  /** Value used where a ratio divides by zero (default 'warn', which gives 0). */
  zeroDivision?: ZeroDivision;
}

/** One class's row of the report. */
export interface ClassMetrics {
  /** The label value as it appears in yTrue/yPred. */
  label: number;
  /** The displayed name: targetNames[i] or the label as a string. */
  name: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of samples of this class in yTrue. */
  support: number;
}

/** An averaged row ('micro avg', 'macro avg', 'weighted avg'). */
export interface AverageMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** The result of {@link classificationReport}: the text and the numbers behind it. */
export interface ClassificationReport {
  /** Exactly the string sklearn.metrics.classification_report returns. */
  text: string;
  perClass: ClassMetrics[];
  /**
   * Present when sklearn prints an 'accuracy' row (labels not given, or the same set
   * as the labels present): the value sklearn's output_dict stores under 'accuracy'.
   */
  accuracy?: number;
  /** Present instead of `accuracy` when sklearn prints a 'micro avg' row. */
  microAvg?: AverageMetrics;
  macroAvg: AverageMetrics;
  weightedAvg: AverageMetrics;
  /** The labels reported on, in order. */
  labels: number[];
  digits: number;
}

/** Validates a label array and returns it as a plain number array. */
function toLabels(name: string, value: unknown): number[] {
  if (!(Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView)))) {
    throw new InvalidOptionError(name, 'an Int32Array or an array of integer labels', value);
  }
  const arr = value as ArrayLike<unknown>;
  const out = new Array<number>(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      throw new InvalidOptionError(`${name}[${i}]`, 'an integer label', v);
    }
    out[i] = v;
  }
  return out;
}

function checkPair(yTrue: unknown, yPred: unknown): { t: number[]; p: number[] } {
  const t = toLabels('yTrue', yTrue);
  const p = toLabels('yPred', yPred);
  if (t.length === 0) throw new InvalidOptionError('yTrue', 'a non-empty array of labels', yTrue);
  if (p.length !== t.length) {
    throw new InvalidOptionError('yPred', `an array of the same length as yTrue (${t.length})`, yPred);
  }
  return { t, p };
}

/** sklearn's unique_labels for 1-d integer targets: the sorted union. */
function uniqueLabels(t: readonly number[], p: readonly number[]): number[] {
  const set = new Set<number>(t);
  for (const v of p) set.add(v);
  return [...set].sort((a, b) => a - b);
}

/**
 * Fraction of exact matches, as `sklearn.metrics.accuracy_score(y_true, y_pred)`.
 *
 * @example
 * ```ts
 * accuracyScore([0, 1, 2, 2], [0, 2, 2, 2]); // 0.75
 * ```
 */
export function accuracyScore(yTrue: Labels, yPred: Labels): number {
  const { t, p } = checkPair(yTrue, yPred);
  let correct = 0;
  for (let i = 0; i < t.length; i++) if (t[i] === p[i]) correct++;
  // sklearn averages a boolean array: an exact integer sum divided by n.
  return correct / t.length;
}

/**
 * Confusion matrix with rows = true class and columns = predicted class, as
 * `sklearn.metrics.confusion_matrix`. With `numClasses` the labels are
 * 0..numClasses-1 (a class that never occurs still gets its row and column);
 * without it, the sorted union of the labels present, as sklearn does when
 * `labels` is None. Unlike sklearn, which silently drops samples whose label is
 * not in `labels`, a label outside 0..numClasses-1 is an error here: it means a
 * bug upstream, and dropping it would misreport.
 *
 * @example
 * ```ts
 * confusionMatrix([0, 1, 1], [0, 1, 0], 3); // [[1, 0, 0], [1, 1, 0], [0, 0, 0]]
 * ```
 */
export function confusionMatrix(yTrue: Labels, yPred: Labels, numClasses?: number): number[][] {
  const { t, p } = checkPair(yTrue, yPred);
  let labels: number[];
  if (numClasses === undefined) {
    labels = uniqueLabels(t, p);
  } else {
    if (typeof numClasses !== 'number' || !Number.isSafeInteger(numClasses) || numClasses < 1) {
      throw new InvalidOptionError('numClasses', 'a positive integer', numClasses);
    }
    labels = Array.from({ length: numClasses }, (_, i) => i);
    for (const [name, arr] of [['yTrue', t], ['yPred', p]] as const) {
      const i = arr.findIndex((v) => v < 0 || v >= numClasses);
      if (i >= 0) throw new InvalidOptionError(`${name}[${i}]`, `a label in 0..${numClasses - 1}`, arr[i]);
    }
  }
  const index = new Map(labels.map((l, i) => [l, i]));
  const m = labels.map(() => new Array<number>(labels.length).fill(0));
  for (let i = 0; i < t.length; i++) m[index.get(t[i]!)!]![index.get(p[i]!)!]!++;
  return m;
}

/** Per-label sufficient statistics: sklearn's multilabel_confusion_matrix reduced to sums. */
interface Sums {
  tp: number[];
  pred: number[];
  truth: number[];
}

function sums(t: readonly number[], p: readonly number[], labels: readonly number[]): Sums {
  const tpBy = new Map<number, number>();
  const predBy = new Map<number, number>();
  const trueBy = new Map<number, number>();
  const inc = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1);
  for (let i = 0; i < t.length; i++) {
    inc(trueBy, t[i]!);
    inc(predBy, p[i]!);
    if (t[i] === p[i]) inc(tpBy, t[i]!);
  }
  return {
    tp: labels.map((l) => tpBy.get(l) ?? 0),
    pred: labels.map((l) => predBy.get(l) ?? 0),
    truth: labels.map((l) => trueBy.get(l) ?? 0),
  };
}

/** sklearn's _prf_divide: a zero denominator yields the zero_division value. */
function divide(num: readonly number[], den: readonly number[], zd: number): number[] {
  return num.map((n, i) => (den[i] === 0 ? zd : n / den[i]!));
}

/** sklearn's F1 from precision and recall arrays (beta = 1), same operation order. */
function fScore(precision: readonly number[], recall: readonly number[]): number[] {
  return precision.map((pr, i) => {
    const re = recall[i]!;
    let denom = 1 * pr + re;
    if (denom === 0) denom = 1;
    return ((1 + 1) * pr * re) / denom;
  });
}

/** precision_recall_fscore_support(average=...) for 'micro', 'macro' or 'weighted'. */
function averaged(s: Sums, average: 'micro' | 'macro' | 'weighted', zd: number): AverageMetrics {
  const support = numpySum(s.truth);
  if (average === 'micro') {
    const tp = [numpySum(s.tp)];
    const pred = [numpySum(s.pred)];
    const truth = [numpySum(s.truth)];
    const precision = divide(tp, pred, zd);
    const recall = divide(tp, truth, zd);
    const f1 = fScore(precision, recall);
    return { precision: precision[0]!, recall: recall[0]!, f1: f1[0]!, support };
  }
  const precision = divide(s.tp, s.pred, zd);
  const recall = divide(s.tp, s.truth, zd);
  const f1 = fScore(precision, recall);
  if (average === 'macro') {
    const n = precision.length;
    return { precision: numpySum(precision) / n, recall: numpySum(recall) / n, f1: numpySum(f1) / n, support };
  }
  const weights = s.truth;
  const scl = numpySum(weights);
  if (scl === 0) {
    // sklearn's special case: no true samples among the chosen labels.
    if (numpySum(s.pred) === 0) return { precision: zd, recall: zd, f1: zd, support };
    return { precision: 0, recall: zd, f1: 0, support };
  }
  const w = (a: readonly number[]) => numpySum(a.map((v, i) => v * weights[i]!)) / scl;
  return { precision: w(precision), recall: w(recall), f1: w(f1), support };
}

/**
 * Per-class precision, recall, F1 and support with macro and weighted averages,
 * identical (numbers and text) to `sklearn.metrics.classification_report`.
 * The last block has an 'accuracy' row when `labels` is not given or equals the
 * set of labels present; otherwise sklearn prints 'micro avg', and so do we.
 * One deliberate difference: a `targetNames` whose length differs from the
 * number of labels is an error (sklearn only warns when `labels` is given and
 * then silently drops rows).
 *
 * @example
 * ```ts
 * const r = classificationReport([0, 1, 2, 2], [0, 2, 2, 2], { targetNames: ['a', 'b', 'c'] });
 * console.log(r.text);
 * //               precision    recall  f1-score   support
 * //
 * //            a       1.00      1.00      1.00         1
 * //            b       0.00      0.00      0.00         1
 * //            c       0.67      1.00      0.80         2
 * //
 * //     accuracy                           0.75         4
 * //    macro avg       0.56      0.67      0.60         4
 * // weighted avg       0.58      0.75      0.65         4
 * ```
 */
export function classificationReport(
  yTrue: Labels,
  yPred: Labels,
  options: ClassificationReportOptions = {},
): ClassificationReport {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const { t, p } = checkPair(yTrue, yPred);
  const digits = options.digits ?? 2;
  if (typeof digits !== 'number' || !Number.isSafeInteger(digits) || digits < 0 || digits > 20) {
    throw new InvalidOptionError('digits', 'an integer from 0 to 20', digits);
  }
  const zeroDivision = options.zeroDivision ?? 'warn';
  if (zeroDivision !== 'warn' && zeroDivision !== 0 && zeroDivision !== 1) {
    throw new InvalidOptionError('zeroDivision', "'warn', 0 or 1", zeroDivision);
  }
  const zd = zeroDivision === 1 ? 1 : 0;

  const present = uniqueLabels(t, p);
  const labelsGiven = options.labels !== undefined;
  const labels = labelsGiven ? toLabels('labels', options.labels) : present;
  if (labels.length === 0) throw new InvalidOptionError('labels', 'a non-empty array of labels', options.labels);
  const labelSet = new Set(labels);
  const microIsAccuracy =
    !labelsGiven || (labelSet.size === present.length && present.every((l) => labelSet.has(l)));

  let names: string[];
  if (options.targetNames !== undefined) {
    if (!Array.isArray(options.targetNames) || options.targetNames.some((n) => typeof n !== 'string')) {
      throw new InvalidOptionError('targetNames', 'an array of strings', options.targetNames);
    }
    if (options.targetNames.length !== labels.length) {
      throw new InvalidOptionError(
        'targetNames',
        `${labels.length} names, one per label (${labels.join(', ')})`,
        options.targetNames,
      );
    }
    names = [...options.targetNames];
  } else {
    names = labels.map((l) => String(l));
  }

  const s = sums(t, p, labels);
  const precision = divide(s.tp, s.pred, zd);
  const recall = divide(s.tp, s.truth, zd);
  const f1 = fScore(precision, recall);
  const perClass: ClassMetrics[] = labels.map((label, i) => ({
    label,
    name: names[i]!,
    precision: precision[i]!,
    recall: recall[i]!,
    f1: f1[i]!,
    support: s.truth[i]!,
  }));

  const micro = averaged(s, 'micro', zd);
  const macroAvg = averaged(s, 'macro', zd);
  const weightedAvg = averaged(s, 'weighted', zd);

  // The text, with sklearn's format strings spelled out. When no sample at all is
  // predicted correctly, sklearn's multilabel_confusion_matrix takes a "pathological
  // case" branch that builds its sums as float zeros, so supports print as '1.0'.
  const floatSupport = !t.some((v, i) => v === p[i]);
  const sup = (n: number) => padLeft(floatSupport ? `${n}.0` : String(n), 9);
  const headers = ['precision', 'recall', 'f1-score', 'support'];
  const width = Math.max(Math.max(...names.map(pyLen)), 'weighted avg'.length, digits);
  const f = (x: number) => padLeft(formatFixed(x, digits), 9);
  const row = (name: string, a: { precision: number; recall: number; f1: number; support: number }) =>
    `${padLeft(name, width)}  ${f(a.precision)} ${f(a.recall)} ${f(a.f1)} ${sup(a.support)}\n`;
  let text = `${padLeft('', width)} ${headers.map((h) => ` ${padLeft(h, 9)}`).join('')}`;
  text += '\n\n';
  for (const c of perClass) text += row(c.name, { ...c });
  text += '\n';
  if (microIsAccuracy) {
    text += `${padLeft('accuracy', width)}  ${' '.repeat(9)} ${' '.repeat(9)} ${f(micro.f1)} ${sup(micro.support)}\n`;
  } else {
    text += row('micro avg', micro);
  }
  text += row('macro avg', macroAvg);
  text += row('weighted avg', weightedAvg);

  const report: ClassificationReport = { text, perClass, macroAvg, weightedAvg, labels, digits };
  // sklearn's output_dict stores the micro precision under 'accuracy'.
  if (microIsAccuracy) report.accuracy = micro.precision;
  else report.microAvg = micro;
  return report;
}
