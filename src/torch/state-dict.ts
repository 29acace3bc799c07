/**
 * A plain PyTorch state_dict (what `torch.save(model.state_dict(), path)` writes
 * from the Python reference port) turned into what the addon needs: the
 * architecture it implies and its tensors. Names follow our modules, which are
 * the Python port's.
 */
import { CheckpointError } from '../errors.js';
import { isNdArray, type NdArray } from '../data/ndarray.js';
import type { PickleValue } from '../data/pickle.js';
import type { NativeModelSpec } from './native.js';

/** One entry as the addon takes it: name, data (float32, or int64 for counters), shape. */
export type NamedArray = [string, Float32Array | BigInt64Array, number[]];

export interface PlainStateDict {
  spec: NativeModelSpec;
  entries: NamedArray[];
}

const MAX_ENTRIES = 10_000;

/**
 * Reads the architecture from the keys and shapes: `conv1.weight` means the
 * notebook's CNN, `stem.conv.weight` a ResNet v1 whose depth is 2 + 2 x the
 * number of residual blocks (`stacks.N`). The image size cannot be told from
 * the weights alone: `imageSize` (default 28x28) is checked later against the
 * dense layer's input width.
 *
 * @example
 * const { spec } = plainStateDict(readTorchArchive(bytes, path), path, [28, 28]);
 * spec.kind; // 'cnn'
 */
export function plainStateDict(content: PickleValue, file: string, imageSize: [number, number]): PlainStateDict {
  const dict = unwrap(content);
  if (dict === undefined) {
    throw new CheckpointError(file, 'expected a state_dict (a dict of tensors) or torchfit\'s checkpoint dict at the top level');
  }
  const names = Object.keys(dict);
  if (names.length === 0 || names.length > MAX_ENTRIES) throw new CheckpointError(file, `state_dict has ${names.length} entries`);
  const tensors = new Map<string, NdArray>();
  for (const name of names) {
    const value = dict[name];
    if (!isNdArray(value)) throw new CheckpointError(file, `state_dict entry '${name}' is not a tensor`);
    tensors.set(name, value);
  }
  const shapeOf = (name: string) => tensors.get(name)?.shape;
  const fc = shapeOf('fc.weight');
  const first = shapeOf('conv1.weight') ?? shapeOf('stem.conv.weight');
  if (fc === undefined || fc.length !== 2 || first === undefined || first.length !== 4) {
    throw new CheckpointError(file, "not a state_dict of the notebook's CNN or a ResNet v1: expected 'fc.weight' and 'conv1.weight' (CNN) or 'stem.conv.weight' (ResNet)");
  }
  const kind = tensors.has('conv1.weight') ? 'cnn' : 'resnet';
  let depth = 0;
  if (kind === 'resnet') {
    const blocks = new Set<string>();
    for (const name of names) {
      const m = /^stacks\.(\d+)\./.exec(name);
      if (m) blocks.add(m[1]!);
    }
    depth = 2 + 2 * blocks.size;
  }
  const spec: NativeModelSpec = { kind, depth, numClasses: fc[0]!, channels: first[1]!, height: imageSize[0], width: imageSize[1] };
  const entries: NamedArray[] = [...tensors].map(([name, t]) => [name, toNative(t, name, file), t.shape]);
  return { spec, entries };
}

/** torchfit's own checkpoint dict, or one claiming some format (the native reader then names what is wrong). */
export function isTorchfitCheckpoint(content: PickleValue): boolean {
  return isDict(content) && 'format' in content;
}

// A bare state_dict, or one under a key that training scripts commonly use.
function unwrap(content: PickleValue): Record<string, PickleValue> | undefined {
  if (!isDict(content)) return undefined;
  for (const key of ['state_dict', 'model_state_dict', 'model']) {
    const inner = content[key];
    if (isDict(inner) && Object.values(inner).some(isNdArray)) return inner;
  }
  return content;
}

function isDict(v: PickleValue | undefined): v is Record<string, PickleValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Set) && !ArrayBuffer.isView(v) && !isNdArray(v) &&
    (v as { dtype?: unknown }).dtype !== 'object';
}

function toNative(t: NdArray, name: string, file: string): Float32Array | BigInt64Array {
  switch (t.dtype) {
    case 'float32': return t.data as Float32Array;
    case 'float64': return Float32Array.from(t.data as Float64Array);
    case 'int64': return t.data as BigInt64Array;
    case 'int32': case 'int16': case 'int8': case 'uint8':
      return BigInt64Array.from(t.data as Int32Array, (v) => BigInt(v));
    default:
      throw new CheckpointError(file, `state_dict entry '${name}' has dtype ${t.dtype}; float32, float64 or integers are supported`);
  }
}
