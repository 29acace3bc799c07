// torch.save archives read by our own zip reader and restricted unpickler (Model.load's first step):
// tensors come back exact (strides, offsets, dtypes), and broken or hostile archives are refused with
// CheckpointError (the container) or PickleSecurityError (the pickle), never anything else.
import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CheckpointError, Model, PickleSecurityError, readTorchArchive, TorchfitError, trainModel } from '../dist/index.js';
import { dictPickle, op, storedZip, tensorPickle, torchArchive } from './support/torch-archive.js';
import { realImages } from './support/data.js';

const dir = mkdtempSync(join(tmpdir(), 'torchfit-torchfile-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('a strided, offset tensor comes back in C order with its dtype', (t) => {
  // Storage 0..9; a 2x3 view at offset 1 with strides (1, 2) (a transposed 3x2).
  const storage = Float32Array.from({ length: 10 }, (_, i) => i);
  const pickle = dictPickle([
    ['w', tensorPickle({ key: '0', numel: 10, offset: 1, size: [2, 3], stride: [1, 2] })],
    ['n', tensorPickle({ key: '1', storage: 'LongStorage', numel: 1, size: [], stride: [] })],
  ]);
  const out = readTorchArchive(torchArchive(pickle, { 0: storage, 1: BigInt64Array.of(7n) }), 'x.pt');
  t.deepEqual(out.w.shape, [2, 3]);
  t.is(out.w.dtype, 'float32');
  t.deepEqual([...out.w.data], [1, 3, 5, 2, 4, 6]);
  t.is(out.n.dtype, 'int64');
  t.deepEqual(out.n.shape, []);
  t.is(out.n.data[0], 7n);
});

test('one storage shared by two tensors is read once and both views are right', (t) => {
  const storage = Float32Array.from({ length: 6 }, (_, i) => i * 10);
  const pickle = dictPickle([
    ['a', tensorPickle({ key: 's', numel: 6, offset: 0, size: [3], stride: [1] })],
    ['b', tensorPickle({ key: 's', numel: 6, offset: 3, size: [3], stride: [1] })],
  ]);
  const out = readTorchArchive(torchArchive(pickle, { s: storage }), 'x.pt');
  t.deepEqual([...out.a.data], [0, 10, 20]);
  t.deepEqual([...out.b.data], [30, 40, 50]);
});

const refusals = [
  ['a tensor that reads past its storage', () => torchArchive(dictPickle([['w', tensorPickle({ key: '0', numel: 4, offset: 2, size: [3], stride: [1] })]]), { 0: new Float32Array(4) }), PickleSecurityError, /reads past its storage/],
  ['a huge stride', () => torchArchive(dictPickle([['w', tensorPickle({ key: '0', numel: 4, size: [2, 2], stride: [2 ** 30, 1] })]]), { 0: new Float32Array(4) }), PickleSecurityError, /reads past its storage/],
  ['a storage the archive lacks', () => torchArchive(dictPickle([['w', tensorPickle({ key: '9', numel: 4, size: [4], stride: [1] })]]), {}), PickleSecurityError, /missing from the archive/],
  ['a storage of the wrong byte size', () => torchArchive(dictPickle([['w', tensorPickle({ key: '0', numel: 5, size: [5], stride: [1] })]]), { 0: new Float32Array(4) }), PickleSecurityError, /holds 16 bytes/],
  ['an unknown storage type', () => torchArchive(dictPickle([['w', tensorPickle({ key: '0', storage: 'ComplexFloatStorage', numel: 1, size: [1], stride: [1] })]]), { 0: new Float32Array(2) }), PickleSecurityError, /torch\.ComplexFloatStorage' is refused/],
  ['os.system in data.pkl', () => torchArchive(Buffer.concat([op.proto, op.global('os', 'system'), op.mark, op.str('touch CANARY'), op.tuple, op.reduce, op.stop])), PickleSecurityError, /global 'os\.system' is refused/],
  ['torch.load named as a global', () => torchArchive(Buffer.concat([op.proto, op.global('torch', 'load'), op.stop])), PickleSecurityError, /'torch\.load' is refused/],
  ['BUILD on an OrderedDict with a __setstate__-style state', () => torchArchive(Buffer.concat([op.proto, op.global('collections', 'OrderedDict'), op.emptyTuple, op.reduce, op.emptyDict, op.str('__class__'), op.str('x'), op.setitem, op.build, op.stop])), PickleSecurityError, /only accepts \{'_metadata'/],
  ['a persistent id that is not a storage', () => torchArchive(Buffer.concat([op.proto, op.str('module'), op.binpersid, op.stop])), PickleSecurityError, /persistent id must be/],
  ['a corrupted entry (CRC)', () => torchArchive(dictPickle([]), {}, { corruptCrcOf: 'archive/data.pkl' }), CheckpointError, /CRC-32/],
  ['a compressed entry', () => storedZip([['archive/data.pkl', dictPickle([])]], { method: 8 }), CheckpointError, /compressed/],
  ['no data.pkl', () => storedZip([['archive/version', Buffer.from('3\n')]]), CheckpointError, /the archive has no archive\/data\.pkl entry/],
  ['the legacy (pre-1.6) format', () => Buffer.concat([op.proto, Buffer.from('J\x0a\x00\x00\x00.', 'latin1')]), CheckpointError, /legacy torch\.save format/],
  ['not a zip', () => Buffer.from('hello, this is not a checkpoint at all'), CheckpointError, /bad magic/],
];

for (const [what, make, type, message] of refusals) {
  test(`refused: ${what}`, (t) => {
    const error = t.throws(() => readTorchArchive(make(), 'bad.pt'), { instanceOf: type });
    t.regex(error.message, message);
    t.true(error.message.startsWith('bad.pt'), error.message);
  });
}

test('the same pickles are refused outside a torch archive (BINPERSID and torch globals need one)', async (t) => {
  const { unpickle } = await import('../dist/data/pickle.js');
  const tensor = dictPickle([['w', tensorPickle({ key: '0', numel: 1, size: [1], stride: [1] })]]);
  t.throws(() => unpickle(tensor, 'x.pkl'), { instanceOf: PickleSecurityError, message: /torch\._utils\._rebuild_tensor_v2' is refused/ });
});

test('Model.load refuses a hostile checkpoint and never runs its payload', async (t) => {
  const canary = join(dir, 'CANARY');
  const path = join(dir, 'hostile.pt');
  const payload = Buffer.concat([op.proto, Buffer.from('cposix\nsystem\n', 'latin1'), op.mark, op.str(`touch ${canary}`), op.tuple, op.reduce, op.stop]);
  writeFileSync(path, torchArchive(payload));
  await t.throwsAsync(Model.load(path), { instanceOf: PickleSecurityError, message: /posix\.system/ });
  t.false(existsSync(canary));
});

test('Model.load: a missing file, a directory and a state_dict of another model give CheckpointError', async (t) => {
  t.regex((await t.throwsAsync(Model.load(join(dir, 'nope.pt')), { instanceOf: CheckpointError })).message, /cannot open/);
  t.regex((await t.throwsAsync(Model.load(dir), { instanceOf: CheckpointError })).message, /cannot open/);
  const other = join(dir, 'other.pt');
  writeFileSync(other, torchArchive(dictPickle([['layer.weight', tensorPickle({ key: '0', numel: 4, size: [2, 2], stride: [2, 1] })]]), { 0: new Float32Array(4) }));
  t.regex((await t.throwsAsync(Model.load(other), { instanceOf: CheckpointError })).message, /not a state_dict of the notebook's CNN or a ResNet/);
  await t.throwsAsync(Model.load(other, { imageSize: [28] }), { instanceOf: TorchfitError, code: 'ERR_INVALID_OPTION' });
});

test('every truncation and 300 random byte flips of a real checkpoint: loaded or a typed error, nothing else', async (t) => {
  t.timeout(240_000);
  const { model } = await trainModel({ model: { kind: 'resnet', depth: 2 }, train: await realImages(64), epochs: 1, batchSize: 32, threads: 1 });
  const good = join(dir, 'good.pt');
  await model.save(good);
  model.dispose();
  const { readFileSync } = await import('node:fs');
  const bytes = readFileSync(good);
  const path = join(dir, 'mangled.pt');
  let typed = 0;
  let loaded = 0;
  const attempt = async (data) => {
    writeFileSync(path, data);
    try {
      (await Model.load(path)).dispose();
      loaded++;
    } catch (error) {
      if (!(error instanceof CheckpointError || error instanceof PickleSecurityError)) throw error;
      typed++;
    }
  };
  for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 97))) await attempt(bytes.subarray(0, cut));
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 300; i++) {
    const copy = Buffer.from(bytes);
    const at = Math.floor(random() * copy.length);
    copy[at] ^= 1 << Math.floor(random() * 8);
    await attempt(copy);
  }
  t.log(`${typed} refused with a typed error, ${loaded} loaded (a flip in bytes no check covers, such as local-header padding, leaves a loadable file)`);
  t.true(typed >= 97, 'every truncation is refused');
});

test('a plain state_dict (written here from a checkpoint\'s tensors) loads with the same predictions and can resume training', async (t) => {
  t.timeout(120_000);
  const train = await realImages(128);
  const { model } = await trainModel({ model: { kind: 'resnet', depth: 8 }, train, epochs: 1, batchSize: 32, threads: 1, seed: 5 });
  const ours = join(dir, 'ours-resnet8.pt');
  await model.save(ours);
  const expected = (await model.predict(train.x)).data;
  model.dispose();
  const { readFileSync } = await import('node:fs');
  const sd = readTorchArchive(readFileSync(ours), ours).state_dict;
  const storages = {};
  const items = Object.entries(sd).map(([name, tensor], i) => {
    storages[i] = tensor.data;
    const stride = tensor.shape.map((_, d) => tensor.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    const storage = tensor.dtype === 'int64' ? 'LongStorage' : 'FloatStorage';
    return [name, tensorPickle({ key: String(i), storage, numel: tensor.data.length, size: tensor.shape, stride })];
  });
  const plain = join(dir, 'plain-resnet8.pt');
  writeFileSync(plain, torchArchive(dictPickle(items), storages));
  const loaded = await Model.load(plain);
  t.deepEqual(loaded.config, { kind: 'resnet', depth: 8, numClasses: 5, channels: 1, height: 28, width: 28, batchNormMomentum: 0.99 });
  t.deepEqual((await loaded.predict(train.x)).data, expected);
  const resumed = await trainModel({ model: { kind: 'resnet', depth: 8 }, train, epochs: 1, batchSize: 32, threads: 1, resume: loaded });
  t.deepEqual(resumed.history.epoch, [1]);
  t.true(Number.isFinite(resumed.history.loss[0]));
  loaded.dispose();
});

test('property: random mutations of a small archive give a value or a typed error', async (t) => {
  const fc = (await import('fast-check')).default;
  const base = torchArchive(dictPickle([['w', tensorPickle({ key: '0', numel: 4, size: [2, 2], stride: [2, 1] })]]), { 0: Float32Array.of(1, 2, 3, 4) });
  let refused = 0;
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(base.length), (flips, cut) => {
    const bytes = Buffer.from(base);
    for (const [at, value] of flips) bytes[at] = value;
    try {
      readTorchArchive(bytes.subarray(0, Math.max(cut, base.length - 8)), 'm.pt');
    } catch (error) {
      if (!(error instanceof CheckpointError || error instanceof PickleSecurityError)) throw error;
      refused++;
    }
  }), { numRuns: 3000, seed: 42 });
  t.log(`${refused} of 3000 mutated archives refused`);
  t.true(refused > 0);
});

test('property: mutated data.pkl repacked with valid CRCs (reaching the unpickler) gives a value or a typed error', async (t) => {
  const fc = (await import('fast-check')).default;
  const pickle = dictPickle([
    ['w', tensorPickle({ key: '0', numel: 6, size: [2, 3], stride: [3, 1] })],
    ['n', tensorPickle({ key: '1', storage: 'LongStorage', numel: 1, size: [], stride: [] })],
  ]);
  const storages = { 0: Float32Array.of(1, 2, 3, 4, 5, 6), 1: BigInt64Array.of(3n) };
  const counts = {};
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(pickle.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(pickle.length), (sets, cut) => {
    const mutated = Buffer.from(pickle);
    for (const [at, value] of sets) mutated[at] = value;
    try {
      readTorchArchive(torchArchive(mutated.subarray(0, Math.max(cut, pickle.length - 4)), storages), 'm.pt');
      counts.parsed = (counts.parsed ?? 0) + 1;
    } catch (error) {
      if (!(error instanceof CheckpointError || error instanceof PickleSecurityError)) throw error;
      counts[error.code] = (counts[error.code] ?? 0) + 1;
    }
  }), { numRuns: 5000, seed: 7 });
  t.log(JSON.stringify(counts));
  t.true((counts.ERR_PICKLE_REFUSED ?? 0) > 0);
});
