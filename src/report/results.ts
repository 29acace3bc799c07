/**
 * results.json: the report's machine-readable twin. It holds the whole
 * ReportInput (typed arrays as plain arrays, sample images as base64 bytes) so
 * that `torchfit report <run-dir>` can redraw every figure from it, plus the
 * metrics computed from the predictions for whoever reads the file.
 */
import { readFile } from 'node:fs/promises';
import type { NdArray } from '../data/ndarray.js';
import { InvalidOptionError, TorchfitError } from '../errors.js';
import type { History } from '../torch/types.js';
import { checkSummary } from './summary.js';
import { checkStopReason } from './stop-label.js';
import type { ReportInput, ReportPredictions } from './types.js';

/** Identifies the file; bump the version when the layout changes incompatibly. */
export const RESULTS_FORMAT = 'torchfit-report';
export const RESULTS_VERSION = 1;

const HISTORY_KEYS = ['epoch', 'loss', 'accuracy', 'valLoss', 'valAccuracy', 'seconds', 'msPerStep', 'learningRate'] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isLabelArray(v: unknown): v is Int32Array | number[] {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

function num(path: string, v: unknown, { integer = false, min = -Infinity } = {}): void {
  // NaN is allowed where a diverged run can produce it (losses), but not Infinity for counts.
  if (typeof v !== 'number' || (integer && (!Number.isSafeInteger(v) || v < min)) || (!integer && !Number.isNaN(v) && v < min)) {
    throw new InvalidOptionError(path, integer ? `an integer ≥ ${min}` : 'a number', v);
  }
}

function str(path: string, v: unknown): void {
  if (typeof v !== 'string') throw new InvalidOptionError(path, 'a string', v);
}

function checkPredictions(path: string, p: unknown, numClasses: number): void {
  if (!isObject(p)) throw new InvalidOptionError(path, '{ yTrue, yPred }', p);
  for (const k of ['yTrue', 'yPred'] as const) {
    const arr = p[k];
    if (!isLabelArray(arr) || arr.length === 0) throw new InvalidOptionError(`${path}.${k}`, 'a non-empty Int32Array or array of class indices', arr);
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= numClasses) {
        throw new InvalidOptionError(`${path}.${k}[${i}]`, `a 0-based class index from 0 to ${numClasses - 1}`, v);
      }
    }
  }
  if ((p.yTrue as ArrayLike<number>).length !== (p.yPred as ArrayLike<number>).length) {
    throw new InvalidOptionError(`${path}.yPred`, `as many predictions as yTrue has labels (${(p.yTrue as ArrayLike<number>).length})`, p.yPred);
  }
}

function checkHistory(path: string, h: unknown): void {
  if (!isObject(h)) throw new InvalidOptionError(path, 'a History record', h);
  const n = Array.isArray(h.epoch) ? h.epoch.length : -1;
  if (n < 1) throw new InvalidOptionError(`${path}.epoch`, 'a non-empty array of epoch numbers', h.epoch);
  for (const k of HISTORY_KEYS) {
    const v = h[k];
    // learningRate came later than the other fields: tolerate its absence.
    if (v === undefined && k === 'learningRate') continue;
    if (!Array.isArray(v) || v.length !== n || v.some((x) => typeof x !== 'number')) {
      throw new InvalidOptionError(`${path}.${k}`, `an array of ${n} numbers (one per epoch)`, v);
    }
  }
}

function checkImages(path: string, images: unknown): void {
  if (!isObject(images) || !Array.isArray(images.shape) || !ArrayBuffer.isView(images.data)) {
    throw new InvalidOptionError(path, 'an NdArray { dtype, shape, data }', images);
  }
  if (!['float32', 'float64', 'uint8'].includes(images.dtype as string)) {
    throw new InvalidOptionError(`${path}.dtype`, "'float32', 'float64' or 'uint8'", images.dtype);
  }
}

/**
 * Checks a ReportInput field by field; errors name the field, e.g.
 * `input.runs[1].test.yPred[17]`.
 *
 * @example
 * ```ts
 * checkReportInput(input); // throws InvalidOptionError on the first bad field
 * ```
 */
export function checkReportInput(input: unknown, path = 'input'): asserts input is ReportInput {
  if (!isObject(input)) throw new InvalidOptionError(path, 'a ReportInput object', input);
  if (input.title !== undefined) str(`${path}.title`, input.title);
  const created = input.createdAt;
  if (!(created instanceof Date && !Number.isNaN(created.getTime())) && !(typeof created === 'string' && !Number.isNaN(Date.parse(created)))) {
    throw new InvalidOptionError(`${path}.createdAt`, 'a Date or an ISO 8601 date string', created);
  }
  const d = input.dataset;
  if (!isObject(d)) throw new InvalidOptionError(`${path}.dataset`, 'a dataset description', d);
  str(`${path}.dataset.file`, d.file);
  num(`${path}.dataset.numSamples`, d.numSamples, { integer: true, min: 0 });
  if (!Array.isArray(d.classNames) || d.classNames.length === 0 || d.classNames.some((c) => typeof c !== 'string')) {
    throw new InvalidOptionError(`${path}.dataset.classNames`, 'a non-empty array of class names', d.classNames);
  }
  if (new Set(d.classNames).size !== d.classNames.length) throw new InvalidOptionError(`${path}.dataset.classNames`, 'distinct class names', d.classNames);
  if (!isObject(d.split)) throw new InvalidOptionError(`${path}.dataset.split`, '{ train, val, test } sizes', d.split);
  for (const k of ['train', 'val', 'test']) num(`${path}.dataset.split.${k}`, d.split[k], { integer: true, min: 0 });
  if (d.sampleImages !== undefined) checkImages(`${path}.dataset.sampleImages`, d.sampleImages);
  if (d.sampleLabels !== undefined && !isLabelArray(d.sampleLabels)) {
    throw new InvalidOptionError(`${path}.dataset.sampleLabels`, 'an Int32Array or array of labels (1..5)', d.sampleLabels);
  }
  const numClasses = d.classNames.length;
  if (!Array.isArray(input.runs) || input.runs.length === 0) throw new InvalidOptionError(`${path}.runs`, 'a non-empty array of runs', input.runs);
  const names = new Set<string>();
  input.runs.forEach((run: unknown, i) => {
    const at = `${path}.runs[${i}]`;
    if (!isObject(run)) throw new InvalidOptionError(at, 'a ReportRun object', run);
    str(`${at}.name`, run.name);
    if (run.name === '' || names.has(run.name as string)) throw new InvalidOptionError(`${at}.name`, 'a non-empty name no other run has', run.name);
    names.add(run.name as string);
    checkSummary(run.summary as never, `${at}.summary`);
    checkHistory(`${at}.history`, run.history);
    if (run.stoppedEpoch !== undefined) num(`${at}.stoppedEpoch`, run.stoppedEpoch, { integer: true, min: 1 });
    checkStopReason(`${at}.stopReason`, run.stopReason);
    str(`${at}.device`, run.device);
    const f = run.final;
    if (!isObject(f)) throw new InvalidOptionError(`${at}.final`, '{ train, val, test, heldOut? }', f);
    for (const k of ['train', 'val', 'test', 'heldOut']) {
      if (k === 'heldOut' && f[k] === undefined) continue;
      const s = f[k];
      if (!isObject(s)) throw new InvalidOptionError(`${at}.final.${k}`, '{ loss, accuracy }', s);
      num(`${at}.final.${k}.loss`, s.loss);
      num(`${at}.final.${k}.accuracy`, s.accuracy);
      if (k === 'heldOut') num(`${at}.final.heldOut.numSamples`, s.numSamples, { integer: true, min: 0 });
    }
    checkPredictions(`${at}.test`, run.test, numClasses);
    if (run.heldOutPredictions !== undefined) checkPredictions(`${at}.heldOutPredictions`, run.heldOutPredictions, numClasses);
    if (!isObject(run.options)) throw new InvalidOptionError(`${at}.options`, 'an object of training options', run.options);
    const t = run.timings;
    if (!isObject(t)) throw new InvalidOptionError(`${at}.timings`, '{ msPerStep, secondsPerEpoch, totalSeconds }', t);
    for (const k of ['msPerStep', 'secondsPerEpoch', 'totalSeconds']) num(`${at}.timings.${k}`, t[k], { min: 0 });
    if (run.warnings !== undefined) {
      if (!Array.isArray(run.warnings)) throw new InvalidOptionError(`${at}.warnings`, 'an array of { code, message }', run.warnings);
      run.warnings.forEach((w: unknown, j) => {
        if (!isObject(w)) throw new InvalidOptionError(`${at}.warnings[${j}]`, '{ code, message }', w);
        str(`${at}.warnings[${j}].code`, w.code);
        str(`${at}.warnings[${j}].message`, w.message);
      });
    }
    if (run.subset !== undefined) str(`${at}.subset`, run.subset);
  });
  if (input.environment !== undefined) {
    const e = input.environment;
    if (!isObject(e)) throw new InvalidOptionError(`${path}.environment`, 'an environment description', e);
    for (const k of ['libtorchVersion', 'device', 'node', 'platform']) str(`${path}.environment.${k}`, e[k]);
    num(`${path}.environment.threads`, e.threads, { integer: true, min: 0 });
  }
  if (input.options !== undefined && !isObject(input.options)) throw new InvalidOptionError(`${path}.options`, 'an object', input.options);
}

/** An NdArray as results.json stores it: its bytes, little-endian, in base64. */
interface EncodedArray {
  dtype: 'float32' | 'float64' | 'uint8';
  shape: number[];
  byteOrder: 'little';
  base64: string;
}

function encodeArray(a: NdArray): EncodedArray {
  const dtype = a.dtype as EncodedArray['dtype'];
  const size = dtype === 'uint8' ? 1 : dtype === 'float32' ? 4 : 8;
  const out = Buffer.alloc(a.data.length * size);
  for (let i = 0; i < a.data.length; i++) {
    const v = a.data[i] as number;
    if (dtype === 'uint8') out.writeUInt8(v, i);
    else if (dtype === 'float32') out.writeFloatLE(v, i * 4);
    else out.writeDoubleLE(v, i * 8);
  }
  return { dtype, shape: [...a.shape], byteOrder: 'little', base64: out.toString('base64') };
}

function decodeArray(path: string, e: unknown): NdArray {
  if (!isObject(e) || !Array.isArray(e.shape) || typeof e.base64 !== 'string') {
    throw new InvalidOptionError(path, '{ dtype, shape, byteOrder, base64 }', e);
  }
  const bytes = Buffer.from(e.base64, 'base64');
  const count = (e.shape as number[]).reduce((a, b) => a * b, 1);
  const size = e.dtype === 'uint8' ? 1 : e.dtype === 'float32' ? 4 : e.dtype === 'float64' ? 8 : 0;
  if (size === 0) throw new InvalidOptionError(`${path}.dtype`, "'float32', 'float64' or 'uint8'", e.dtype);
  if (bytes.length !== count * size) throw new InvalidOptionError(`${path}.base64`, `${count * size} bytes for shape (${(e.shape as number[]).join(',')})`, `${bytes.length} bytes`);
  if (e.dtype === 'uint8') return { dtype: 'uint8', shape: e.shape as number[], data: new Uint8Array(bytes) };
  if (e.dtype === 'float32') return { dtype: 'float32', shape: e.shape as number[], data: Float32Array.from({ length: count }, (_, i) => bytes.readFloatLE(i * 4)) };
  return { dtype: 'float64', shape: e.shape as number[], data: Float64Array.from({ length: count }, (_, i) => bytes.readDoubleLE(i * 8)) };
}

/** JSON has no NaN or Infinity: they are stored as null (and read back as NaN). */
function plain(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value instanceof Date) return value.toISOString();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : plain(v)));
  }
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'function' || v === undefined ? null : plain(v)));
  if (typeof value === 'bigint') return Number(value);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    // Like JSON.stringify, leave out what JSON cannot hold (undefined, functions such as a log callback).
    for (const [k, v] of Object.entries(value)) if (v !== undefined && typeof v !== 'function' && typeof v !== 'symbol') out[k] = plain(v);
    return out;
  }
  return value;
}

/** The JSON-ready form of a ReportInput (the `input` member of results.json). */
export function serializeReportInput(input: ReportInput): Record<string, unknown> {
  const { sampleImages, ...dataset } = input.dataset;
  const out = plain({ ...input, dataset }) as Record<string, unknown>;
  if (sampleImages !== undefined) (out.dataset as Record<string, unknown>).sampleImages = encodeArray(sampleImages);
  return out;
}

function nanFromNull(v: unknown): unknown {
  return v === null ? Number.NaN : v;
}

function restorePredictions(p: unknown): ReportPredictions | undefined {
  if (!isObject(p)) return p as undefined;
  return {
    yTrue: Array.isArray(p.yTrue) ? Int32Array.from(p.yTrue as number[]) : (p.yTrue as never),
    yPred: Array.isArray(p.yPred) ? Int32Array.from(p.yPred as number[]) : (p.yPred as never),
  };
}

/**
 * Reads results.json (written by {@link writeReport}) back into the ReportInput it
 * was made from, so the report can be drawn again: label arrays come back as
 * Int32Array, sample images as an NdArray, nulls in histories and final metrics
 * as NaN.
 *
 * @example
 * ```ts
 * const input = await readReportInput('runs/2024-05-31/results.json');
 * await writeReport(input, 'runs/2024-05-31');
 * ```
 */
export async function readReportInput(resultsJsonPath: string): Promise<ReportInput> {
  if (typeof resultsJsonPath !== 'string') throw new InvalidOptionError('resultsJsonPath', 'a path to results.json', resultsJsonPath);
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(resultsJsonPath, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TorchfitError(
      code === 'ENOENT' ? 'ERR_REPORT_NOT_FOUND' : 'ERR_REPORT_FORMAT',
      `${resultsJsonPath}: ${code === 'ENOENT' ? 'no such file (run a training command with a report first)' : `cannot read results.json: ${(err as Error).message}`}`,
      { cause: err },
    );
  }
  if (!isObject(doc) || doc.format !== RESULTS_FORMAT) {
    throw new TorchfitError('ERR_REPORT_FORMAT', `${resultsJsonPath}: not a torchfit results.json (expected "format": "${RESULTS_FORMAT}")`);
  }
  if (doc.version !== RESULTS_VERSION) {
    throw new TorchfitError('ERR_REPORT_FORMAT', `${resultsJsonPath}: results.json version ${String(doc.version)} is not supported (this torchfit reads version ${RESULTS_VERSION})`);
  }
  const raw = doc.input;
  if (!isObject(raw) || !isObject(raw.dataset) || !Array.isArray(raw.runs)) {
    throw new TorchfitError('ERR_REPORT_FORMAT', `${resultsJsonPath}: the "input" member is missing or incomplete`);
  }
  const dataset: Record<string, unknown> = { ...raw.dataset };
  if (dataset.sampleImages !== undefined) dataset.sampleImages = decodeArray('results.input.dataset.sampleImages', dataset.sampleImages);
  if (Array.isArray(dataset.sampleLabels)) dataset.sampleLabels = Int32Array.from(dataset.sampleLabels as number[]);
  const runs = raw.runs.map((r: unknown) => {
    if (!isObject(r)) return r;
    const run: Record<string, unknown> = { ...r };
    if (isObject(r.history)) {
      const h: Record<string, unknown> = { ...r.history };
      for (const k of HISTORY_KEYS) if (Array.isArray(h[k])) h[k] = (h[k] as unknown[]).map(nanFromNull);
      run.history = h as unknown as History;
    }
    if (isObject(r.final)) {
      const f: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r.final)) {
        f[k] = isObject(v) ? { ...v, loss: nanFromNull(v.loss), accuracy: nanFromNull(v.accuracy) } : v;
      }
      run.final = f;
    }
    run.test = restorePredictions(r.test);
    if (r.heldOutPredictions !== undefined) run.heldOutPredictions = restorePredictions(r.heldOutPredictions);
    return run;
  });
  const input = { ...raw, dataset, runs };
  try {
    checkReportInput(input, 'results.input');
  } catch (err) {
    throw new TorchfitError('ERR_REPORT_FORMAT', `${resultsJsonPath}: ${(err as Error).message}`, { cause: err });
  }
  return input;
}
