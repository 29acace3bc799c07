// Builds torch.save-style archives by hand for tests: a stored zip (what torch.save writes) and
// protocol-2 pickles assembled opcode by opcode, so hostile and broken variants are easy to make.
import { crc32 } from 'node:zlib';

/** A stored (uncompressed) zip of [name, bytes] entries, with local headers, central directory and EOCD. */
export function storedZip(entries, { method = 0, corruptCrcOf } = {}) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data) ^ (name === corruptCrcOf ? 1 : 0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, Buffer.from(data));
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/** Pickle opcodes as bytes. */
export const op = {
  proto: Buffer.from([0x80, 2]),
  emptyDict: Buffer.from('}'),
  emptyTuple: Buffer.from(')'),
  mark: Buffer.from('('),
  tuple: Buffer.from('t'),
  reduce: Buffer.from('R'),
  build: Buffer.from('b'),
  setitems: Buffer.from('u'),
  setitem: Buffer.from('s'),
  binpersid: Buffer.from('Q'),
  newfalse: Buffer.from([0x89]),
  stop: Buffer.from('.'),
  str(s) {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return Buffer.concat([Buffer.from('X'), len, b]);
  },
  int(n) {
    const b = Buffer.alloc(5);
    b[0] = 0x4a; // BININT
    b.writeInt32LE(n, 1);
    return b;
  },
  global(module, name) {
    return Buffer.from(`c${module}\n${name}\n`, 'latin1');
  },
  ints(list) {
    return Buffer.concat([op.mark, ...list.map((n) => op.int(n)), op.tuple]);
  },
};

/** `torch._utils._rebuild_tensor_v2(storage(key), offset, size, stride, False, OrderedDict())`. */
export function tensorPickle({ key, storage = 'FloatStorage', numel, offset = 0, size, stride }) {
  return Buffer.concat([
    op.global('torch._utils', '_rebuild_tensor_v2'),
    op.mark,
    op.mark, op.str('storage'), op.global('torch', storage), op.str(key), op.str('cpu'), op.int(numel), op.tuple,
    op.binpersid,
    op.int(offset), op.ints(size), op.ints(stride), op.newfalse,
    op.global('collections', 'OrderedDict'), op.emptyTuple, op.reduce,
    op.tuple,
    op.reduce,
  ]);
}

/** data.pkl of a dict {name: pickled value}. */
export function dictPickle(items) {
  return Buffer.concat([op.proto, op.emptyDict, op.mark, ...items.flatMap(([k, v]) => [op.str(k), v]), op.setitems, op.stop]);
}

/** A whole torch.save archive: archive/data.pkl, archive/data/<key> storages, archive/version. */
export function torchArchive(pickle, storages = {}, options = {}) {
  return storedZip([
    ['archive/data.pkl', pickle],
    ...Object.entries(storages).map(([key, data]) => [`archive/data/${key}`, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]),
    ['archive/version', Buffer.from('3\n')],
  ], options);
}
