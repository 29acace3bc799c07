// Writes torch.save-style checkpoints from plain JS values, the way Python's torch.save lays them out
// (protocol 2 pickle, tensors over storages in <prefix>/data/<key>), so that tests can build valid files
// and change any one thing in them: a field, a dtype, a storage, a value, a raw opcode.
import { bytes as op } from './bytes.js';
import { binfloat, binint, glob as globalOp, long1, pickle as wholePickle, str as strOp } from './pickle-writer.js';
import { zipLayout } from './zip-writer.js';

/** A Python float (JS numbers that are integers would otherwise be written as ints). */
export class PyFloat { constructor(value) { this.value = value; } }
/** Bytes inserted into the pickle as they are. */
export class RawPickle { constructor(bytes) { this.bytes = Buffer.from(bytes); } }
/**
 * A tensor: `data` a typed array; `storage` the torch storage class name; `numel`, `offset`, `stride` and
 * `storageBytes` override what would be written, `extraArgs` adds raw pickle bytes as further arguments.
 */
export class Tensor {
  constructor(shape, data, options = {}) {
    this.shape = shape;
    this.data = data;
    Object.assign(this, options);
  }
}

export const F = (v) => new PyFloat(v);
export const T = (shape, data, options) => new Tensor(shape, data, options);

const STORAGE_OF = { Float32Array: 'FloatStorage', BigInt64Array: 'LongStorage', Float64Array: 'DoubleStorage', Int32Array: 'IntStorage', Uint8Array: 'ByteStorage' };

// Ints as torch.save writes them: BININT within 32 bits, LONG1 (9 bytes) beyond.
const intOp = (v) => (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 ? binint(v) : long1(v, 9));
const floatOp = binfloat;

/** Pickles `value` (protocol 2); tensors' bytes are added to `storages` under fresh keys. */
export function encode(value, storages) {
  if (value instanceof RawPickle) return value.bytes;
  if (value === null) return op(0x4e);
  if (value === true) return op(0x88);
  if (value === false) return op(0x89);
  if (value instanceof PyFloat) return floatOp(value.value);
  if (typeof value === 'number' || typeof value === 'bigint') return Number.isInteger(Number(value)) ? intOp(value) : floatOp(value);
  if (typeof value === 'string') return strOp(value);
  if (value instanceof Tensor) return tensorOp(value, storages);
  if (Array.isArray(value)) {
    if (value.length === 0) return op(0x5d);
    return Buffer.concat([op(0x5d, 0x28), ...value.map((v) => encode(v, storages)), op(0x65)]);
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return op(0x7d);
  return Buffer.concat([op(0x7d, 0x28), ...entries.flatMap(([k, v]) => [strOp(k), encode(v, storages)]), op(0x75)]);
}

function tensorOp(t, storages) {
  const key = t.key ?? String(storages.size);
  const bytes = t.storageBytes ?? Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (!storages.has(key)) storages.set(key, bytes);
  const numel = t.numel ?? t.data.length;
  const stride = t.stride ?? t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const ints = (list) => Buffer.concat([op(0x28), ...list.map(intOp), op(0x74)]);
  return Buffer.concat([
    globalOp('torch._utils', '_rebuild_tensor_v2'), op(0x28),
    op(0x28), strOp('storage'), globalOp('torch', t.storage ?? STORAGE_OF[t.data.constructor.name]), strOp(key), strOp('cpu'), intOp(numel), op(0x74),
    op(0x51),
    intOp(t.offset ?? 0), ints(t.shape), ints(stride), op(0x89), globalOp('collections', 'OrderedDict'), op(0x29, 0x52),
    t.extraArgs ?? Buffer.alloc(0),
    op(0x74, 0x52),
  ]);
}

/** data.pkl of `value` and the storages it refers to. */
export function picklePayload(value) {
  const storages = new Map();
  const body = encode(value, storages);
  return { pickle: wholePickle(2, body), storages };
}

/** A whole torch.save archive of `value` (entries: <prefix>/data.pkl, <prefix>/data/<key>, <prefix>/version). */
export function archiveOf(value, { prefix = 'archive', pickle: override } = {}) {
  const { pickle, storages } = picklePayload(value);
  return zipLayout(archiveEntries(override ?? pickle, storages, prefix)).bytes;
}

/** The entries of an archive, in libtorch's order (storages, then data.pkl, then version). */
export function archiveEntries(pickle, storages, prefix = 'archive') {
  return [
    ...[...storages].map(([key, bytes]) => [`${prefix}/data/${key}`, bytes]),
    [`${prefix}/data.pkl`, pickle],
    [`${prefix}/version`, Buffer.from('3\n')],
  ];
}

// --- the notebook's CNN (28x28, 1 channel, 5 classes), as the native model names and shapes it --------

const CNN_PARAMETERS = [
  ['conv1.weight', [32, 1, 3, 3]], ['conv1.bias', [32]], ['bn1.weight', [32]], ['bn1.bias', [32]], ['bn2.weight', [32]],
  ['bn2.bias', [32]], ['conv2.weight', [64, 32, 3, 3]], ['conv2.bias', [64]], ['bn3.weight', [64]], ['bn3.bias', [64]],
  ['bn4.weight', [64]], ['bn4.bias', [64]], ['bn5.weight', [1600]], ['bn5.bias', [1600]], ['fc.weight', [5, 1600]], ['fc.bias', [5]],
];
const BN = { bn1: 32, bn2: 32, bn3: 64, bn4: 64, bn5: 1600 };

/** Parameter names and shapes of the CNN, in the order the optimizer's slots follow. */
export const cnnParameters = CNN_PARAMETERS;

function filled(n, seed, scale, shift = 0) {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return shift + scale * (s / 2 ** 32 - 0.5);
  });
}
const count = (shape) => shape.reduce((a, b) => a * b, 1);

/** A CNN state_dict of small deterministic weights: { name: Tensor }. */
export function cnnState(seed = 1) {
  const state = {};
  CNN_PARAMETERS.forEach(([name, shape], i) => { state[name] = T(shape, filled(count(shape), seed + i, 0.2, name.includes('bn') && name.endsWith('weight') ? 1 : 0)); });
  for (const [bn, n] of Object.entries(BN)) {
    state[`${bn}.running_mean`] = T([n], filled(n, seed + n, 0.1));
    state[`${bn}.running_var`] = T([n], filled(n, seed + n + 1, 0.2, 1));
    state[`${bn}.num_batches_tracked`] = T([], BigInt64Array.of(3n));
  }
  return state;
}

/** Adam slots for the CNN (m for every parameter, then v), small and finite. */
export function cnnAdamSlots(seed = 7) {
  const m = CNN_PARAMETERS.map(([, shape], i) => T(shape, filled(count(shape), seed + i, 0.01)));
  const v = CNN_PARAMETERS.map(([, shape], i) => T(shape, filled(count(shape), seed + 100 + i, 0.001, 0.001)));
  return [...m, ...v];
}

/** torchfit's checkpoint dict for the CNN, with `overrides` replacing top-level fields (undefined removes one). */
export function cnnCheckpoint(overrides = {}) {
  const value = {
    format: 'torchfit-model',
    version: 1,
    config: JSON.stringify({ config: { kind: 'cnn' }, metadata: { writtenBy: 'test/support/checkpoint-writer.js' } }),
    model: { kind: 'cnn', depth: 0, num_classes: 5, channels: 1, height: 28, width: 28 },
    state_dict: cnnState(),
    optimizer: {
      name: 'adam', learning_rate: F(0.001), momentum: F(0), nesterov: false, beta1: F(0.9), beta2: F(0.999), epsilon: F(1e-7),
      iterations: 12, slots: cnnAdamSlots(),
    },
  };
  for (const [key, v] of Object.entries(overrides)) {
    if (v === undefined) delete value[key];
    else value[key] = v;
  }
  return value;
}
