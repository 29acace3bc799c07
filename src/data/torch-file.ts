/**
 * Reads what torch.save wrote (the zip format of PyTorch 1.6 and later) with
 * our own zip reader and the restricted unpickler, so no checkpoint, however
 * hostile, reaches an unpickler that can call into Python or libtorch objects.
 */
import { CheckpointError } from '../errors.js';
import { unpickle, type PickleValue } from './pickle.js';
import { readStoredZip, type ZipEntry } from './zip-read.js';

/**
 * The object a torch.save archive holds: dicts as plain objects, tensors as
 * NdArray (C order, copied out of their storages), lists as arrays.
 * Structural problems throw CheckpointError; a refused pickle throws
 * PickleSecurityError naming `<file>:data.pkl`.
 *
 * @example
 * const sd = readTorchArchive(await readFile('cnn.pt'), 'cnn.pt');
 * sd['conv1.weight'].shape; // [32, 1, 3, 3]
 */
export function readTorchArchive(bytes: Uint8Array, file: string): PickleValue {
  const fail = (message: string): never => {
    throw new CheckpointError(file, message);
  };
  if (bytes.length >= 2 && bytes[0] === 0x80) {
    fail('this is the legacy torch.save format (before PyTorch 1.6); re-save it with a recent torch.save');
  }
  if (bytes.length < 22 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) fail('not a torch.save zip archive (bad magic)');
  const { entries, prefix } = readStoredZip(bytes, fail);
  const byName = new Map<string, ZipEntry>(entries.map((e) => [e.name, e]));
  const pickle = byName.get(`${prefix}/data.pkl`);
  if (pickle === undefined) fail(`the archive has no ${prefix}/data.pkl entry`);
  const byteorder = byName.get(`${prefix}/byteorder`);
  if (byteorder && new TextDecoder().decode(byteorder.data) !== 'little') fail('storages are big-endian; only little-endian archives are supported');
  let totalBytes = 0;
  for (const e of entries) if (e.name.startsWith(`${prefix}/data/`)) totalBytes += e.data.length;
  return unpickle(pickle!.data, `${file}:data.pkl`, {
    torchStorages: { bytes: (key) => byName.get(`${prefix}/data/${key}`)?.data, totalBytes },
  });
}
