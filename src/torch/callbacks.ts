/**
 * Callbacks as data, with Keras's names and defaults (Keras 2.15): earlyStopping,
 * modelCheckpoint, reduceLROnPlateau and csvLogger. A factory only tags its options;
 * trainModel validates the whole list once (resolveCallbacks), naming the entry in its
 * messages (`callbacks[1].factor`). Decisions that depend on the metrics run on the training
 * thread in native code, in the list's order, as Keras runs them; csvLogger writes from
 * TypeScript (csv-logger.ts).
 */
import { TRAIN_DEFAULTS } from './defaults.js';
import { resolve } from 'node:path';

import { described, InvalidOptionError } from '../errors.js';
import { parsePathTemplate, type NativePathPart } from './checkpoint-path.js';

/** A figure of the epoch's log, Keras's names. */
export type Monitor = 'val_loss' | 'val_accuracy' | 'loss' | 'accuracy';
/** 'auto' (default): 'max' for accuracies, 'min' for losses, as Keras infers it from the name. */
export type MonitorMode = 'auto' | 'min' | 'max';

/** Keras's EarlyStopping. Defaults: val_loss, 'auto', patience 0, minDelta 0, no baseline, startFromEpoch 0. */
export interface EarlyStoppingOptions {
  monitor?: Monitor;
  mode?: MonitorMode;
  /** Epochs without improvement before stopping. */
  patience?: number;
  /** A change smaller than this (in absolute value) is no improvement. */
  minDelta?: number;
  /** Put back the weights of the best epoch when it stops the run. */
  restoreBestWeights?: boolean;
  /** The wait restarts only on epochs that beat this value as well as the best so far. */
  baseline?: number | null;
  /** Epochs (from the first one, 0-based) that are not watched: a warm-up. */
  startFromEpoch?: number;
}

/**
 * Keras's ModelCheckpoint: saves the model (Model.load reads it) at the end of every epoch, or
 * only when the monitored figure improves (saveBestOnly). The path may hold Python format
 * fields: {epoch} (1-based), {loss}, {accuracy}, {val_loss}, {val_accuracy}, {lr}, with an
 * optional format such as {epoch:02d} or {val_loss:.4f}. Missing folders are created.
 */
export interface ModelCheckpointOptions {
  path: string;
  monitor?: Monitor;
  mode?: MonitorMode;
  saveBestOnly?: boolean;
  /** Leave the optimizer state out of the file (it still loads; resuming starts a new optimizer). */
  saveWeightsOnly?: boolean;
  /** saveBestOnly: the value to beat before the first save (default: none). */
  initialValueThreshold?: number | null;
}

/** Keras's ReduceLROnPlateau. Defaults: val_loss, 'auto', factor 0.1, patience 10, minDelta 1e-4, cooldown 0, minLr 0. */
export interface ReduceLROnPlateauOptions {
  monitor?: Monitor;
  mode?: MonitorMode;
  /** new rate = rate * factor, in (0, 1). */
  factor?: number;
  patience?: number;
  minDelta?: number;
  /** Epochs after a reduction during which the wait does not count. */
  cooldown?: number;
  /** The rate is never reduced below this. */
  minLr?: number;
}

/** Keras's CSVLogger: one row per epoch, Keras's columns. Defaults: separator ',', append false. */
export interface CsvLoggerOptions {
  path: string;
  /** One character. */
  separator?: string;
  /** Add rows to an existing file (its header is kept) instead of replacing it. */
  append?: boolean;
}

export type EarlyStoppingCallback = EarlyStoppingOptions & { type: 'earlyStopping' };
export type ModelCheckpointCallback = ModelCheckpointOptions & { type: 'modelCheckpoint' };
export type ReduceLROnPlateauCallback = ReduceLROnPlateauOptions & { type: 'reduceLROnPlateau' };
export type CsvLoggerCallback = CsvLoggerOptions & { type: 'csvLogger' };
/** One entry of trainModel's `callbacks`: what the factories return (plain data). */
export type Callback = EarlyStoppingCallback | ModelCheckpointCallback | ReduceLROnPlateauCallback | CsvLoggerCallback;

/**
 * Stops training when the monitored figure stops improving (Keras's EarlyStopping).
 *
 * @example
 * await trainModel({ ..., callbacks: [earlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true })] });
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): EarlyStoppingCallback {
  return { ...options, type: 'earlyStopping' };
}

/**
 * Saves the model after epochs (Keras's ModelCheckpoint), atomically: a reader never sees half a file.
 *
 * @example
 * callbacks: [modelCheckpoint({ path: 'runs/cnn-{epoch:02d}-{val_loss:.3f}.pt', saveBestOnly: true })]
 */
export function modelCheckpoint(options: ModelCheckpointOptions): ModelCheckpointCallback {
  return { ...options, type: 'modelCheckpoint' };
}

/**
 * Lowers the learning rate when the monitored figure stops improving (Keras's ReduceLROnPlateau).
 * The rate each epoch used is in history.learningRate.
 *
 * @example
 * callbacks: [reduceLROnPlateau({ factor: 0.5, patience: 2, minLr: 1e-5 })]
 */
export function reduceLROnPlateau(options: ReduceLROnPlateauOptions = {}): ReduceLROnPlateauCallback {
  return { ...options, type: 'reduceLROnPlateau' };
}

/**
 * Writes one CSV row per epoch (Keras's CSVLogger): epoch (0-based), then the log's keys sorted.
 *
 * @example
 * callbacks: [csvLogger({ path: 'runs/training.csv' })]
 */
export function csvLogger(options: CsvLoggerOptions): CsvLoggerCallback {
  return { ...options, type: 'csvLogger' };
}

/** What crosses to the addon (and the run's metadata), every field filled. */
export type NativeCallback =
  | { type: 'earlyStopping'; monitor: Monitor; mode: 'min' | 'max'; patience: number; minDelta: number; restoreBestWeights: boolean;
      baseline: number | null; startFromEpoch: number }
  | { type: 'reduceLROnPlateau'; monitor: Monitor; mode: 'min' | 'max'; factor: number; patience: number; minDelta: number;
      cooldown: number; minLr: number }
  | { type: 'modelCheckpoint'; path: string; pathParts: NativePathPart[]; monitor: Monitor; mode: 'min' | 'max';
      saveBestOnly: boolean; saveWeightsOnly: boolean; initialValueThreshold: number | null }
  /** lrColumn: a reduceLROnPlateau comes before it, so its rows have Keras's 'lr' column. */
  | { type: 'csvLogger'; path: string; separator: string; append: boolean; lrColumn: boolean };

export type NativeCsvLogger = Extract<NativeCallback, { type: 'csvLogger' }>;

const MONITORS: readonly Monitor[] = ['val_loss', 'val_accuracy', 'loss', 'accuracy'];
const KEYS: Record<Callback['type'], readonly string[]> = {
  earlyStopping: ['monitor', 'mode', 'patience', 'minDelta', 'restoreBestWeights', 'baseline', 'startFromEpoch'],
  modelCheckpoint: ['path', 'monitor', 'mode', 'saveBestOnly', 'saveWeightsOnly', 'initialValueThreshold'],
  reduceLROnPlateau: ['monitor', 'mode', 'factor', 'patience', 'minDelta', 'cooldown', 'minLr'],
  csvLogger: ['path', 'separator', 'append'],
};

const isInt = (v: unknown, min: number, max = 1_000_000): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isFinite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks one entry's options: a reader for its fields with `at` naming them. */
function reader(entry: Record<string, unknown>, at: string) {
  return {
    int(key: string, fallback: number, min = 0): number {
      const v = entry[key] ?? fallback;
      if (!isInt(v, min)) throw new InvalidOptionError(`${at}.${key}`, `an integer >= ${min}`, v);
      return v;
    },
    bool(key: string, fallback: boolean): boolean {
      const v = entry[key] ?? fallback;
      if (typeof v !== 'boolean') throw new InvalidOptionError(`${at}.${key}`, 'a boolean', v);
      return v;
    },
    number(key: string, fallback: number, ok: (v: number) => boolean, expected: string): number {
      const v = entry[key] ?? fallback;
      if (!isFinite(v) || !ok(v)) throw new InvalidOptionError(`${at}.${key}`, expected, v);
      return v;
    },
    optionalNumber(key: string): number | null {
      const v = entry[key] ?? null;
      if (v !== null && !isFinite(v)) throw new InvalidOptionError(`${at}.${key}`, 'a finite number or null', v);
      return v;
    },
    path(key: string): string {
      const v = entry[key];
      if (typeof v !== 'string' || v.length === 0 || v.includes('\0')) throw new InvalidOptionError(`${at}.${key}`, 'a file path', v);
      return resolve(v);
    },
    monitor(hasValidation: boolean): { monitor: Monitor; mode: 'min' | 'max' } {
      const monitor = (entry.monitor ?? 'val_loss') as Monitor;
      if (!MONITORS.includes(monitor)) throw new InvalidOptionError(`${at}.monitor`, "'val_loss', 'val_accuracy', 'loss' or 'accuracy'", monitor);
      if (monitor.startsWith('val_') && !hasValidation) {
        throw new InvalidOptionError(`${at}.monitor`, "'loss' or 'accuracy' (there is no validation data)", monitor);
      }
      const mode = entry.mode ?? 'auto';
      if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new InvalidOptionError(`${at}.mode`, "'auto', 'min' or 'max'", mode);
      return { monitor, mode: mode === 'auto' ? (monitor.endsWith('accuracy') ? 'max' : 'min') : mode };
    },
  };
}

/**
 * EarlyStopping's options, for a callbacks entry (Keras's defaults: patience 0) or the
 * `earlyStopping` option (the notebook's patience 10): `at` names it in messages.
 */
export function resolveEarlyStoppingEntry(entry: Record<string, unknown>, at: string, hasValidation: boolean, defaultPatience: number): NativeCallback {
  const r = reader(entry, at);
  const { monitor, mode } = r.monitor(hasValidation);
  return {
    type: 'earlyStopping', monitor, mode,
    patience: r.int('patience', defaultPatience),
    minDelta: Math.abs(r.number('minDelta', 0, () => true, 'a finite number')),
    restoreBestWeights: r.bool('restoreBestWeights', false),
    baseline: r.optionalNumber('baseline'),
    startFromEpoch: r.int('startFromEpoch', 0),
  };
}

function resolveEntry(value: unknown, index: number, hasValidation: boolean, plateauBefore: boolean): NativeCallback {
  const at = `callbacks[${index}]`;
  const made = 'earlyStopping(), modelCheckpoint(), reduceLROnPlateau() or csvLogger()';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(at, `a callback made by ${made}`, value);
  const entry = value as Record<string, unknown>;
  const type = entry.type as Callback['type'];
  if (!Object.hasOwn(KEYS, type)) throw new InvalidOptionError(`${at}.type`, `'earlyStopping', 'modelCheckpoint', 'reduceLROnPlateau' or 'csvLogger' (use ${made})`, entry.type);
  for (const key of Object.keys(entry)) {
    if (key !== 'type' && !KEYS[type].includes(key)) {
      throw new InvalidOptionError(`${at}.${key}`, `one of ${type}'s options (${KEYS[type].join(', ')})`, described(`unknown option '${key}'`));
    }
  }
  const r = reader(entry, at);
  switch (type) {
    case 'earlyStopping':
      return resolveEarlyStoppingEntry(entry, at, hasValidation, 0);
    case 'reduceLROnPlateau': {
      const { monitor, mode } = r.monitor(hasValidation);
      return {
        type, monitor, mode,
        factor: r.number('factor', 0.1, (v) => v > 0 && v < 1, 'a number in (0, 1)'),
        patience: r.int('patience', 10),
        minDelta: r.number('minDelta', 1e-4, (v) => v >= 0, 'a number >= 0'),
        cooldown: r.int('cooldown', 0),
        minLr: r.number('minLr', 0, (v) => v >= 0, 'a number >= 0'),
      };
    }
    case 'modelCheckpoint': {
      const path = r.path('path');
      const { monitor, mode } = r.monitor(hasValidation);
      return {
        type, path, pathParts: parsePathTemplate(path, `${at}.path`, hasValidation), monitor, mode,
        saveBestOnly: r.bool('saveBestOnly', false),
        saveWeightsOnly: r.bool('saveWeightsOnly', false),
        initialValueThreshold: r.optionalNumber('initialValueThreshold'),
      };
    }
    case 'csvLogger': {
      const path = r.path('path');
      const separator = entry.separator ?? ',';
      if (typeof separator !== 'string' || separator.length !== 1 || '"\r\n'.includes(separator)) {
        throw new InvalidOptionError(`${at}.separator`, 'one character other than a quote or a line break', separator);
      }
      return { type, path, separator, append: r.bool('append', false), lrColumn: plateauBefore };
    }
  }
}

/**
 * The callbacks list and the `earlyStopping` option, validated and defaulted, in the order
 * they run: the list's, then the earlyStopping option's entry (on by default for the CNN with
 * validation data, as in the notebook, unless the list holds an earlyStopping()).
 */
export function resolveCallbacks(list: unknown, earlyStoppingOption: unknown, kind: string, hasValidation: boolean): NativeCallback[] {
  if (list !== undefined && !Array.isArray(list)) {
    throw new InvalidOptionError('callbacks', 'an array of callbacks made by earlyStopping(), modelCheckpoint(), reduceLROnPlateau() or csvLogger()', list);
  }
  const out: NativeCallback[] = [];
  for (const [i, entry] of (list ?? []).entries()) {
    out.push(resolveEntry(entry, i, hasValidation, out.some((c) => c.type === 'reduceLROnPlateau')));
  }
  const listed = out.some((c) => c.type === 'earlyStopping');
  if (listed && earlyStoppingOption !== undefined) {
    throw new InvalidOptionError('earlyStopping', 'to be left out when callbacks holds an earlyStopping() (one or the other)', earlyStoppingOption);
  }
  const wanted = earlyStoppingOption === undefined ? !listed && kind === 'cnn' && hasValidation : earlyStoppingOption !== false;
  if (wanted) {
    if (earlyStoppingOption !== undefined && earlyStoppingOption !== true && (typeof earlyStoppingOption !== 'object' || earlyStoppingOption === null)) {
      throw new InvalidOptionError('earlyStopping', 'a boolean or { monitor?, mode?, patience?, minDelta?, restoreBestWeights?, baseline?, startFromEpoch? }', earlyStoppingOption);
    }
    const given = typeof earlyStoppingOption === 'object' ? (earlyStoppingOption as Record<string, unknown>) : {};
    out.push(resolveEarlyStoppingEntry(given, 'earlyStopping', hasValidation, TRAIN_DEFAULTS.earlyStoppingPatience));
  }
  return out;
}
