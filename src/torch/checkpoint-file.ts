/**
 * Model.load's reading step: the file's bytes, read once, then our zip reader,
 * the restricted unpickler and the checkpoint vetting. Whatever goes wrong is a
 * CheckpointError or PickleSecurityError naming the file; an unexpected error in
 * our own code is wrapped too, so no other type escapes for a bad file.
 */
import { constants } from 'node:buffer';
import { constants as fs } from 'node:fs';
import { open } from 'node:fs/promises';

import { CheckpointError, InvalidOptionError, PickleSecurityError } from '../errors.js';
import { readTorchArchive } from '../data/torch-file.js';
import { planRestore, type ReadOptions, type RestorePlan } from './checkpoint-read.js';

/**
 * Reads a checkpoint file whole. Refuses directories, FIFOs and devices
 * (opening a FIFO could block forever) and files beyond the Buffer limit.
 *
 * @example
 * const bytes = await readCheckpointFile('runs/cnn.pt');
 */
export async function readCheckpointFile(path: string): Promise<Buffer> {
  let fh;
  try {
    // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer.
    fh = await open(path, fs.O_RDONLY | fs.O_NONBLOCK);
  } catch (error) {
    throw new CheckpointError(path, `cannot open: ${(error as Error).message}`);
  }
  try {
    const info = await fh.stat();
    if (!info.isFile()) throw new CheckpointError(path, `cannot open: not a regular file (${info.isDirectory() ? 'a directory' : 'a device, FIFO or socket'})`);
    if (info.size > constants.MAX_LENGTH) throw new CheckpointError(path, `file of ${info.size} bytes is beyond what one Buffer holds`);
    const bytes = Buffer.allocUnsafe(info.size);
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await fh.read(bytes, done, Math.min(bytes.length - done, 1 << 30), done);
      if (bytesRead === 0) throw new CheckpointError(path, `file shrank while being read (${done} of ${info.size} bytes)`);
      done += bytesRead;
    }
    return bytes;
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointError(path, `cannot read: ${(error as Error).message}`);
  } finally {
    await fh.close().catch(() => {});
  }
}

/**
 * Parses and vets a checkpoint's bytes into what the addon restores.
 *
 * @example
 * const plan = readCheckpoint(bytes, 'cnn.pt', { imageSize: [28, 28], allowNonFinite: false });
 */
export function readCheckpoint(bytes: Uint8Array, path: string, options: ReadOptions): RestorePlan {
  try {
    return planRestore(readTorchArchive(bytes, path), path, options);
  } catch (error) {
    if (error instanceof CheckpointError || error instanceof PickleSecurityError) throw error;
    // imageSize is the caller's option: a size the architecture cannot take is the option's fault.
    if (error instanceof InvalidOptionError && error.option === 'imageSize') throw error;
    // A bug of ours met by this file: still the file's failure, typed, with the cause kept.
    const wrapped = new CheckpointError(path, `could not be read: ${(error as Error)?.message ?? String(error)}`);
    (wrapped as { cause?: unknown }).cause = error;
    throw wrapped;
  }
}
