/**
 * The one reading of a checkpoint: what the restricted unpickler returned for a
 * torch.save archive (torchfit's own format or a plain PyTorch state_dict),
 * vetted field by field and turned into what the addon's restore takes: a model
 * description checked against the state_dict's shapes, float32/int64 arrays
 * with their shapes, and the optimizer's settings and slots. Nothing here
 * allocates beyond the tensors the file itself holds.
 */
import { CheckpointError } from '../errors.js';
import type { PickleValue } from '../data/pickle.js';
import { modelSpecFromCheckpoint } from './checkpoint-spec.js';
import { checkFinite, MAX_ENTRIES, shapeTable, toEntries, vetState } from './checkpoint-state.js';
import { asTensor, isDict, storageName } from './checkpoint-values.js';
import type { NativeModelSpec, NativeOptimizerState, NativeStateEntry } from './native.js';
import { plainStateDict } from './state-dict.js';

export const CHECKPOINT_FORMAT = 'torchfit-model';
export const CHECKPOINT_VERSION = 1;

/** Everything Model.load hands to the addon, and the metadata it keeps in TypeScript. */
export interface RestorePlan {
  spec: NativeModelSpec;
  state: NativeStateEntry[];
  optimizer: NativeOptimizerState | null;
  metadata: Record<string, unknown>;
}

export interface ReadOptions {
  /** For plain state_dicts, whose weights do not say the image size. */
  imageSize: [number, number];
  /** Accept NaN and infinite values in weights, buffers and optimizer slots. */
  allowNonFinite: boolean;
}

const FIELDS = new Set(['format', 'version', 'config', 'model', 'state_dict', 'optimizer']);

/**
 * Vets an unpickled checkpoint and plans its restore. Throws CheckpointError
 * naming the file and the field or entry for anything missing, mistyped, out of
 * range, inconsistent or non-finite.
 *
 * @example
 * const plan = planRestore(readTorchArchive(bytes, path), path, { imageSize: [28, 28], allowNonFinite: false });
 */
export function planRestore(content: PickleValue, file: string, options: ReadOptions): RestorePlan {
  if (!isDict(content) || !('format' in content)) return plainStateDict(content, file, options);
  const get = (key: string) => {
    if (!(key in content)) throw new CheckpointError(file, `missing field '${key}'`);
    return content[key];
  };
  if (get('format') !== CHECKPOINT_FORMAT) throw new CheckpointError(file, `field 'format' is not '${CHECKPOINT_FORMAT}'`);
  if (get('version') !== CHECKPOINT_VERSION) throw new CheckpointError(file, `unsupported checkpoint version (expected ${CHECKPOINT_VERSION})`);
  for (const key of Object.keys(content)) if (!FIELDS.has(key)) throw new CheckpointError(file, `unknown field '${clip(key)}'`);
  const metadata = metadataOf(get('config'), file);
  const state = get('state_dict');
  if (!isDict(state)) throw new CheckpointError(file, "field 'state_dict' is not a dict");
  const tensors = vetState(state, file, options.allowNonFinite, (name) => `field 'state_dict' holds a non-tensor entry '${name}'`);
  const spec = modelSpecFromCheckpoint(get('model'), shapeTable(tensors), file);
  const optimizer = 'optimizer' in content ? optimizerOf(content.optimizer, file, options.allowNonFinite) : null;
  return { spec, state: toEntries(tensors), optimizer, metadata };
}

// The `config` field: JSON text with the model config and the training metadata (history, options).
function metadataOf(config: PickleValue | undefined, file: string): Record<string, unknown> {
  if (typeof config !== 'string') throw new CheckpointError(file, "field 'config' is not a string");
  let parsed: unknown;
  try {
    parsed = JSON.parse(config, decodeNonFinite);
  } catch {
    throw new CheckpointError(file, "field 'config' is not valid JSON");
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CheckpointError(file, "field 'config' is not a JSON object");
  const metadata = (parsed as { metadata?: unknown }).metadata;
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new CheckpointError(file, "field 'config': metadata is not an object");
  const history = (metadata as { history?: unknown }).history;
  if (history !== undefined) {
    const ok = typeof history === 'object' && history !== null && !Array.isArray(history) &&
      Object.values(history).every((a) => Array.isArray(a) && a.every((x) => typeof x === 'number'));
    if (!ok) throw new CheckpointError(file, "field 'config': metadata.history is not an object of number arrays");
  }
  return metadata as Record<string, unknown>;
}

/** JSON has no NaN or Infinity: our writer stores them as { $number: 'NaN' }. */
export function decodeNonFinite(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 1 && typeof (value as { $number?: unknown }).$number === 'string') {
    return Number((value as { $number: string }).$number);
  }
  return value;
}

function optimizerOf(value: PickleValue | undefined, file: string, allowNonFinite: boolean): NativeOptimizerState {
  if (!isDict(value)) throw new CheckpointError(file, "field 'optimizer' is not a dict");
  const at = (key: string) => `field 'optimizer.${key}'`;
  const name = value.name;
  if (name !== 'sgd' && name !== 'adam') throw new CheckpointError(file, `${at('name')} is unknown (expected 'sgd' or 'adam')`);
  const real = (key: string, ok: (v: number) => boolean, expected: string) => {
    const v = value[key];
    if (typeof v !== 'number' || !ok(v)) throw new CheckpointError(file, `${at(key)} is ${describe(v)}, expected ${expected}`);
    return v;
  };
  const positive = (v: number) => Number.isFinite(v) && v > 0;
  const unit = (v: number) => v >= 0 && v < 1;
  const learningRate = real('learning_rate', positive, 'a finite number > 0');
  const momentum = real('momentum', unit, 'a number in [0, 1)');
  const beta1 = real('beta1', unit, 'a number in [0, 1)');
  const beta2 = real('beta2', unit, 'a number in [0, 1)');
  const epsilon = real('epsilon', positive, 'a finite number > 0');
  const iterations = real('iterations', (v) => Number.isSafeInteger(v) && v >= 0, 'an integer >= 0');
  if (typeof value.nesterov !== 'boolean') throw new CheckpointError(file, `${at('nesterov')} is ${describe(value.nesterov)}, expected a bool`);
  const slots = value.slots;
  if (!Array.isArray(slots) || slots.length > 2 * MAX_ENTRIES) throw new CheckpointError(file, `${at('slots')} is not a list of tensors`);
  const vetted = slots.map((s, i): [Float32Array, number[]] => {
    const t = asTensor(s);
    if (t === undefined) throw new CheckpointError(file, `optimizer slot ${i} is not a tensor`);
    if (t.dtype !== 'float32') throw new CheckpointError(file, `optimizer slot ${i} is stored as ${t.dtype} (${storageName(t.dtype)}); expected float32`);
    if (!allowNonFinite) checkFinite(t, `optimizer slot ${i}`, file);
    return [t.data as Float32Array, t.shape];
  });
  for (const key of Object.keys(value)) {
    if (!['name', 'learning_rate', 'momentum', 'nesterov', 'beta1', 'beta2', 'epsilon', 'iterations', 'slots'].includes(key)) {
      throw new CheckpointError(file, `unknown field 'optimizer.${clip(key)}'`);
    }
  }
  return { name, learningRate, momentum, nesterov: value.nesterov, beta1, beta2, epsilon, iterations, slots: vetted };
}

function describe(v: PickleValue | undefined): string {
  if (v === undefined) return 'missing';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return `'${clip(v)}'`;
  return v === null ? 'None' : 'not a number';
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
