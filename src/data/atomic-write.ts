/**
 * Atomic file replacement: write a temporary file in the same folder, fsync
 * it, rename it over the target. Readers see the old file or the new one,
 * never a half-written one, even if the process dies mid-write.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `chunks` in order to `path`, atomically.
 *
 * @example
 * await writeFileAtomic('out.bin', [Buffer.from('hello')]);
 */
export async function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const dir = dirname(path);
  // Same folder as the target: rename(2) is only atomic within one file system.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o644);
  let ok = false;
  try {
    let position = 0;
    for (const chunk of chunks) {
      let done = 0;
      while (done < chunk.byteLength) {
        const { bytesWritten } = await fh.write(chunk, done, Math.min(chunk.byteLength - done, 1 << 30), position);
        done += bytesWritten;
        position += bytesWritten;
      }
    }
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    ok = true;
  } finally {
    if (!ok) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
    }
  }
  await syncDir(dir);
}

/** Makes the rename itself durable; some file systems refuse fsync on folders, which is harmless. */
async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try { await d.sync(); } finally { await d.close(); }
  } catch {
    // Not supported here (e.g. some network or Windows file systems).
  }
}
