// Small torch.save-style archives for tests, from raw pickle pieces: a stored zip (what torch.save
// writes; here without data descriptors or zip64 records) and protocol-2 pickles of dicts and
// tensors, so that hostile and broken variants are one expression each. Built on the shared
// writers (zip-writer.js, pickle-writer.js, checkpoint-writer.js's tensor encoding).
import { crc32 } from 'node:zlib';

import { bytes } from './bytes.js';
import { encode, T } from './checkpoint-writer.js';
import { binint, glob, ints, OP, pickle, str } from './pickle-writer.js';
import { centralRecord, endRecord, localRecord } from './zip-writer.js';

/** A stored zip of [name, bytes] entries; `method` claims another compression, `corruptCrcOf` names an entry whose CRC-32 is off by one bit. */
export function storedZip(entries, { method = 0, corruptCrcOf } = {}) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const crc = corruptCrcOf === name ? { crc: (crc32(data) ^ 1) >>> 0 } : {};
    const local = localRecord(name, data, { header: { method, ...crc } });
    centrals.push(centralRecord(name, data, offset, { method, ...crc }));
    locals.push(local);
    offset += local.length;
  }
  const central = Buffer.concat(centrals);
  return Buffer.concat([...locals, central, endRecord({ count: entries.length, cdSize: central.length, cdOffset: offset })]);
}

/** Pickle opcodes as bytes, by name (single opcodes, and the one-value helpers of pickle-writer.js). */
export const op = {
  proto: bytes(OP.PROTO, 2),
  emptyDict: bytes(OP.EMPTY_DICT),
  emptyTuple: bytes(OP.EMPTY_TUPLE),
  mark: bytes(OP.MARK),
  tuple: bytes(OP.TUPLE),
  reduce: bytes(OP.REDUCE),
  build: bytes(OP.BUILD),
  setitems: bytes(OP.SETITEMS),
  setitem: bytes(OP.SETITEM),
  binpersid: bytes(OP.BINPERSID),
  newfalse: bytes(OP.NEWFALSE),
  stop: bytes(OP.STOP),
  str,
  int: binint,
  global: glob,
  ints,
};

/** `torch._utils._rebuild_tensor_v2(storage(key), offset, size, stride, False, OrderedDict())`, as torch.save writes it. */
export function tensorPickle({ key, storage = 'FloatStorage', numel, offset = 0, size, stride }) {
  return encode(T(size, undefined, { key, storage, numel, offset, stride, storageBytes: Buffer.alloc(0) }), new Map());
}

/** data.pkl of a dict {name: pickled value}. */
export function dictPickle(items) {
  return pickle(2, OP.EMPTY_DICT, OP.MARK, ...items.flatMap(([k, v]) => [str(k), v]), OP.SETITEMS);
}

/** A whole torch.save archive: archive/data.pkl, archive/data/<key> storages, archive/version. */
export function torchArchive(data, storages = {}, options = {}) {
  return storedZip([
    ['archive/data.pkl', data],
    ...Object.entries(storages).map(([key, array]) => [`archive/data/${key}`, Buffer.from(array.buffer, array.byteOffset, array.byteLength)]),
    ['archive/version', Buffer.from('3\n')],
  ], options);
}
