/**
 * Rebuilds numpy dtypes, ndarrays and scalars from the pieces numpy's pickles
 * are made of, checking every piece (types, shapes, byte counts) instead of
 * calling anything.
 */
import { halfToNumber, parseDescr, type ByteOrder } from './dtype.js';
import { typedFromBytes } from './layout.js';
import type { TorchState } from './pickle-torch.js';
import type { NdArray } from './ndarray.js';
import { NpArray, NpDType, PyBytes, PyDict, PyGlobal, PyList, PyTuple, typeName, type Val } from './pickle-objects.js';

/** How the numpy helpers report a refusal and account for allocations. */
export interface NumpyContext {
  fail(message: string): never;
  charge(bytes: number): void;
  /** Set only while reading a torch.save archive: enables pickle-torch.ts. */
  torch?: TorchState;
}

/** `numpy.dtype(code, align, copy)`: a dtype awaiting its BUILD state. */
export function newDType(args: readonly Val[], ctx: NumpyContext): NpDType {
  const code = args[0];
  if (args.length < 1 || args.length > 3 || typeof code !== 'string') ctx.fail(`numpy.dtype() expects (str, bool, bool), got ${args.length} arguments`);
  const parsed = parseDescr(code as string);
  if (parsed.kind === 'unsupported') return ctx.fail(parsed.reason);
  return new NpDType(code as string, parsed);
}

/** BUILD on a dtype: (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata]). */
export function buildDType(dt: NpDType, state: Val, ctx: NumpyContext): void {
  if (dt.built) ctx.fail('BUILD applied twice to the same numpy.dtype');
  if (!(state instanceof PyTuple) || (state.items.length !== 8 && state.items.length !== 9)) {
    ctx.fail(`numpy.dtype state must be a tuple of 8 or 9 items, got ${typeName(state)}`);
  }
  const s = (state as PyTuple).items;
  const [version, order, subarray, names, fields] = s;
  if (version !== 3 && version !== 4) ctx.fail(`unsupported numpy.dtype state version ${String(version)}`);
  if (order !== '<' && order !== '>' && order !== '|' && order !== '=') ctx.fail(`numpy.dtype byte order must be '<', '>', '|' or '=', got ${typeName(order!)}`);
  if (subarray !== null || names !== null || fields !== null) ctx.fail('structured or sub-array numpy dtypes are not supported');
  if (s.length === 9 && s[8] !== null && !(s[8] instanceof PyDict)) ctx.fail('numpy.dtype metadata must be a dict or None');
  const o = order as string;
  if (dt.parsed.kind === 'numeric') {
    const resolved = parseDescr(`${o}${dt.code}`);
    dt.order = resolved.kind === 'numeric' ? resolved.order : '|';
  } else {
    dt.order = '|';
  }
  dt.built = true;
}

/** `numpy.core.multiarray._reconstruct(numpy.ndarray, shape, typecode)`: an empty array awaiting BUILD. */
export function reconstruct(args: readonly Val[], ctx: NumpyContext): NpArray {
  const cls = args[0];
  if (args.length !== 3 || !(cls instanceof PyGlobal) || cls.name !== 'ndarray') {
    ctx.fail('_reconstruct() may only rebuild numpy.ndarray itself (no subclasses)');
  }
  return new NpArray();
}

/** BUILD on an ndarray: ([version,] shape, dtype, is_fortran, rawdata | list). */
export function buildArray(arr: NpArray, state: Val, ctx: NumpyContext): void {
  if (arr.value !== undefined) ctx.fail('BUILD applied twice to the same numpy.ndarray');
  if (!(state instanceof PyTuple) || (state.items.length !== 5 && state.items.length !== 4)) {
    return ctx.fail(`numpy.ndarray state must be a tuple of 4 or 5 items, got ${typeName(state)}`);
  }
  const s = state.items.length === 5 ? state.items.slice(1) : state.items;
  if (state.items.length === 5 && state.items[0] !== 1) ctx.fail(`unsupported numpy.ndarray state version ${String(state.items[0])}`);
  const [shapeVal, dt, fortran, raw] = s;
  const shape = readShape(shapeVal!, ctx);
  if (!(dt instanceof NpDType) || !dt.built) return ctx.fail(`numpy.ndarray state needs a built numpy.dtype, got ${typeName(dt!)}`);
  if (typeof fortran !== 'boolean' && fortran !== 0 && fortran !== 1) ctx.fail(`numpy.ndarray is_fortran flag must be a bool, got ${typeName(fortran!)}`);
  arr.value = makeArray(raw!, dt, shape, Boolean(fortran), ctx);
}

/** `numpy.core.numeric._frombuffer(buffer, dtype, shape, order)`: protocol 5's in-band arrays. */
export function fromBuffer(args: readonly Val[], ctx: NumpyContext): NpArray {
  const [buf, dt, shapeVal, order] = args;
  if (args.length !== 4) ctx.fail(`_frombuffer() expects 4 arguments, got ${args.length}`);
  if (!(dt instanceof NpDType) || !dt.built || dt.parsed.kind !== 'numeric') return ctx.fail('_frombuffer() needs a built numeric numpy.dtype');
  if (!(buf instanceof PyBytes)) return ctx.fail(`_frombuffer() needs a bytes-like buffer, got ${typeName(buf!)}`);
  if (order !== 'C' && order !== 'F') ctx.fail(`_frombuffer() order must be 'C' or 'F', got ${typeName(order!)}`);
  return new NpArray(makeArray(buf, dt, readShape(shapeVal!, ctx), order === 'F', ctx));
}

/** `numpy.core.multiarray.scalar(dtype, bytes)`: a numpy scalar as a JS number, bigint or boolean. */
export function scalar(args: readonly Val[], ctx: NumpyContext): Val {
  const [dt, raw] = args;
  if (args.length < 1 || args.length > 2 || !(dt instanceof NpDType) || !dt.built) return ctx.fail('scalar() needs a built numpy.dtype');
  if (dt.parsed.kind === 'object') {
    // numpy pickles object scalars as scalar(dtype('O'), obj); the object was already checked.
    return args.length === 2 ? raw! : null;
  }
  const info = dt.parsed.info;
  if (!(raw instanceof PyBytes) || raw.data.length !== info.itemsize) {
    const got = raw instanceof PyBytes ? `${raw.data.length} bytes` : args.length < 2 ? 'no bytes argument' : typeName(raw!);
    return ctx.fail(`numpy ${info.dtype} scalar needs exactly ${info.itemsize} bytes, got ${got}`);
  }
  const v = new DataView(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  const le = dt.order !== '>';
  switch (info.dtype) {
    case 'bool': return v.getUint8(0) !== 0;
    case 'int8': return v.getInt8(0);
    case 'uint8': return v.getUint8(0);
    case 'int16': return v.getInt16(0, le);
    case 'uint16': return v.getUint16(0, le);
    case 'int32': return v.getInt32(0, le);
    case 'uint32': return v.getUint32(0, le);
    case 'int64': return v.getBigInt64(0, le);
    case 'uint64': return v.getBigUint64(0, le);
    case 'float16': return halfToNumber(v.getUint16(0, le));
    case 'float32': return v.getFloat32(0, le);
    case 'float64': return v.getFloat64(0, le);
  }
}

function readShape(v: Val, ctx: NumpyContext): number[] {
  if (!(v instanceof PyTuple)) return ctx.fail(`numpy.ndarray shape must be a tuple, got ${typeName(v)}`);
  return v.items.map((d) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return ctx.fail(`numpy.ndarray shape must hold non-negative integers, got ${typeName(d)}`);
    return d;
  });
}

/** Element count of a shape, refusing counts whose byte size cannot exist. */
function countOf(shape: readonly number[], itemsize: number, ctx: NumpyContext): number {
  // numpy accepts (2**60, 0): no element, no byte.
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n * itemsize > Number.MAX_SAFE_INTEGER) ctx.fail(`numpy.ndarray shape (${shape.join(', ')}) is too large`);
  }
  return n;
}

function makeArray(raw: Val, dt: NpDType, shape: number[], fortran: boolean, ctx: NumpyContext): NdArray | { dtype: 'object'; shape: number[]; items: Val[] } {
  if (dt.parsed.kind === 'object') {
    const count = countOf(shape, 1, ctx);
    if (!(raw instanceof PyList) || raw.items.length !== count) {
      return ctx.fail(`object ndarray of shape (${shape.join(', ')}) needs a list of ${count} items, got ${raw instanceof PyList ? `${raw.items.length} items` : typeName(raw)}`);
    }
    ctx.charge(8 * count);
    // numpy pickles object elements in C (logical) order whatever the memory layout, so is_fortran changes nothing here.
    void fortran;
    return { dtype: 'object', shape, items: raw.items.slice() };
  }
  const info = dt.parsed.info;
  const count = countOf(shape, info.itemsize, ctx);
  if (!(raw instanceof PyBytes)) return ctx.fail(`numpy.ndarray data must be bytes, got ${typeName(raw)}`);
  const need = count * info.itemsize;
  if (raw.data.length !== need) {
    ctx.fail(`numpy.ndarray data has ${raw.data.length} bytes but shape (${shape.join(', ')}) of ${info.dtype} needs ${need}`);
  }
  const data = typedFromBytes(raw.data, info, dt.order as ByteOrder, shape, fortran, (n) => ctx.charge(n));
  return { dtype: info.dtype, shape, data };
}
