/**
 * The state_dict part of a checkpoint: which values are acceptable tensors
 * (float32, int64 only for BatchNorm's num_batches_tracked, finite unless the
 * caller allows otherwise), and the forms the spec check and the addon take.
 */
import { CheckpointError } from '../errors.js';
import type { NdArray } from '../data/ndarray.js';
import type { PickleValue } from '../data/pickle.js';
import type { ShapeTable } from './checkpoint-spec.js';
import { asTensor, storageName } from './checkpoint-values.js';
import type { NativeStateEntry } from './native.js';

/** Most entries in a state_dict (and half the most optimizer slots). */
export const MAX_ENTRIES = 10_000;
const MAX_NAME = 256;

/**
 * The tensors of a state_dict, each float32 (or int64 for BatchNorm's
 * num_batches_tracked counters) and finite unless allowed otherwise.
 *
 * @example
 * const tensors = vetState(dict, 'm.pt', false, (n) => `state_dict entry '${n}' is not a tensor`);
 */
export function vetState(dict: Record<string, PickleValue>, file: string, allowNonFinite: boolean,
  notTensor: (name: string) => string): Map<string, NdArray> {
  const names = Object.keys(dict);
  if (names.length === 0 || names.length > MAX_ENTRIES) throw new CheckpointError(file, `state_dict has ${names.length} entries (1 to ${MAX_ENTRIES} accepted)`);
  const out = new Map<string, NdArray>();
  for (const name of names) {
    if (name.length === 0 || name.length > MAX_NAME) throw new CheckpointError(file, `state_dict has an entry name of ${name.length} characters`);
    const t = asTensor(dict[name]);
    if (t === undefined) throw new CheckpointError(file, notTensor(clip(name)));
    const wanted = name.endsWith('.num_batches_tracked') ? 'int64' : 'float32';
    if (t.dtype !== wanted) {
      throw new CheckpointError(file, `state_dict entry '${clip(name)}' is stored as ${t.dtype} (${storageName(t.dtype)}); the model expects ${wanted}`);
    }
    if (!allowNonFinite) checkFinite(t, `state_dict entry '${clip(name)}'`, file);
    out.set(name, t);
  }
  return out;
}

/** Name -> shape of vetted tensors. */
export function shapeTable(tensors: Map<string, NdArray>): ShapeTable {
  return new Map([...tensors].map(([name, t]) => [name, t.shape]));
}

/** Vetted tensors as the addon takes them. */
export function toEntries(tensors: Map<string, NdArray>): NativeStateEntry[] {
  return [...tensors].map(([name, t]) => [name, t.data as Float32Array | BigInt64Array, t.shape]);
}

/** Refuses NaN and infinite values of a float32 tensor, naming it and the first bad index. */
export function checkFinite(t: NdArray, what: string, file: string): void {
  if (t.dtype !== 'float32') return;
  const data = t.data as Float32Array;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // v - v is 0 for finite v, NaN for NaN and +-Infinity: one comparison per element.
    if (v - v !== 0) {
      throw new CheckpointError(file, `${what} holds a non-finite value (${v} at flat index ${i}); pass { allowNonFinite: true } to load it anyway`);
    }
  }
}


function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
