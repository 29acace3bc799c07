/**
 * A strict reader for the zip archives torch.save writes: entries stored
 * without compression, one after another from byte 0, then the central
 * directory, an optional zip64 end record and locator, and the end record.
 *
 * It accepts exactly one reading of the file. Any byte that another zip reader
 * could interpret differently is refused: data after the end record, a second
 * end record, zip64 records that disagree with the classic one or sit anywhere
 * but straight after the directory, local headers that disagree with the
 * directory, gaps or overlaps between entries, duplicate names (byte for byte
 * or ignoring case), names with `..`, absolute paths or backslashes, and more
 * than one top-level folder. Because entries tile the file, the CRC-32 work is
 * at most one pass over it.
 */
import { crc32 } from 'node:zlib';

/** One stored entry: its name and a view of its bytes inside the archive. */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

/** A checked archive: its entries in directory order and the one folder they all live in. */
export interface StoredZip {
  entries: ZipEntry[];
  /** The common first path segment, without the slash ('archive' for libtorch's writer). */
  prefix: string;
}

const SIG = {
  local: 0x04034b50, central: 0x02014b50, end: 0x06054b50, zip64End: 0x06064b50, zip64Locator: 0x07064b50,
  descriptor: 0x08074b50,
} as const;
const END_SIZE = 22;
const ZIP64_END_SIZE = 56;
const LOCATOR_SIZE = 20;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const ZIP64_EXTRA = 0x0001;
const FLAG_DESCRIPTOR = 0x0008;
// Encryption (bits 0, 6) and patched/masked data (5, 13) change how the bytes must be read.
const FLAGS_REFUSED = 0x0001 | 0x0020 | 0x0040 | 0x2000;
const MAX_ENTRIES = 100_000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Central {
  index: number;
  name: string;
  nameBytes: Uint8Array;
  flags: number;
  crc: number;
  size: number;
  local: number;
}

/**
 * Reads and checks a stored (uncompressed) zip archive. Throws
 * `fail(message)` for anything malformed or ambiguous; the caller picks the
 * error type.
 *
 * @example
 * const { entries, prefix } = readStoredZip(bytes, (m) => { throw new CheckpointError(path, m); });
 * entries.find((e) => e.name === `${prefix}/data.pkl`);
 */
export function readStoredZip(bytes: Uint8Array, fail: (message: string) => never): StoredZip {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => {
    const v = view.getBigUint64(at, true);
    // Anything beyond 2^53 is beyond the file too; capping keeps comparisons exact.
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };

  const end = findEndRecord(bytes, view, fail);
  const comment = bytes.subarray(end + END_SIZE);
  if (containsSignature(comment)) fail('the archive comment contains a zip record signature (a second end record?)');
  if (u16(end + 4) !== 0 || u16(end + 6) !== 0) fail('multi-disk archives are not supported');
  if (u16(end + 8) !== u16(end + 10)) fail('the end record gives two different entry counts');
  let count = u16(end + 10);
  let cdSize = u32(end + 12);
  let cdOffset = u32(end + 16);
  const sentinel = count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff;

  // libtorch's writer always adds zip64 records; they must then say exactly what the classic record says.
  let cdEnd = end;
  const locator = end - LOCATOR_SIZE;
  const hasLocator = locator >= 0 && u32(locator) === SIG.zip64Locator;
  if (sentinel && !hasLocator) fail('the end record needs zip64 values but no zip64 locator precedes it');
  if (hasLocator) {
    const record = locator - ZIP64_END_SIZE;
    if (record < 0) fail('the zip64 locator has no room for a zip64 end record before it');
    if (u32(locator + 4) !== 0 || u32(locator + 16) !== 1) fail('the zip64 locator names another disk');
    if (u64(locator + 8) !== record) fail(`the zip64 locator points to byte ${u64(locator + 8)}, not to the zip64 end record right before it (byte ${record})`);
    if (u32(record) !== SIG.zip64End) fail('bad zip64 end-of-central-directory signature');
    if (u64(record + 4) !== ZIP64_END_SIZE - 12) fail('the zip64 end record has an unexpected size (extensible data is not supported)');
    if (u32(record + 16) !== 0 || u32(record + 20) !== 0) fail('the zip64 end record names another disk');
    const count64 = u64(record + 24);
    if (u64(record + 32) !== count64) fail('the zip64 end record gives two different entry counts');
    const size64 = u64(record + 40);
    const offset64 = u64(record + 48);
    const agrees = (classic: number, max: number, wide: number) => classic === max || classic === wide;
    if (!agrees(count, 0xffff, count64) || !agrees(cdSize, 0xffffffff, size64) || !agrees(cdOffset, 0xffffffff, offset64)) {
      fail('the zip64 end record disagrees with the classic end record');
    }
    count = count64;
    cdSize = size64;
    cdOffset = offset64;
    cdEnd = record;
  }
  if (count > MAX_ENTRIES) fail(`archive claims ${count} entries (at most ${MAX_ENTRIES} accepted)`);
  if (count * CENTRAL_SIZE > cdSize) fail(`a central directory of ${cdSize} bytes cannot hold ${count} entries`);
  if (cdOffset > cdEnd || cdOffset + cdSize !== cdEnd) {
    fail(`the central directory (bytes ${cdOffset}..${cdOffset + cdSize}) does not end where the end records begin (byte ${cdEnd})`);
  }

  const centrals = readCentralDirectory(bytes, view, cdOffset, cdEnd, count, fail);
  const prefix = checkNames(centrals, fail);

  // Entries must tile [0, cdOffset): sorted by offset, each starts where the previous one ended.
  const byOffset = [...centrals].sort((a, b) => a.local - b.local);
  const entries = new Array<ZipEntry>(centrals.length);
  let expected = 0;
  for (const c of byOffset) {
    if (c.local !== expected) {
      fail(c.local < expected ? `entry '${c.name}' overlaps the entry before it` : `${c.local - expected} unexplained bytes before entry '${c.name}'`);
    }
    const { data, next } = readLocal(bytes, view, c, cdOffset, fail);
    if (crc32(data) !== c.crc) fail(`entry '${c.name}' fails its CRC-32 check (corrupted archive)`);
    entries[c.index] = { name: c.name, data };
    expected = next;
  }
  if (expected !== cdOffset) fail(`${cdOffset - expected} unexplained bytes between the last entry and the central directory`);
  return { entries, prefix };
}

// The one end record: the file ends with it and its comment. Two candidates mean one hides in the
// other's comment, where readers that scan backwards (miniz) would take the inner one.
function findEndRecord(bytes: Uint8Array, view: DataView, fail: (message: string) => never): number {
  if (bytes.length < END_SIZE) fail('file is too short to be a zip archive');
  const lowest = Math.max(0, bytes.length - END_SIZE - 0xffff);
  let found = -1;
  for (let at = bytes.length - END_SIZE; at >= lowest; at--) {
    if (view.getUint32(at, true) !== SIG.end || at + END_SIZE + view.getUint16(at + 20, true) !== bytes.length) continue;
    if (found >= 0) fail(`two end-of-central-directory records (bytes ${at} and ${found}): one hides in the other's comment`);
    found = at;
  }
  if (found < 0) fail('no zip end-of-central-directory record at the end of the file (truncated, trailing data, or not a zip archive)');
  return found;
}

function containsSignature(b: Uint8Array): boolean {
  for (let i = 0; i + 4 <= b.length; i++) {
    // 'P' 'K' followed by one of the record kinds (1 2, 3 4, 5 6, 6 6, 6 7, 7 8).
    if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2]! <= 8 && b[i + 3]! <= 8) return true;
  }
  return false;
}

function readCentralDirectory(bytes: Uint8Array, view: DataView, start: number, end: number, count: number,
  fail: (message: string) => never): Central[] {
  const out: Central[] = [];
  let at = start;
  for (let i = 0; i < count; i++) {
    if (at + CENTRAL_SIZE > end) fail(`central directory entry ${i} runs past the directory`);
    if (view.getUint32(at, true) !== SIG.central) fail(`central directory entry ${i} has a bad signature`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    let compressed = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const disk = view.getUint16(at + 34, true);
    let local = view.getUint32(at + 42, true);
    const next = at + CENTRAL_SIZE + nameLength + extraLength + commentLength;
    if (next > end) fail(`central directory entry ${i} runs past the directory`);
    const nameBytes = bytes.subarray(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength);
    let name: string;
    try {
      name = utf8.decode(nameBytes);
    } catch {
      return fail(`entry ${i} has a name that is not UTF-8`);
    }
    const label = `entry '${clip(name)}'`;
    const wide = zip64Fields(view, at + CENTRAL_SIZE + nameLength, extraLength, label, fail);
    const take = (v: number, what: string) => {
      if (v !== 0xffffffff) return v;
      const w = wide.shift();
      if (w === undefined) fail(`${label} needs a zip64 ${what} but its zip64 extra field lacks it`);
      return w as number;
    };
    size = take(size, 'size');
    compressed = take(compressed, 'stored size');
    local = take(local, 'header offset');
    if (disk === 0xffff) fail(`${label} names another disk`);
    if (wide.length !== 0) fail(`${label} has zip64 values its header does not ask for`);
    if (flags & FLAGS_REFUSED) fail(`${label} is encrypted or uses flags 0x${flags.toString(16)} (torch.save sets none of these)`);
    if (disk !== 0) fail(`${label} names another disk`);
    if (method !== 0) fail(`${label} is compressed (method ${method}); torch.save stores entries uncompressed`);
    if (compressed !== size) fail(`${label} has different stored and original sizes`);
    out.push({ index: i, name, nameBytes, flags, crc, size, local });
    at = next;
  }
  if (at !== end) fail(`${end - at} unexplained bytes after the last central directory entry`);
  return out;
}

// The 64-bit values of a zip64 extra field, in the order the format lists them.
function zip64Fields(view: DataView, start: number, length: number, label: string, fail: (message: string) => never): number[] {
  const end = start + length;
  const values: number[] = [];
  let seen = false;
  for (let p = start; p < end;) {
    if (p + 4 > end) fail(`${label} has a truncated extra field`);
    const id = view.getUint16(p, true);
    const size = view.getUint16(p + 2, true);
    if (p + 4 + size > end) fail(`${label} has an extra field that runs past its header`);
    if (id === ZIP64_EXTRA) {
      if (seen) fail(`${label} has two zip64 extra fields`);
      if (size % 8 !== 0 || size > 24) fail(`${label} has a malformed zip64 extra field`);
      seen = true;
      for (let q = p + 4; q < p + 4 + size; q += 8) {
        const v = view.getBigUint64(q, true);
        values.push(v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v));
      }
    }
    p += 4 + size;
  }
  return values;
}

// The local header of `c` must agree with the directory; returns the data and where the entry ends.
function readLocal(bytes: Uint8Array, view: DataView, c: Central, limit: number,
  fail: (message: string) => never): { data: Uint8Array; next: number } {
  const label = `entry '${clip(c.name)}'`;
  const at = c.local;
  if (at + LOCAL_SIZE > limit) fail(`the local header of ${label} runs into the central directory`);
  if (view.getUint32(at, true) !== SIG.local) fail(`the local header of ${label} has a bad signature`);
  const flags = view.getUint16(at + 6, true);
  const method = view.getUint16(at + 8, true);
  const nameLength = view.getUint16(at + 26, true);
  const extraLength = view.getUint16(at + 28, true);
  if (flags !== c.flags) fail(`the local header of ${label} has other flags than its directory entry`);
  if (method !== 0) fail(`the local header of ${label} says it is compressed (method ${method})`);
  const start = at + LOCAL_SIZE + nameLength + extraLength;
  if (start > limit) fail(`the local header of ${label} runs into the central directory`);
  const localName = bytes.subarray(at + LOCAL_SIZE, at + LOCAL_SIZE + nameLength);
  if (!sameBytes(localName, c.nameBytes)) fail(`the local header of ${label} names another entry`);
  const localWide = zip64Fields(view, at + LOCAL_SIZE + nameLength, extraLength, label, fail);
  if (c.size > limit - start) fail(`the data of ${label} runs into the central directory`);
  const data = bytes.subarray(start, start + c.size);
  let next = start + c.size;
  let crc = view.getUint32(at + 14, true);
  let stored = view.getUint32(at + 18, true);
  let size = view.getUint32(at + 22, true);
  if (c.flags & FLAG_DESCRIPTOR) {
    // Sizes and CRC follow the data (what libtorch's streaming writer does); the header may hold zeros.
    if (!((crc === 0 && stored === 0 && size === 0) || (crc === c.crc && stored === c.size && size === c.size))) {
      fail(`the local header of ${label} disagrees with its directory entry (CRC or sizes)`);
    }
    const wide = localWide.length > 0;
    const width = wide ? 8 : 4;
    let p = next;
    if (p + 4 <= limit && view.getUint32(p, true) === SIG.descriptor) p += 4;
    if (p + 4 + 2 * width > limit) fail(`the data descriptor of ${label} runs into the central directory`);
    crc = view.getUint32(p, true);
    stored = wide ? Number(view.getBigUint64(p + 4, true)) : view.getUint32(p + 4, true);
    size = wide ? Number(view.getBigUint64(p + 12, true)) : view.getUint32(p + 8, true);
    next = p + 4 + 2 * width;
  } else {
    if (stored === 0xffffffff) stored = localWide[1] ?? -1;
    if (size === 0xffffffff) size = localWide[0] ?? -1;
  }
  if (crc !== c.crc || stored !== c.size || size !== c.size) {
    fail(`the local header of ${label} disagrees with its directory entry (CRC or sizes)`);
  }
  return { data, next };
}

/** Names: safe relative paths, unique byte for byte and ignoring case, all in one top-level folder. */
function checkNames(centrals: Central[], fail: (message: string) => never): string {
  const folded = new Set<string>();
  const exact = new Set<string>();
  let prefix: string | undefined;
  for (const { name } of centrals) {
    const label = `entry '${clip(name)}'`;
    if (name.length === 0) fail('an entry has an empty name');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f\\:]/.test(name)) fail(`${label} has a control character, backslash or colon in its name`);
    if (name.startsWith('/')) fail(`${label} is an absolute path`);
    const segments = name.split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..')) fail(`${label} has an empty, '.' or '..' path segment`);
    if (segments.length < 2) fail(`${label} is not inside the archive's folder`);
    if (prefix === undefined) prefix = segments[0]!;
    else if (segments[0] !== prefix) fail(`${label} is outside the archive folder '${clip(prefix)}' (one folder per archive)`);
    if (exact.has(name)) fail(`${label} appears twice`);
    const lower = name.toLowerCase();
    if (folded.has(lower)) fail(`${label} differs from another entry only in case`);
    exact.add(name);
    folded.add(lower);
  }
  if (prefix === undefined) return fail('the archive has no entries');
  return prefix;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
