/**
 * The extra allow-list for the data.pkl inside a torch.save archive: tensors
 * (_rebuild_tensor_v2 over storages fetched by BINPERSID), OrderedDict, and the
 * TorchScript tags libtorch's own writer adds. Like the numpy helpers, every
 * handler checks its arguments and builds plain values; nothing named by the
 * file is imported or called. Only enabled when the caller passes a
 * {@link TorchStorageSource} (Model.load does; loadNpy never does).
 */
import type { DType, TypedArray } from './ndarray.js';
import { DTYPES } from './dtype.js';
import type { NumpyContext } from './pickle-numpy.js';
import { NpArray, PyDict, PyGlobal, PyList, PyTuple, TorchStorage, typeName, type GlobalName, type Val } from './pickle-objects.js';
import { parseTypeTag } from './torch-type-tag.js';

/** Hands the unpickler the bytes of one storage of the archive (data/<key>). */
export interface TorchStorageSource {
  /** The raw little-endian bytes of storage `key`, or undefined when the archive has no such entry. */
  bytes(key: string): Uint8Array | undefined;
  /** The size of all storages together (tensors may legitimately be that large). */
  totalBytes: number;
}

/** What the unpickler keeps while it reads a torch.save archive. */
export interface TorchState {
  source: TorchStorageSource;
  storages: Map<string, TorchStorage>;
}

const STORAGE_DTYPES = new Map<string, DType>([
  ['FloatStorage', 'float32'], ['DoubleStorage', 'float64'], ['HalfStorage', 'float16'],
  ['LongStorage', 'int64'], ['IntStorage', 'int32'], ['ShortStorage', 'int16'], ['CharStorage', 'int8'],
  ['ByteStorage', 'uint8'], ['BoolStorage', 'bool'],
]);

const TORCH_GLOBALS = new Map<string, GlobalName>([
  ['collections.OrderedDict', 'ordered_dict'],
  ['torch._utils._rebuild_tensor_v2', 'rebuild_tensor'],
  ['torch._utils._rebuild_parameter', 'rebuild_parameter'],
  // libtorch's C++ pickler (torch::pickle_save) tags containers with their TorchScript types.
  ['torch.jit._pickle.restore_type_tag', 'restore_type_tag'],
  ['torch.jit._pickle.build_tensorlist', 'build_list'],
  ['torch.jit._pickle.build_intlist', 'build_list'],
  ['torch.jit._pickle.build_doublelist', 'build_list'],
  ['torch.jit._pickle.build_boollist', 'build_list'],
  ...[...STORAGE_DTYPES.keys()].map((name): [string, GlobalName] => [`torch.${name}`, 'storage_type']),
]);

/**
 * The canonical name of a torch global, or undefined when refused.
 *
 * @example
 * allowedTorchGlobal('torch._utils', '_rebuild_tensor_v2'); // 'rebuild_tensor'
 * allowedTorchGlobal('torch', 'load');                      // undefined
 */
export function allowedTorchGlobal(module: string, name: string): GlobalName | undefined {
  return TORCH_GLOBALS.get(`${module}.${name}`);
}

/** REDUCE on a torch global. */
export function callTorchGlobal(fn: GlobalName, qualified: string, args: readonly Val[], ctx: NumpyContext): Val {
  switch (fn) {
    case 'ordered_dict':
      // Python pickles an OrderedDict as OrderedDict() followed by SETITEMS.
      if (args.length !== 0) ctx.fail('OrderedDict() is only accepted without arguments');
      return new PyDict();
    case 'rebuild_tensor': return rebuildTensor(args, ctx);
    case 'rebuild_parameter': {
      // (data, requires_grad, backward_hooks): a Parameter is its data here.
      if (args.length !== 3 || !(args[0] instanceof NpArray) || typeof args[1] !== 'boolean' || !isEmptyDict(args[2])) {
        ctx.fail('_rebuild_parameter() expects (tensor, bool, OrderedDict())');
      }
      return args[0]!;
    }
    case 'restore_type_tag': {
      const [value, text] = args;
      if (args.length !== 2 || typeof text !== 'string') return ctx.fail('restore_type_tag() expects (value, str)');
      const tag = parseTypeTag(text);
      if (typeof tag === 'string') return ctx.fail(`restore_type_tag(): ${tag}`);
      const fits = tag.name === 'Dict' ? value instanceof PyDict : tag.name === 'List' ? value instanceof PyList : false;
      if (!fits) ctx.fail(`restore_type_tag(): a ${typeName(value!)} tagged '${text}' (only dicts and lists carry tags)`);
      return value!;
    }
    case 'build_list':
      if (args.length !== 1 || !(args[0] instanceof PyList)) ctx.fail(`${qualified}() expects one list`);
      return args[0]!;
    default:
      return ctx.fail(`${qualified} may not be called`);
  }
}

/** BUILD on an OrderedDict: state_dict() carries a `_metadata` attribute (module versions), which we drop. */
export function buildTorchDict(state: Val, ctx: NumpyContext): void {
  if (!(state instanceof PyDict) || [...state.map.keys()].some((k) => k !== '_metadata')) {
    ctx.fail(`BUILD on a dict only accepts {'_metadata': ...} (a state_dict's attribute), got ${typeName(state)}`);
  }
}

/**
 * BINPERSID: ('storage', <torch.XStorage>, key, location, numel). The bytes come from the archive's data/<key>;
 * the same key may be loaded again through the memo, so storages are cached by key.
 */
export function persistentLoad(pid: Val, torch: TorchState, ctx: NumpyContext): TorchStorage {
  const cache = torch.storages;
  if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
    return ctx.fail(`persistent id must be ('storage', type, key, location, numel), got ${pid instanceof PyTuple ? `a tuple of ${pid.items.length}` : typeName(pid)}`);
  }
  const [, type, key, location, numel] = pid.items;
  if (!(type instanceof PyGlobal) || type.name !== 'storage_type') return ctx.fail('persistent id names no torch storage type');
  if (typeof key !== 'string' || !/^[0-9A-Za-z_]{1,64}$/.test(key)) return ctx.fail('persistent id has a malformed storage key');
  if (typeof location !== 'string' || !/^(cpu|cuda(:[0-9]{1,3})?)$/.test(location)) return ctx.fail('persistent id has no valid device location');
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) return ctx.fail('persistent id has a bad element count');
  const dtype = STORAGE_DTYPES.get(type.qualified.slice('torch.'.length))!;
  const cached = cache.get(key);
  if (cached) {
    if (cached.dtype !== dtype || cached.data.length !== numel) ctx.fail(`storage '${key}' is used with two different types or sizes`);
    return cached;
  }
  const bytes = torch.source.bytes(key);
  if (bytes === undefined) return ctx.fail(`storage '${key}' is missing from the archive (data/${key})`);
  const info = DTYPES[dtype];
  if (bytes.length !== numel * info.itemsize) {
    ctx.fail(`storage '${key}' holds ${bytes.length} bytes, ${numel} ${dtype} elements need ${numel * info.itemsize}`);
  }
  ctx.charge(bytes.length);
  // Copy: the archive's data need not be aligned for the typed array.
  const data = new info.ctor(numel);
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(bytes);
  if (!littleEndianHost) swapInPlace(data, info.itemsize);
  const storage = new TorchStorage(key, dtype, data);
  cache.set(key, storage);
  return storage;
}

/** (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) -> a C-order array. */
function rebuildTensor(args: readonly Val[], ctx: NumpyContext): NpArray {
  const [storage, offset, size, stride, requiresGrad, hooks, metadata] = args;
  if (args.length < 6 || args.length > 7 || !(storage instanceof TorchStorage)) {
    return ctx.fail('_rebuild_tensor_v2() expects (storage, offset, size, stride, requires_grad, hooks)');
  }
  // Every argument is checked, the ones we do not use too: none may smuggle in other objects.
  if (typeof requiresGrad !== 'boolean') ctx.fail(`_rebuild_tensor_v2(): requires_grad is ${typeName(requiresGrad!)}, expected a bool`);
  if (!isEmptyDict(hooks)) ctx.fail('_rebuild_tensor_v2(): backward hooks must be an empty OrderedDict()');
  if (args.length === 7 && metadata !== null && !isEmptyDict(metadata)) ctx.fail('_rebuild_tensor_v2(): tensor metadata must be None or empty');
  const shape = intTuple(size, 'size', ctx);
  const strides = intTuple(stride, 'stride', ctx);
  if (shape.length !== strides.length) ctx.fail(`tensor size has ${shape.length} dims but stride has ${strides.length}`);
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return ctx.fail('tensor storage offset is not a non-negative int');
  let count = 1;
  let last = offset;
  for (let d = 0; d < shape.length; d++) {
    count *= shape[d]!;
    if (shape[d]! > 0) last += (shape[d]! - 1) * strides[d]!;
  }
  if (!Number.isSafeInteger(count)) ctx.fail('tensor size overflows');
  if (count > 0 && last >= storage.data.length) {
    ctx.fail(`tensor [${shape.join(', ')}] at offset ${offset} with stride [${strides.join(', ')}] reads past its storage of ${storage.data.length} elements`);
  }
  // The usual state_dict tensor is its whole storage in C order: it shares the storage's array (already
  // our own copy) instead of being copied again.
  if (offset === 0 && count === storage.data.length && isCOrder(shape, strides)) return new NpArray({ dtype: storage.dtype, shape, data: storage.data });
  ctx.charge(count * DTYPES[storage.dtype].itemsize);
  const out = new DTYPES[storage.dtype].ctor(count);
  copyStrided(storage.data, offset, shape, strides, out);
  return new NpArray({ dtype: storage.dtype, shape, data: out });
}

function isEmptyDict(v: Val | undefined): boolean {
  return v instanceof PyDict && v.map.size === 0;
}

function intTuple(v: Val, what: string, ctx: NumpyContext): number[] {
  if (!(v instanceof PyTuple) || v.items.length > 32) return ctx.fail(`tensor ${what} must be a tuple of at most 32 ints`);
  return v.items.map((x) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) return ctx.fail(`tensor ${what} holds ${typeName(x)} ${String(x)}, expected a non-negative int`);
    return x;
  });
}

// Gathers a strided view into C order (the tensors of a state_dict are nearly always contiguous already).
function copyStrided(src: TypedArray, offset: number, shape: number[], strides: number[], out: TypedArray): void {
  const n = out.length;
  if (n === 0) return;
  if (isCOrder(shape, strides)) {
    (out as unknown as { set(a: ArrayLike<number | bigint>): void }).set(src.subarray(offset, offset + n) as ArrayLike<number | bigint>);
    return;
  }
  const index = new Array<number>(shape.length).fill(0);
  let at = offset;
  const dst = out as unknown as { [i: number]: number | bigint };
  const from = src as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < n; i++) {
    dst[i] = from[at]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]!++;
      at += strides[d]!;
      if (index[d]! < shape[d]!) break;
      at -= index[d]! * strides[d]!;
      index[d] = 0;
    }
  }
}

// The usual layout of state_dict tensors: one block copy instead of an index walk.
function isCOrder(shape: number[], strides: number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d]! !== 1 && strides[d]! !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapInPlace(data: TypedArray, size: number): void {
  const b = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}
