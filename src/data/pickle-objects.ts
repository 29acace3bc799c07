/**
 * The values the restricted unpickler works with while it runs. They are kept
 * apart from the values it returns so that nothing half-built (an ndarray
 * awaiting BUILD, a dtype, a callable) can leak out, and so that every opcode
 * can check exactly what it operates on.
 */
import type { ByteOrder, ParsedDescr } from './dtype.js';
import type { DType, NdArray, ObjectArray, TypedArray } from './ndarray.js';

/** What the unpickler returns: plain JS values, typed arrays and NdArrays. */
export type PickleValue =
  | null | boolean | number | bigint | string
  | Uint8Array | NdArray | ObjectArray
  | PickleValue[] | Set<PickleValue> | PickleDict;

/** A Python dict with string keys, returned as a plain object. */
export interface PickleDict { [key: string]: PickleValue }

/** A Python list (mutable while unpickling: APPEND/APPENDS). */
export class PyList { constructor(readonly items: Val[] = []) {} }
/** A Python tuple. */
export class PyTuple { constructor(readonly items: readonly Val[]) {} }
/** A Python dict; only string keys are accepted. */
export class PyDict { readonly map = new Map<string, Val>(); }
/** A Python set or frozenset of hashable scalars. */
export class PySet { constructor(readonly items: Set<Hashable>, readonly frozen: boolean) {} }
/** bytes, bytearray or a Python 2 str; `data` views the pickle's own buffer. */
export class PyBytes { constructor(readonly data: Uint8Array) {} }
/** An allow-listed callable or class, by its canonical name. */
export class PyGlobal { constructor(readonly name: GlobalName, readonly qualified: string) {} }

/** A numpy.dtype being reconstructed: created by REDUCE, completed by BUILD. */
export class NpDType {
  order: ByteOrder | undefined;
  built = false;
  constructor(readonly code: string, readonly parsed: Exclude<ParsedDescr, { kind: 'unsupported' }>) {}
}

/** A numpy.ndarray being reconstructed, or a finished one (`value` set). */
export class NpArray {
  value: NdArray | ObjectArrayPending | undefined;
  constructor(value?: NdArray | ObjectArrayPending) { this.value = value; }
}

/** A torch storage fetched by BINPERSID (torch.save archives only): a flat typed array of one dtype. */
export class TorchStorage {
  constructor(readonly key: string, readonly dtype: DType, readonly data: TypedArray) {}
}

/** An object array whose elements are still unpickler values. */
export interface ObjectArrayPending { dtype: 'object'; shape: number[]; items: Val[] }

/** Scalars allowed in sets (Python requires hashable members). */
export type Hashable = null | boolean | number | bigint | string;

/** The allow-listed globals, by canonical name. */
export type GlobalName =
  | 'reconstruct' | 'ndarray' | 'dtype' | 'scalar' | 'frombuffer' | 'encode'
  | 'bytes' | 'bytearray' | 'set' | 'frozenset'
  // torch.save archives only (pickle-torch.ts):
  | 'ordered_dict' | 'rebuild_tensor' | 'rebuild_parameter' | 'restore_type_tag' | 'build_list' | 'storage_type';

/** Anything on the unpickler's stack or in its memo. */
export type Val =
  | Hashable
  | PyList | PyTuple | PyDict | PySet | PyBytes | PyGlobal | NpDType | NpArray | TorchStorage;

/** A short Python-ish type name for error messages. */
export function typeName(v: Val): string {
  if (v === null) return 'None';
  switch (typeof v) {
    case 'boolean': return 'bool';
    case 'number': return 'int/float';
    case 'bigint': return 'int';
    case 'string': return 'str';
    default: break;
  }
  if (v instanceof PyList) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PySet) return v.frozen ? 'frozenset' : 'set';
  if (v instanceof PyBytes) return 'bytes';
  if (v instanceof PyGlobal) return `global ${v.qualified}`;
  if (v instanceof NpDType) return 'numpy.dtype';
  if (v instanceof TorchStorage) return 'torch storage';
  return 'numpy.ndarray';
}
