/**
 * A reader for the zip archives torch.save writes: entries stored without
 * compression, found through the central directory (torch's writer puts the
 * sizes in data descriptors, not in the local headers), zip64 records
 * understood. Every offset and length is checked against the file before use,
 * and each entry's CRC-32 is verified, so a truncated or corrupted archive is
 * refused instead of half-read.
 */
import { crc32 } from 'node:zlib';

/** One stored entry: its name and a view of its bytes inside the archive. */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_ENTRIES = 1_000_000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Lists the entries of a stored (uncompressed) zip archive. Throws
 * `fail(message)` for anything malformed; the caller picks the error type.
 *
 * @example
 * const entries = readStoredZip(bytes, (m) => { throw new CheckpointError(path, m); });
 * entries.find((e) => e.name.endsWith('/data.pkl'));
 */
export function readStoredZip(bytes: Uint8Array, fail: (message: string) => never): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => {
    const v = view.getBigUint64(at, true);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  const within = (at: number, length: number, what: string) => {
    if (at < 0 || length < 0 || at + length > bytes.length) fail(`${what} lies outside the file (truncated archive?)`);
  };

  const eocd = findEndOfCentralDirectory(bytes, view);
  if (eocd < 0) fail('no zip end-of-central-directory record (truncated, or not a torch.save zip archive)');
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || u32(locator) !== ZIP64_LOCATOR) fail('zip64 sizes without a zip64 locator');
    const record = u64(locator + 8);
    within(record, 56, 'the zip64 end-of-central-directory record');
    if (u32(record) !== ZIP64_EOCD) fail('bad zip64 end-of-central-directory signature');
    count = u64(record + 32);
    cdSize = u64(record + 40);
    cdOffset = u64(record + 48);
  }
  if (count > MAX_ENTRIES) fail(`archive claims ${count} entries (at most ${MAX_ENTRIES} accepted)`);
  within(cdOffset, cdSize, 'the central directory');

  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    within(at, 46, `central directory entry ${i}`);
    if (u32(at) !== CENTRAL) fail(`central directory entry ${i} has a bad signature`);
    const method = u16(at + 10);
    const crc = u32(at + 16);
    let compressed = u32(at + 20);
    let size = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let local = u32(at + 42);
    within(at + 46, nameLength + extraLength + commentLength, `central directory entry ${i}`);
    let name: string;
    try {
      name = utf8.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    } catch {
      return fail(`entry ${i} has a name that is not UTF-8`);
    }
    // zip64: the fields stored as 0xFFFFFFFF follow in an extra field, in this order.
    const extra = extraField(view, at + 46 + nameLength, extraLength, 0x0001);
    if (extra !== undefined) {
      let p = extra.start;
      const next = () => {
        if (p + 8 > extra.end) fail(`entry '${name}' has a short zip64 extra field`);
        const v = u64(p);
        p += 8;
        return v;
      };
      if (size === 0xffffffff) size = next();
      if (compressed === 0xffffffff) compressed = next();
      if (local === 0xffffffff) local = next();
    }
    if (method !== 0) fail(`entry '${name}' is compressed (method ${method}); torch.save stores entries uncompressed`);
    if (compressed !== size) fail(`entry '${name}' has different stored and original sizes`);
    if (names.has(name)) fail(`entry '${name}' appears twice`);
    names.add(name);
    within(local, 30, `the local header of '${name}'`);
    if (u32(local) !== LOCAL) fail(`the local header of '${name}' has a bad signature`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    within(start, size, `the data of '${name}'`);
    const data = bytes.subarray(start, start + size);
    if (crc32(data) !== crc) fail(`entry '${name}' fails its CRC-32 check (corrupted archive)`);
    entries.push({ name, data });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

// The record is at the end, followed by a comment of at most 65,535 bytes.
function findEndOfCentralDirectory(bytes: Uint8Array, view: DataView): number {
  const lowest = Math.max(0, bytes.length - 22 - 0xffff);
  for (let at = bytes.length - 22; at >= lowest; at--) {
    if (view.getUint32(at, true) === EOCD && at + 22 + view.getUint16(at + 20, true) === bytes.length) return at;
  }
  return -1;
}

function extraField(view: DataView, start: number, length: number, id: number): { start: number; end: number } | undefined {
  const end = start + length;
  for (let p = start; p + 4 <= end;) {
    const size = view.getUint16(p + 2, true);
    if (p + 4 + size > end) return undefined;
    if (view.getUint16(p, true) === id) return { start: p + 4, end: p + 4 + size };
    p += 4 + size;
  }
  return undefined;
}
