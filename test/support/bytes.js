// Byte helpers shared by the test assemblers (pickle, .npy, zip, IDX): little-endian integers and
// a concatenation that takes single bytes, latin1 text and byte arrays alike.

/** Concatenates numbers (single bytes), latin1 strings and byte arrays. */
export function bytes(...parts) {
  return Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
}

export const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
export const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
export const i32 = (n) => { const b = Buffer.alloc(4); b.writeInt32LE(n); return b; };
export const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
