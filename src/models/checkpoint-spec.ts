/**
 * The load side of a layers model's checkpoint: its `model` dict holds
 * kind 'layers', the input size, the classes and `layers`, the JSON text of the
 * resolved description. That text is resolved again here (a file is untrusted
 * input like any option) into the spec the addon builds the model from.
 */
import { CheckpointError, TorchfitError } from '../errors.js';
import type { PickleValue } from '../data/pickle.js';
import type { NativeModelSpec } from '../torch/native.js';
import { nativeLayers } from './native-spec.js';
import { resolveLayers } from './resolve.js';

/** Longest description accepted from a file (a ResNet-110 description is about 60 kB). */
const MAX_JSON = 4 << 20;

/**
 * The native spec of a layers checkpoint's `model` dict. `storedValues` is the
 * number of values the state_dict's tensors hold: the description may not ask
 * for more parameters than that, so a small file cannot make the addon allocate
 * a large model before the weights are compared.
 *
 * @example
 * const spec = layersSpecOfCheckpoint(checkpoint.model, 62_889, 'resnet.pt');
 */
export function layersSpecOfCheckpoint(model: Record<string, PickleValue>, storedValues: number, path: string): NativeModelSpec {
  const int = (key: string, lo: number, hi: number): number => {
    const v = model[key];
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < lo || n > hi) {
      throw new CheckpointError(path, `field 'model.${key}' is missing or not an integer from ${lo} to ${hi}`);
    }
    return n;
  };
  const numClasses = int('num_classes', 2, 100_000);
  const channels = int('channels', 1, 64);
  const height = int('height', 1, 4096);
  const width = int('width', 1, 4096);
  const text = model.layers;
  if (typeof text !== 'string' || text.length > MAX_JSON) throw new CheckpointError(path, `field 'model.layers' is not a layer description (JSON text of at most ${MAX_JSON} characters)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CheckpointError(path, "field 'model.layers' is not valid JSON");
  }
  let resolved;
  try {
    resolved = resolveLayers(parsed, [channels, height, width], numClasses, 'layers');
  } catch (error) {
    if (error instanceof TorchfitError) throw new CheckpointError(path, `field 'model.layers' is not a valid description: ${error.message}`);
    throw error;
  }
  if (resolved.totalParams > storedValues) {
    throw new CheckpointError(path, `field 'model.layers' describes ${resolved.totalParams} parameters, more than the state_dict holds`);
  }
  return { kind: 'layers', depth: 0, numClasses, channels, height, width, layers: nativeLayers(resolved.nodes), layersJson: text };
}
