// The hostile checkpoint corpus: one generator per attack class of the checkpoint-parser issue, each
// entry with the error Model.load must give (class, code, message). Built from a valid CNN checkpoint
// (test/support/checkpoint-writer.js) by changing one thing, so a refusal can only come from that thing.
import { crc32 } from 'node:zlib';

import { archiveEntries, archiveOf, cnnAdamSlots, cnnCheckpoint, cnnState, F, picklePayload, RawPickle, T } from './checkpoint-writer.js';
import { bytes as op, u32 } from './bytes.js';
import { glob, pickle as wholePickle, str } from './pickle-writer.js';
import { centralRecord, endRecord, localRecord, zip64Records, zipLayout } from './zip-writer.js';

const CKPT = { type: 'CheckpointError', code: 'ERR_CHECKPOINT' };
const PICKLE = { type: 'PickleSecurityError', code: 'ERR_PICKLE_REFUSED' };

const pickleOf = (...parts) => wholePickle(2, ...parts);

/** Entries of the valid base checkpoint, and its pickle/storages for variants. */
function base() {
  const { pickle, storages } = picklePayload(cnnCheckpoint());
  return { pickle, storages, entries: archiveEntries(pickle, storages) };
}

/** A directory of `entries` whose local headers start at `offsets`. */
const directory = (entries, offsets) => Buffer.concat(entries.map(([name, data], i) => centralRecord(name, data, offsets[i], { descriptor: true })));

// --- 1. differential zip views ---------------------------------------------------------------------------

function differential(add) {
  const { entries } = base();
  const good = zipLayout(entries);
  const locals = Buffer.concat(good.locals);
  // A second directory where the evil entry replaces data.pkl (what another reader might follow).
  const evilPickle = pickleOf(glob('os', 'system'), str('touch /tmp/torchfit-evil'), op(0x85, 0x52));
  const evilLocal = localRecord('archive/data.pkl', evilPickle, { descriptor: true });
  const evilOffset = locals.length;
  const secondDir = directory(entries.map(([n, d]) => (n === 'archive/data.pkl' ? [n, evilPickle] : [n, d])),
    good.offsets.map((o, i) => (entries[i][0] === 'archive/data.pkl' ? evilOffset : o)));
  {
    // [entries][evil local][second dir][first dir][zip64 -> second dir][locator][end -> first dir]
    const cd2 = evilOffset + evilLocal.length;
    const cd1 = cd2 + secondDir.length;
    const record = cd1 + good.central.length;
    const z = zip64Records({ count: entries.length, cdSize: secondDir.length, cdOffset: cd2, recordOffset: record });
    add('zip64-locator-to-second-directory', Buffer.concat([locals, evilLocal, secondDir, good.central, z.record, z.locator,
      endRecord({ count: entries.length, cdSize: good.central.length, cdOffset: cd1 })]), CKPT,
    /the central directory \(bytes \d+\.\.\d+\) does not end where the end records begin|zip64 end record disagrees with the classic end record/);
  }
  {
    // The zip64 locator itself points elsewhere (to a zip64 record placed before the real directory).
    const fake = zip64Records({ count: entries.length, cdSize: secondDir.length, cdOffset: evilOffset + evilLocal.length, recordOffset: 0 });
    const fakeAt = evilOffset + evilLocal.length + secondDir.length;
    const cd1 = fakeAt + fake.record.length;
    const record = cd1 + good.central.length;
    const real = zip64Records({ count: entries.length, cdSize: good.central.length, cdOffset: cd1, recordOffset: fakeAt });
    add('zip64-locator-to-another-record', Buffer.concat([locals, evilLocal, secondDir, fake.record, good.central, real.record, real.locator,
      endRecord({ count: entries.length, cdSize: good.central.length, cdOffset: cd1 })]), CKPT,
    new RegExp(`the zip64 locator points to byte ${fakeAt}, not to the zip64 end record right before it \\(byte ${record}\\)`));
  }
  {
    // A second end record in the first one's comment, pointing at the second directory.
    const cd2 = evilOffset + evilLocal.length;
    const cd1 = cd2 + secondDir.length;
    const inner = endRecord({ count: entries.length, cdSize: secondDir.length, cdOffset: cd2 });
    const outer = endRecord({ count: entries.length, cdSize: good.central.length, cdOffset: cd1, comment: inner });
    add('second-end-record-in-comment', Buffer.concat([locals, evilLocal, secondDir, good.central, outer]), CKPT,
      /two end-of-central-directory records \(bytes \d+ and \d+\): one hides in the other's comment/);
  }
  add('end-record-signature-in-comment', zipLayout(entries, { comment: Buffer.from('PK\x05\x06 but too short') }).bytes, CKPT,
    /the archive comment contains a zip record signature/);
  add('trailing-data', Buffer.concat([good.bytes, Buffer.from('trailing')]), CKPT, /no zip end-of-central-directory record at the end of the file/);
  add('zip64-values-without-locator', (() => {
    const b = zipLayout(entries, { zip64: false }).bytes;
    b.writeUInt32LE(0xffffffff, b.length - 6);
    return b;
  })(), CKPT, /the end record needs zip64 values but no zip64 locator precedes it/);

  // Names another reader would match case-insensitively, or that escape the archive's folder.
  const evil = (name) => [[name, evilPickle]];
  add('case-variant-data-pkl', zipLayout([...entries, ...evil('archive/DATA.pkl')]).bytes, CKPT, /entry 'archive\/DATA\.pkl' differs from another entry only in case/);
  add('case-variant-storage', zipLayout([...entries, ['archive/DATA/14', Buffer.alloc(8)]]).bytes, CKPT, /entry 'archive\/DATA\/14' differs from another entry only in case/);
  add('second-archive-folder', zipLayout([...entries, ...evil('evil/DATA.pkl')]).bytes, CKPT, /entry 'evil\/DATA\.pkl' is outside the archive folder 'archive'/);
  add('duplicate-name', zipLayout([...entries, ...evil('archive/data.pkl')]).bytes, CKPT, /entry 'archive\/data\.pkl' appears twice/);
  add('dot-dot-name', zipLayout([...entries, ['archive/../../etc/cron.d/x', Buffer.from('x')]]).bytes, CKPT, /'\.\.' path segment/);
  add('absolute-name', zipLayout([...entries, ['/archive/data.pkl', Buffer.from('x')]]).bytes, CKPT, /is an absolute path/);
  add('backslash-name', zipLayout([...entries, ['archive\\data.pkl', Buffer.from('x')]]).bytes, CKPT, /backslash/);
  {
    // The local header names DATA.pkl while the directory says data.pkl.
    const i = entries.findIndex(([n]) => n === 'archive/data.pkl');
    const locals2 = good.locals.map((l, k) => (k === i ? localRecord('archive/data.pkl', entries[i][1], { descriptor: true, header: { name: 'archive/DATA.pkl' } }) : l));
    const bytes = Buffer.concat([...locals2, good.bytes.subarray(good.cdOffset)]);
    add('local-header-other-name', bytes, CKPT, /the local header of entry 'archive\/data\.pkl' names another entry/);
  }
  {
    // The local header's descriptor disagrees with the directory's size.
    const i = entries.findIndex(([n]) => n === 'archive/version');
    const locals2 = good.locals.map((l, k) => (k === i ? localRecord('archive/version', entries[i][1], { descriptor: true, header: { size: 1 } }) : l));
    add('descriptor-disagrees', Buffer.concat([...locals2, good.bytes.subarray(good.cdOffset)]), CKPT,
      /the local header of entry 'archive\/version' disagrees with its directory entry \(CRC or sizes\)/);
  }
}

// --- 2. overlapping and aliased entries ---------------------------------------------------------------------

/** `aliases` directory entries that all point at one local entry of `size` bytes. */
export function aliasedArchive(size, aliases) {
  const data = Buffer.alloc(size, 7);
  const local = localRecord('archive/data/0', data, { descriptor: true });
  const names = Array.from({ length: aliases }, (_, i) => (i === 0 ? 'archive/data/0' : `archive/data/${i}`));
  const crc = crc32(data);
  const cd = Buffer.concat(names.map((n) => centralRecord(n, data, 0, { descriptor: true, crc })));
  return Buffer.concat([local, cd, endRecord({ count: Math.min(aliases, 0xffff), cdSize: cd.length, cdOffset: local.length })]);
}

function overlapping(add, { large }) {
  add('1200-entries-aliasing-1MB', aliasedArchive(1 << 20, 1200), CKPT, /entry 'archive\/data\/1' overlaps the entry before it/);
  if (large) add('50000-entries-aliasing-32MB', aliasedArchive(32 << 20, 50_000), CKPT, /entry 'archive\/data\/1' overlaps the entry before it/);
  const { entries } = base();
  const good = zipLayout(entries);
  {
    // The directory points the second entry into the middle of the first one's data.
    const offsets = [...good.offsets];
    offsets[1] = offsets[0] + 40;
    const cd = directory(entries, offsets);
    add('entry-inside-another', Buffer.concat([...good.locals, cd, ...tailFor(entries.length, cd.length, good.cdOffset)]), CKPT,
      /overlaps the entry before it|unexplained bytes/);
  }
  {
    // Padding bytes smuggled between two entries.
    const gap = Buffer.alloc(64, 0x41);
    const locals = [good.locals[0], gap, ...good.locals.slice(1)];
    const offsets = good.offsets.map((o, i) => (i === 0 ? o : o + gap.length));
    const cd = directory(entries, offsets);
    add('gap-between-entries', Buffer.concat([...locals, cd, ...tailFor(entries.length, cd.length, good.cdOffset + gap.length)]), CKPT,
      /64 unexplained bytes before entry/);
  }
}

function tailFor(count, cdSize, cdOffset) {
  const z = zip64Records({ count, cdSize, cdOffset, recordOffset: cdOffset + cdSize });
  return [z.record, z.locator, endRecord({ count, cdSize, cdOffset })];
}

// --- 3. the pickle: depth, type tags, memo, empty-stack opcodes ---------------------------------------------

function pickleAttacks(add) {
  const { storages } = base();
  const withPickle = (pickle) => zipLayout(archiveEntries(pickle, storages)).bytes;
  const tag = (t) => pickleOf(glob('torch.jit._pickle', 'restore_type_tag'), op(0x7d), str(t), op(0x86, 0x52));
  add('type-tag-100000-deep', withPickle(tag(`${'List['.repeat(100_000)}int${']'.repeat(100_000)}`)), PICKLE, /restore_type_tag\(\): type tag of 600003 characters \(at most 512\)/);
  add('type-tag-9-deep', withPickle(tag(`Dict[str, ${'List['.repeat(9)}int${']'.repeat(9)}]`)), PICKLE, /restore_type_tag\(\): type tag nested deeper than 8/);
  add('type-tag-unknown-type', withPickle(tag('Dict[str, __torch__.Evil]')), PICKLE, /type tag names an unknown type '__torch__'/);
  add('type-tag-on-wrong-value', withPickle(tag('List[int]')), PICKLE, /a dict tagged 'List\[int\]'/);
  const deepTuple = Buffer.concat([op(0x4e), Buffer.alloc(1_000_000, 0x85)]);
  add('tuple-1000000-deep-in-rebuild-tensor', archiveOf(cnnCheckpoint({ state_dict: { ...cnnState(), 'fc.bias': T([5], new Float32Array(5), { extraArgs: deepTuple }) } })),
    PICKLE, /containers nested deeper than 100/);
  add('LONG_BINPUT-2pow27', withPickle(pickleOf(op(0x4e, 0x72), u32(2 ** 27))), PICKLE, /memo index 134217728 skips ahead of the 0 PUTs so far/);
  add('REDUCE-on-empty-stack', withPickle(pickleOf(op(0x52))), PICKLE, /REDUCE on an empty stack/);
  add('BUILD-on-empty-stack', withPickle(pickleOf(op(0x62))), PICKLE, /BUILD on an empty stack/);
  add('BINPERSID-on-empty-stack', withPickle(pickleOf(op(0x51))), PICKLE, /BINPERSID on an empty stack/);
  add('rebuild-tensor-bad-requires-grad', archiveOf(cnnCheckpoint(), {
    pickle: pickleOf(glob('torch._utils', '_rebuild_tensor_v2'), op(0x28), op(0x28), str('storage'), glob('torch', 'FloatStorage'), str('0'), str('cpu'), op(0x4d, 0x20, 0x01), op(0x74), op(0x51),
      op(0x4b, 0), op(0x28, 0x4b, 1, 0x74), op(0x28, 0x4b, 1, 0x74), op(0x5d), op(0x7d), op(0x74, 0x52)),
  }), PICKLE, /requires_grad is list, expected a bool/);
  add('storage-location-evil', archiveOf(cnnCheckpoint(), {
    pickle: pickleOf(glob('torch._utils', '_rebuild_tensor_v2'), op(0x28), op(0x28), str('storage'), glob('torch', 'FloatStorage'), str('0'), str('meta;rm -rf'), op(0x4b, 1), op(0x74), op(0x51)),
  }), PICKLE, /persistent id has no valid device location/);
}

// --- 4. tensors against their storages and the model's dtypes ----------------------------------------------

function tensorAttacks(add) {
  const ckpt = (state) => archiveOf(cnnCheckpoint({ state_dict: { ...cnnState(), ...state } }));
  add('tensor-5x1600-over-16-byte-storage', ckpt({ 'fc.weight': T([5, 1600], new Float32Array(4)) }), PICKLE,
    /tensor \[5, 1600\] at offset 0 with stride \[1600, 1\] reads past its storage of 4 elements/);
  add('storage-offset-2pow40', ckpt({ 'fc.bias': T([5], new Float32Array(5), { offset: 2 ** 40 }) }), PICKLE, /reads past its storage of 5 elements/);
  add('storage-numel-lies', ckpt({ 'fc.bias': T([5], new Float32Array(5), { numel: 2 ** 40 }) }), PICKLE, /storage '\d+' holds 20 bytes, 1099511627776 float32 elements need/);
  add('conv1-weight-as-LongStorage', ckpt({ 'conv1.weight': T([32, 1, 3, 3], new BigInt64Array(288)) }), CKPT,
    /state_dict entry 'conv1\.weight' is stored as int64 \(torch\.LongStorage\); the model expects float32/);
  add('conv1-weight-as-HalfStorage', ckpt({ 'conv1.weight': T([32, 1, 3, 3], new Uint16Array(288), { storage: 'HalfStorage' }) }), CKPT,
    /state_dict entry 'conv1\.weight' is stored as float16 \(torch\.HalfStorage\); the model expects float32/);
  add('conv1-weight-as-BoolStorage', ckpt({ 'conv1.weight': T([32, 1, 3, 3], new Uint8Array(288), { storage: 'BoolStorage' }) }), CKPT,
    /state_dict entry 'conv1\.weight' is stored as bool \(torch\.BoolStorage\); the model expects float32/);
  add('conv1-weight-as-DoubleStorage', ckpt({ 'conv1.weight': T([32, 1, 3, 3], new Float64Array(288)) }), CKPT,
    /state_dict entry 'conv1\.weight' is stored as float64 \(torch\.DoubleStorage\); the model expects float32/);
  add('num-batches-tracked-as-float', ckpt({ 'bn1.num_batches_tracked': T([], Float32Array.of(3)) }), CKPT,
    /state_dict entry 'bn1\.num_batches_tracked' is stored as float32 \(torch\.FloatStorage\); the model expects int64/);
  add('storage-type-not-allowed', ckpt({ 'fc.bias': T([5], new Int8Array(5), { storage: 'QInt8Storage' }) }), PICKLE, /global 'torch\.QInt8Storage' is refused/);
  add('non-tensor-entry', ckpt({ 'conv1.bias': Array(32).fill(F(0)) }), CKPT, /field 'state_dict' holds a non-tensor entry 'conv1\.bias'/);
}

// --- 5. non-finite values -----------------------------------------------------------------------------------

export function nonFiniteCases() {
  const nan = (shape, at) => { const a = new Float32Array(shape.reduce((x, y) => x * y, 1)).fill(0.1); a[at] = NaN; return T(shape, a); };
  const inf = (shape, at, sign = 1) => { const a = new Float32Array(shape.reduce((x, y) => x * y, 1)).fill(1); a[at] = sign * Infinity; return T(shape, a); };
  const slots = cnnAdamSlots();
  slots[20] = inf([32], 3, -1);
  return [
    ['nan-weight', archiveOf(cnnCheckpoint({ state_dict: { ...cnnState(), 'conv1.weight': nan([32, 1, 3, 3], 17) } })),
      /state_dict entry 'conv1\.weight' holds a non-finite value \(NaN at flat index 17\); pass \{ allowNonFinite: true \} to load it anyway/],
    ['inf-running-var', archiveOf(cnnCheckpoint({ state_dict: { ...cnnState(), 'bn3.running_var': inf([64], 5) } })),
      /state_dict entry 'bn3\.running_var' holds a non-finite value \(Infinity at flat index 5\)/],
    ['inf-optimizer-slot', archiveOf(cnnCheckpoint({ optimizer: { ...cnnCheckpoint().optimizer, slots } })),
      /optimizer slot 20 holds a non-finite value \(-Infinity at flat index 3\)/],
    ['nan-plain-state-dict', archiveOf({ ...cnnState(), 'fc.weight': nan([5, 1600], 7999) }),
      /state_dict entry 'fc\.weight' holds a non-finite value \(NaN at flat index 7999\)/],
  ];
}

function nonFinite(add) {
  for (const [name, bytes, message] of nonFiniteCases()) add(name, bytes, CKPT, message);
}

// --- 6. descriptions and optimizer state that lie ------------------------------------------------------------

function descriptions(add) {
  const model = (changes) => archiveOf(cnnCheckpoint({ model: { ...cnnCheckpoint().model, ...changes } }));
  add('description-4096x4096-images', model({ height: 4096, width: 4096 }), CKPT,
    /state_dict entry 'fc\.weight' has shape \[5, 1600\], the model expects \[5, 66846976\]/);
  add('description-250000-classes', model({ num_classes: 250_000 }), CKPT, /field 'model\.num_classes' is 250000, expected 2\.\.100000/);
  add('description-99999-classes', model({ num_classes: 99_999 }), CKPT, /state_dict entry 'fc\.weight' has shape \[5, 1600\], the model expects \[99999, 1600\]/);
  add('description-64-channels', model({ channels: 64 }), CKPT, /state_dict entry 'conv1\.weight' has shape \[32, 1, 3, 3\], the model expects \[32, 64, 3, 3\]/);
  add('description-resnet-depth-998', model({ kind: 'resnet', depth: 998 }), CKPT, /state_dict has 0 residual blocks, a depth-998 ResNet has 498/);
  add('description-resnet-depth-5', model({ kind: 'resnet', depth: 5 }), CKPT, /field 'model\.depth' is 5, expected a ResNet v1 depth 6n\+2/);
  add('description-unknown-kind', model({ kind: 'transformer' }), CKPT, /field 'model\.kind' is 'transformer', expected 'cnn', 'resnet' or 'layers'/);
  add('description-float-height', model({ height: F(28.5) }), CKPT, /field 'model\.height' is missing or not an integer/);

  const opt = (changes) => archiveOf(cnnCheckpoint({ optimizer: { ...cnnCheckpoint().optimizer, ...changes } }));
  const slots = cnnAdamSlots();
  slots[0] = T([1], Float32Array.of(0));
  add('optimizer-slot-shape-1', opt({ slots }), CKPT, /optimizer slot 0 has shape \[1\], its parameter 'conv1\.weight' has \[32, 1, 3, 3\]/);
  add('optimizer-31-slots', opt({ slots: cnnAdamSlots().slice(1) }), CKPT, /optimizer state has 31 slots, adam needs 32 for this model/);
  add('optimizer-slot-int64', opt({ slots: [T([1], BigInt64Array.of(1n)), ...cnnAdamSlots().slice(1)] }), CKPT, /optimizer slot 0 is stored as int64/);
  add('adam-iterations-minus-1', opt({ iterations: -1 }), CKPT, /field 'optimizer\.iterations' is -1, expected an integer >= 0/);
  add('adam-iterations-2pow70', opt({ iterations: 2n ** 70n }), CKPT, /field 'optimizer\.iterations' is 1180591620717411303424, expected an integer >= 0/);
  add('adam-beta1-nan', opt({ beta1: F(NaN) }), CKPT, /field 'optimizer\.beta1' is NaN, expected a number in \[0, 1\)/);
  add('adam-beta2-1', opt({ beta2: F(1) }), CKPT, /field 'optimizer\.beta2' is 1, expected a number in \[0, 1\)/);
  add('learning-rate-inf', opt({ learning_rate: F(Infinity) }), CKPT, /field 'optimizer\.learning_rate' is Infinity, expected a finite number > 0/);
  add('epsilon-zero', opt({ epsilon: F(0) }), CKPT, /field 'optimizer\.epsilon' is 0, expected a finite number > 0/);
  add('optimizer-unknown', opt({ name: 'rmsprop' }), CKPT, /field 'optimizer\.name' is unknown/);
  add('sgd-with-adam-slots', opt({ name: 'sgd', momentum: F(0.9) }), CKPT, /optimizer state has 32 slots, sgd needs 16 for this model/);

  add('format-other', archiveOf(cnnCheckpoint({ format: 'pytorch' })), CKPT, /field 'format' is not 'torchfit-model'/);
  add('version-2', archiveOf(cnnCheckpoint({ version: 2 })), CKPT, /unsupported checkpoint version/);
  add('unknown-field', archiveOf(cnnCheckpoint({ hook: 'x' })), CKPT, /unknown field 'hook'/);
  add('config-not-json', archiveOf(cnnCheckpoint({ config: '{not json' })), CKPT, /field 'config' is not valid JSON/);
  add('config-history-malformed', archiveOf(cnnCheckpoint({ config: JSON.stringify({ metadata: { history: { loss: ['x'] } } }) })), CKPT,
    /metadata\.history is not an object of number arrays/);
  add('state-dict-missing-entry', archiveOf(cnnCheckpoint({ state_dict: (({ 'bn5.running_var': _, ...rest }) => rest)(cnnState()) })), CKPT,
    /state_dict lacks 'bn5\.running_var' \(another architecture\?\)/);
  add('state-dict-extra-entry', archiveOf(cnnCheckpoint({ state_dict: { ...cnnState(), 'fc2.weight': T([2, 2], new Float32Array(4)) } })), CKPT,
    /state_dict has an entry the model lacks: 'fc2\.weight'/);
}

/**
 * The whole corpus: [{ name, class, bytes, expected: { type, code }, message: RegExp }].
 * `large` adds the 35 MB file of 50,000 entries aliasing one 32 MB entry.
 *
 * @example
 * for (const attack of checkpointAttacks({ large: false })) writeFileSync(join(dir, `${attack.name}.pt`), attack.bytes);
 */
export function checkpointAttacks({ large = true } = {}) {
  const out = [];
  const group = (cls, fn, options) => fn((name, bytes, expected, message) => out.push({ name, class: cls, bytes, expected, message }), options);
  group('differential zip views', differential);
  group('overlapping and aliased entries', overlapping, { large });
  group('pickle depth, type tags, memo', pickleAttacks);
  group('tensors against storages and dtypes', tensorAttacks);
  group('non-finite values', nonFinite);
  group('descriptions and optimizer state', descriptions);
  return out;
}

/** The valid checkpoint every attack starts from (it must load). */
export function baseCheckpoint() {
  return zipLayout(base().entries).bytes;
}
