// .npy assemblers for tests: the preamble and header dict as numpy pads them, for any dict text,
// format version and payload, so lying and malformed headers are one call each.

/** The .npy preamble + header numpy writes (format 1.0, padded to 64 bytes). */
export function npyHeader(descr, shapeText, { fortran = 'False', major = 1, text } = {}) {
  const dict = text ?? `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': ${shapeText}, }`;
  const prefix = major === 1 ? 10 : 12;
  let body = Buffer.from(dict, major === 3 ? 'utf8' : 'latin1');
  const total = Math.ceil((prefix + body.length + 1) / 64) * 64 - prefix;
  const out = Buffer.alloc(prefix + total, 0x20);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(out, 0);
  if (major === 1) out.writeUInt16LE(total, 8);
  else out.writeUInt32LE(total, 8);
  body.copy(out, prefix);
  out[out.length - 1] = 0x0a;
  return out;
}

/** A 0-d object array .npy file whose payload is `pickle` (what np.save writes for a dict). */
export function objectNpy(pickle) {
  return Buffer.concat([npyHeader("'|O'", '()'), Buffer.isBuffer(pickle) ? pickle : pickle.bytes()]);
}

/** A header holding `text` as its dict, padded as numpy pads, followed by `data`. */
export function rawNpy(text, data = Buffer.alloc(0), major = 1) {
  return Buffer.concat([npyHeader(undefined, undefined, { text, major }), data]);
}
