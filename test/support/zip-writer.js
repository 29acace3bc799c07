// A zip writer for tests that lays out every record explicitly, so the differential attacks
// (second directories, hidden end records, aliased entries, headers that disagree) are a few lines each.
// Records follow the zip specification (APPNOTE 4.3); names are UTF-8.
import { crc32 } from 'node:zlib';

import { u16, u32, u64 } from './bytes.js';

/**
 * A local file header followed by the data (and a data descriptor when `descriptor`, as libtorch writes).
 * `header` overrides what the local header claims: { name, crc, size, flags, method }.
 */
export function localRecord(name, data, { descriptor = false, header = {} } = {}) {
  const nameBytes = Buffer.from(header.name ?? name, 'utf8');
  const crc = header.crc ?? crc32(data);
  const flags = header.flags ?? (descriptor ? 0x0808 : 0x0800);
  const parts = [
    u32(0x04034b50), u16(20), u16(flags), u16(header.method ?? 0), u16(0), u16(0),
    u32(descriptor ? 0 : crc), u32(descriptor ? 0 : header.size ?? data.length), u32(descriptor ? 0 : header.size ?? data.length),
    u16(nameBytes.length), u16(0), nameBytes, Buffer.from(data),
  ];
  if (descriptor) parts.push(u32(0x08074b50), u32(crc), u32(header.size ?? data.length), u32(header.size ?? data.length));
  return Buffer.concat(parts);
}

/** A central directory entry for `name` whose local header is at `offset`. */
export function centralRecord(name, data, offset, { descriptor = false, crc, size, flags, method = 0 } = {}) {
  const nameBytes = Buffer.from(name, 'utf8');
  return Buffer.concat([
    u32(0x02014b50), u16(20), u16(20), u16(flags ?? (descriptor ? 0x0808 : 0x0800)), u16(method), u16(0), u16(0),
    u32(crc ?? crc32(data)), u32(size ?? data.length), u32(size ?? data.length), u16(nameBytes.length), u16(0), u16(0),
    u16(0), u16(0), u32(0), u32(offset), nameBytes,
  ]);
}

/** The classic end record. */
export function endRecord({ count, cdSize, cdOffset, comment = Buffer.alloc(0) }) {
  return Buffer.concat([u32(0x06054b50), u16(0), u16(0), u16(count), u16(count), u32(cdSize), u32(cdOffset), u16(comment.length), comment]);
}

/** The zip64 end record (56 bytes) and its locator (20 bytes), as libtorch always writes them. */
export function zip64Records({ count, cdSize, cdOffset, recordOffset }) {
  const record = Buffer.concat([u32(0x06064b50), u64(44), u16(45), u16(45), u32(0), u32(0), u64(count), u64(count), u64(cdSize), u64(cdOffset)]);
  const locator = Buffer.concat([u32(0x07064b50), u32(0), u64(recordOffset), u32(1)]);
  return { record, locator };
}

/**
 * A well-formed archive of [name, data] entries laid out as libtorch lays them out.
 * Returns the bytes and the layout (entry offsets, directory offset and size) for attacks to build on.
 */
export function zipLayout(entries, { descriptor = true, zip64 = true, comment } = {}) {
  const locals = [];
  const offsets = [];
  let at = 0;
  for (const [name, data] of entries) {
    offsets.push(at);
    const rec = localRecord(name, data, { descriptor });
    locals.push(rec);
    at += rec.length;
  }
  const central = Buffer.concat(entries.map(([name, data], i) => centralRecord(name, data, offsets[i], { descriptor })));
  const cdOffset = at;
  const tail = [];
  if (zip64) {
    const { record, locator } = zip64Records({ count: entries.length, cdSize: central.length, cdOffset, recordOffset: cdOffset + central.length });
    tail.push(record, locator);
  }
  tail.push(endRecord({ count: entries.length, cdSize: central.length, cdOffset, comment }));
  return { bytes: Buffer.concat([...locals, central, ...tail]), locals, offsets, central, cdOffset };
}

