/**
 * Reads a .npy file into one Buffer placed so that its largest payload is
 * aligned in memory, which lets the reader return typed-array views instead
 * of copies even for files numpy wrote (whose pickled payloads start at
 * arbitrary offsets). Peak memory is the file size plus at most 128 bytes.
 */
import { constants } from 'node:buffer';
import { open, stat } from 'node:fs/promises';
import { NpyFormatError } from '../errors.js';
import { readNpyHeader } from './npy-header.js';
import { firstLargePayload } from './pickle-opcodes.js';

const ALIGN = 64;
const PROBE_BYTES = 1 << 16;
const LARGE_PAYLOAD = 1 << 16;
/** Reads are split into pieces of about this size and issued in parallel (page faults then use every core). */
const PIECE = 48 << 20;

/**
 * Reads the whole file at `path` into a Buffer whose first big array payload
 * sits at a 64-byte aligned address.
 *
 * @example
 * const buf = await readNpyFile('data/fashion_mnist_dataset_train.npy');
 */
export async function readNpyFile(path: string): Promise<Buffer> {
  // Checked before open(): opening a FIFO would block until something writes to it.
  const kind = await stat(path);
  if (!kind.isFile()) throw new NpyFormatError(path, `not a regular file (${kind.isDirectory() ? 'a directory' : 'a device, FIFO or socket'})`);
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size + 2 * ALIGN > constants.MAX_LENGTH) {
      throw new NpyFormatError(path, `file of ${size} bytes is larger than the ${constants.MAX_LENGTH}-byte Buffer limit of this Node.js`);
    }
    const probe = Buffer.alloc(Math.min(size, PROBE_BYTES));
    await readFully(fh, probe, 0);
    const pad = paddingFor(probe);
    // allocUnsafeSlow: a dedicated ArrayBuffer starting at offset 0, so `pad` means what we computed.
    const whole = Buffer.allocUnsafeSlow(pad + size);
    const target = whole.subarray(pad, pad + size);
    const pieces = Math.max(1, Math.min(4, Math.round(size / PIECE)));
    const step = Math.ceil(size / pieces / 4096) * 4096;
    const jobs: Promise<number>[] = [];
    for (let at = 0; at < size; at += step) jobs.push(readFully(fh, target.subarray(at, Math.min(size, at + step)), at));
    // allSettled: never leave a read writing into the buffer after we have given up on it.
    const settled = await Promise.allSettled(jobs);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const got = settled.reduce((a, r) => a + (r as PromiseFulfilledResult<number>).value, 0);
    if (got < size) throw new NpyFormatError(path, `file shrank while being read (${got} of ${size} bytes)`, got);
    return whole.subarray(pad, pad + size);
  } finally {
    // Not awaited: the data is complete, and a close failure on a read-only handle loses nothing.
    fh.close().catch(() => {});
  }
}

/**
 * Bytes to leave before the file in memory so the first large payload is
 * 64-byte aligned. Always at least 64: the kernel copies file pages with
 * `rep movsb`, which runs about 3x slower on AMD CPUs when the destination is
 * 1 to 63 bytes past the source's page offset, and a malloc'ed ArrayBuffer
 * starts 16 bytes into its page.
 */
function paddingFor(probe: Buffer): number {
  let at: number | undefined;
  try {
    const h = readNpyHeader(probe, '');
    at = h.descr.kind === 'object' ? firstLargePayload(probe, h.dataOffset, LARGE_PAYLOAD) : h.dataOffset;
  } catch {
    // A truncated probe or a bad file: the real parse reports it properly.
    at = undefined;
  }
  return ALIGN + (at === undefined ? 0 : (ALIGN - (at % ALIGN)) % ALIGN);
}

async function readFully(fh: import('node:fs/promises').FileHandle, target: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await fh.read(target, done, Math.min(target.length - done, 1 << 30), position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
