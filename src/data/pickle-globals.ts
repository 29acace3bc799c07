/**
 * The unpickler's allow-list: the only globals a pickle may name, and what
 * REDUCE and BUILD do with them. Every handler is our own code; nothing named
 * by the file is looked up or run.
 */
import { buildArray, buildDType, fromBuffer, newDType, reconstruct, scalar, type NumpyContext } from './pickle-numpy.js';
import { callTorchGlobal, buildTorchDict } from './pickle-torch.js';
import { NpArray, NpDType, PyBytes, PyDict, PyList, PySet, typeName, type GlobalName, type Hashable, type Val } from './pickle-objects.js';

const ALLOWED = new Map<string, GlobalName>([
  ['numpy.core.multiarray._reconstruct', 'reconstruct'],
  ['numpy._core.multiarray._reconstruct', 'reconstruct'],
  ['numpy.ndarray', 'ndarray'],
  ['numpy.dtype', 'dtype'],
  ['numpy.core.multiarray.scalar', 'scalar'],
  ['numpy._core.multiarray.scalar', 'scalar'],
  // Protocol 5 pickles of arrays (pickle.dumps(a, protocol=5)) use _frombuffer.
  ['numpy.core.numeric._frombuffer', 'frombuffer'],
  ['numpy._core.numeric._frombuffer', 'frombuffer'],
  // Protocol 2 writes bytes as _codecs.encode(latin1_str, 'latin1').
  ['_codecs.encode', 'encode'],
  ['codecs.encode', 'encode'],
  // Protocol 2 has no opcodes for these, so it names the builtin types.
  ['builtins.bytes', 'bytes'], ['__builtin__.bytes', 'bytes'],
  ['builtins.bytearray', 'bytearray'], ['__builtin__.bytearray', 'bytearray'],
  ['builtins.set', 'set'], ['__builtin__.set', 'set'],
  ['builtins.frozenset', 'frozenset'], ['__builtin__.frozenset', 'frozenset'],
]);

/**
 * The canonical name of an allow-listed global, or undefined when refused.
 *
 * @example
 * allowedGlobal('numpy', 'dtype'); // 'dtype'
 * allowedGlobal('os', 'system');   // undefined
 */
export function allowedGlobal(module: string, name: string): GlobalName | undefined {
  return ALLOWED.get(`${module}.${name}`);
}

/** REDUCE: call an allow-listed global with checked arguments. */
export function callGlobal(fn: GlobalName, qualified: string, args: readonly Val[], ctx: NumpyContext): Val {
  switch (fn) {
    case 'reconstruct': return reconstruct(args, ctx);
    case 'dtype': return newDType(args, ctx);
    case 'scalar': return scalar(args, ctx);
    case 'frombuffer': return fromBuffer(args, ctx);
    case 'encode': return encodeLatin1(args, ctx);
    case 'bytes':
      if (args.length !== 0) ctx.fail('bytes() is only accepted without arguments (protocol 2 empty bytes)');
      return new PyBytes(new Uint8Array(0));
    case 'bytearray':
      if (args.length === 0) return new PyBytes(new Uint8Array(0));
      if (args.length === 1 && args[0] instanceof PyBytes) return args[0];
      return encodeLatin1(args, ctx);
    case 'set':
    case 'frozenset': {
      if (args.length === 0) return new PySet(new Set(), fn === 'frozenset');
      const list = args[0];
      if (args.length !== 1 || !(list instanceof PyList)) return ctx.fail(`${fn}() expects one list argument`);
      ctx.charge(8 * list.items.length);
      return new PySet(new Set(list.items.map((x) => hashable(x, ctx))), fn === 'frozenset');
    }
    case 'ndarray':
      return ctx.fail(`${qualified} may not be called directly`);
    default:
      // Torch names are only ever allow-listed while reading a torch.save archive.
      return callTorchGlobal(fn, qualified, args, ctx);
  }
}

/** BUILD: only dtypes and ndarrays accept a state. */
export function buildObject(obj: Val, state: Val, ctx: NumpyContext): void {
  if (obj instanceof NpDType) return buildDType(obj, state, ctx);
  if (obj instanceof NpArray) return buildArray(obj, state, ctx);
  if (obj instanceof PyDict && ctx.torch) return buildTorchDict(state, ctx);
  ctx.fail(`BUILD on ${typeName(obj)} is refused (only numpy.dtype and numpy.ndarray state is accepted)`);
}

/** A set member: Python requires hashable values; we accept scalars and strings. */
export function hashable(v: Val, ctx: NumpyContext): Hashable {
  if (v === null || typeof v !== 'object') return v;
  return ctx.fail(`set members must be None, bool, int, float or str here, got ${typeName(v)}`);
}

function encodeLatin1(args: readonly Val[], ctx: NumpyContext): PyBytes {
  const [text, encoding] = args;
  if (args.length !== 2 || typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
    return ctx.fail("encode() is only accepted as encode(str, 'latin1')");
  }
  ctx.charge(text.length);
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) ctx.fail('encode(str, \'latin1\') got a character above U+00FF');
  }
  const b = Buffer.from(text, 'latin1');
  return new PyBytes(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}
