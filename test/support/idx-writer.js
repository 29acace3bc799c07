// IDX files (the format Fashion-MNIST ships in) for tests: a big-endian magic number, one u32 per
// dimension, then the raw bytes. 0x803 is images (3 dimensions), 0x801 labels (1).
export function idxFile(magic, dims, data) {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([h, Buffer.from(data)]);
}
