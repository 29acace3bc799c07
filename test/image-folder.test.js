// loadImageFolder: a folder of PNG and JPEG files written here from dataset images reads back
// (PNG exactly, JPEG within its loss), class folders in torchvision's order, grey and RGB,
// corrupt and oversized files refused with a typed error naming them, or skipped and counted.
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

import { ImageFolderError, InvalidOptionError, loadImageFolder } from '../dist/index.js';
import { realImages } from './support/data.js';

const root = mkdtempSync(join(tmpdir(), 'torchfit-folder-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));

// Class folders named so that code point order (upper case first) differs from a locale sort.
const CLASSES = ['Zebra', 'apple', 'banana'];
const PER_CLASS = 4;

/** Grey image k of the real data as 8-bit levels. */
const levels = (x, k) => Uint8Array.from(x.data.subarray(k * 784, (k + 1) * 784), (v) => Math.round(v * 255));

/** Image k tinted (r, g, b) as 8-bit RGB, interleaved. */
function tinted(x, k, colour) {
  const grey = levels(x, k);
  const out = new Uint8Array(784 * 3);
  for (let p = 0; p < 784; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(grey[p] * colour[c]);
  return out;
}

/** A small PNG whose header claims width x height (its pixel data is a few bytes). */
function pngHeaderOnly(width, height) {
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;  // bit depth
  ihdr[9] = 0;  // grey
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

let data;
const folders = {};
test.before(async () => {
  data = await realImages(3 * PER_CLASS * 2);
  // grey/: grey PNGs (even images) and JPEGs (odd), plus a file that is not an image.
  // colour/: RGB PNGs. Image j of class c is dataset image c * PER_CLASS + j.
  for (const kind of ['grey', 'colour']) {
    folders[kind] = join(root, kind);
    for (let c = 0; c < CLASSES.length; c++) {
      const dir = join(folders[kind], CLASSES[c]);
      mkdirSync(dir, { recursive: true });
      for (let j = 0; j < PER_CLASS; j++) {
        const k = c * PER_CLASS + j;
        if (kind === 'grey') {
          const image = sharp(Buffer.from(levels(data.x, k)), { raw: { width: 28, height: 28, channels: 1 } });
          if (j % 2 === 0) await image.png().toFile(join(dir, `img${j}.png`));
          else await image.jpeg({ quality: 95 }).toFile(join(dir, `img${j}.JPG`));
        } else {
          await sharp(Buffer.from(tinted(data.x, k, [1, 0.5, 0.25])), { raw: { width: 28, height: 28, channels: 3 } }).png().toFile(join(dir, `img${j}.png`));
        }
      }
      writeFileSync(join(dir, 'notes.txt'), 'not an image');
    }
  }
});

test('class folders in code point order (as Python sorts them), labels by folder, grey PNGs exact and JPEGs within their loss', async (t) => {
  const folder = await loadImageFolder(folders.grey, { size: [28, 28], channels: 1 });
  t.deepEqual(folder.classNames, ['Zebra', 'apple', 'banana']);
  t.deepEqual(folder.x.shape, [12, 28, 28, 1]);
  t.is(folder.x.dtype, 'float32');
  t.deepEqual([...folder.y], [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  t.deepEqual(folder.files.slice(0, 4), ['Zebra/img0.png', 'Zebra/img1.JPG', 'Zebra/img2.png', 'Zebra/img3.JPG']);
  t.is(folder.skipped, 0);
  let jpegWorst = 0;
  let jpegSum = 0;
  for (let k = 0; k < 12; k++) {
    const got = folder.x.data.subarray(k * 784, (k + 1) * 784);
    const want = levels(data.x, k);
    if (k % 2 === 0) {
      t.deepEqual(Array.from(got, (v) => Math.round(v * 255)), Array.from(want), `PNG ${folder.files[k]} exact`);
      t.true(got.every((v, p) => v === Math.fround(want[p] / 255)));
    } else {
      for (let p = 0; p < 784; p++) {
        const d = Math.abs(got[p] * 255 - want[p]);
        jpegWorst = Math.max(jpegWorst, d);
        jpegSum += d;
      }
    }
  }
  const jpegMean = jpegSum / (6 * 784);
  t.log(`JPEG (quality 95) against the source levels: mean |error| ${jpegMean.toFixed(2)}, max ${jpegWorst.toFixed(1)} of 255`);
  t.true(jpegMean < 2, `mean JPEG error ${jpegMean}`);
  t.true(jpegWorst <= 16, `max JPEG error ${jpegWorst}`);
});

test('channels 3 of grey files repeats the level; channels 3 of RGB files is exact; channels 1 of RGB files is a luma', async (t) => {
  const greyAsRgb = await loadImageFolder(folders.grey, { size: [28, 28], channels: 3, classes: ['apple'] });
  t.deepEqual(greyAsRgb.x.shape, [4, 28, 28, 3]);
  const want0 = levels(data.x, 4);  // first image of 'apple' (a PNG)
  t.deepEqual(Array.from({ length: 784 * 3 }, (_, i) => Math.round(greyAsRgb.x.data[i] * 255)), Array.from({ length: 784 * 3 }, (_, i) => want0[Math.floor(i / 3)]));

  const colour = await loadImageFolder(folders.colour, { size: [28, 28] });
  t.deepEqual(colour.x.shape, [12, 28, 28, 3]);
  const want = tinted(data.x, 5, [1, 0.5, 0.25]);
  t.deepEqual(Array.from(colour.x.data.subarray(5 * 2352, 6 * 2352), (v) => Math.round(v * 255)), Array.from(want));

  const luma = await loadImageFolder(folders.colour, { size: [28, 28], channels: 1 });
  t.deepEqual(luma.x.shape, [12, 28, 28, 1]);
  // Rec. 601-like weights of (1, 0.5, 0.25) x level: about 0.62 x level.
  const grey = levels(data.x, 5);
  let worst = 0;
  for (let p = 0; p < 784; p++) worst = Math.max(worst, Math.abs(luma.x.data[5 * 784 + p] * 255 - 0.62 * grey[p]));
  t.true(worst < 12, `grey of a tinted image within 12 levels of 0.62 x level (${worst})`);
});

test('resizing to another size and the classes option (its order gives the labels)', async (t) => {
  const small = await loadImageFolder(folders.colour, { size: [14, 20], classes: ['banana', 'Zebra'] });
  t.deepEqual(small.x.shape, [8, 14, 20, 3]);
  t.deepEqual(small.classNames, ['banana', 'Zebra']);
  t.deepEqual([...small.y], [0, 0, 0, 0, 1, 1, 1, 1]);
  t.true(small.files[0].startsWith('banana'));
  t.true(small.x.data.every((v) => v >= 0 && v <= 1));
  const error = await t.throwsAsync(loadImageFolder(folders.colour, { size: [14, 14], classes: ['banana', 'cherry'] }), { instanceOf: InvalidOptionError });
  t.is(error.option, 'classes');
  t.regex(error.message, /it has Zebra, apple, banana\), received "cherry"$/);
});

test('a corrupt file: ImageFolderError naming it, or skipped and counted with onError: skip', async (t) => {
  const dir = join(root, 'corrupt');
  for (const c of ['cats', 'dogs']) {
    mkdirSync(join(dir, c), { recursive: true });
    for (let j = 0; j < 3; j++) await sharp(Buffer.from(levels(data.x, j)), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(dir, c, `${j}.png`));
  }
  const bad = join(dir, 'dogs', '1b-broken.png');
  const png = await sharp(Buffer.from(levels(data.x, 0)), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
  writeFileSync(bad, png.subarray(0, 60));  // cut inside the pixel data
  const error = await t.throwsAsync(loadImageFolder(dir, { size: [28, 28], channels: 1 }), { instanceOf: ImageFolderError });
  t.is(error.code, 'ERR_IMAGE_DECODE');
  t.is(error.file, bad);
  t.true(error.message.startsWith(`${bad}: cannot read this image: `), error.message);
  const skipped = await loadImageFolder(dir, { size: [28, 28], channels: 1, onError: 'skip' });
  t.is(skipped.skipped, 1);
  t.deepEqual(skipped.x.shape, [6, 28, 28, 1]);
  t.deepEqual([...skipped.y], [0, 0, 0, 1, 1, 1]);
  t.false(skipped.files.includes('dogs/1b-broken.png'));
  t.deepEqual(Array.from(skipped.x.data.subarray(4 * 784, 5 * 784), (v) => Math.round(v * 255)), Array.from(levels(data.x, 1)), 'the file after the skipped one in its place');
});

test('a file declaring absurd dimensions is refused before decoding (maxInputPixels)', async (t) => {
  const dir = join(root, 'huge');
  mkdirSync(join(dir, 'a'), { recursive: true });
  writeFileSync(join(dir, 'a', 'huge.png'), pngHeaderOnly(60_000, 60_000));
  const error = await t.throwsAsync(loadImageFolder(dir, { size: [28, 28] }), { instanceOf: ImageFolderError });
  t.is(error.code, 'ERR_IMAGE_DECODE');
  t.regex(error.message, /: cannot read this image: Input image exceeds pixel limit$/);
  const rss = process.memoryUsage().rss;
  t.true(rss < 2 ** 31, `no gigabytes allocated (rss ${rss})`);
});

test('folder problems: no class folders, an empty class folder, bad options', async (t) => {
  const empty = join(root, 'empty');
  mkdirSync(join(empty, 'x'), { recursive: true });
  writeFileSync(join(empty, 'x', 'readme.txt'), '');
  let error = await t.throwsAsync(loadImageFolder(empty, { size: [8, 8] }), { instanceOf: ImageFolderError });
  t.is(error.code, 'ERR_IMAGE_FOLDER');
  t.is(error.file, join(empty, 'x'));
  error = await t.throwsAsync(loadImageFolder(join(empty, 'x'), { size: [8, 8] }), { instanceOf: ImageFolderError });
  t.is(error.message, `${join(empty, 'x')}: no class folders (expected dir/<class name>/<image files>)`);
  error = await t.throwsAsync(loadImageFolder(join(root, 'missing'), { size: [8, 8] }), { instanceOf: ImageFolderError });
  t.is(error.code, 'ERR_IMAGE_FOLDER');
  error = await t.throwsAsync(loadImageFolder(folders.grey, { size: [0, 8] }), { instanceOf: InvalidOptionError });
  t.is(error.message, 'Invalid option size: expected [height, width] with integers from 1 to 4096, received an array of length 2');
  error = await t.throwsAsync(loadImageFolder(folders.grey, { size: [8, 8], channels: 4 }), { instanceOf: InvalidOptionError });
  t.is(error.message, 'Invalid option channels: expected 1 (grey) or 3 (RGB), received 4');
  error = await t.throwsAsync(loadImageFolder(folders.grey, { size: [8, 8], onError: 'ignore' }), { instanceOf: InvalidOptionError });
  t.is(error.option, 'onError');
});

test('torchfit train --images DIR trains on the folder and writes the usual report', async (t) => {
  t.timeout(300_000);
  const { spawnSync } = await import('node:child_process');
  const { existsSync, readFileSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const cliPath = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const dir = join(root, 'cli-folder');
  const big = await realImages(90);
  for (const [c, name] of ['shirts', 'shoes', 'bags'].entries()) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let j = 0; j < 30; j++) {
      await sharp(Buffer.from(tinted(big.x, c * 30 + j, [0.9, 0.6, 0.3])), { raw: { width: 28, height: 28, channels: 3 } }).png().toFile(join(dir, name, `${j}.png`));
    }
  }
  const out = join(root, 'cli-run');
  const r = spawnSync(process.execPath, [cliPath, 'train', '--images', dir, '--image-size', '16x16', '--model', 'cnn', '--epochs', '1',
    '--batch-size', '8', '--threads', '1', '--verbose', '0', '--out', out], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /Loaded .*cli-folder in [\d.]+ s: features \(90, 16, 16, 3\), target \(90\)/);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  t.true(html.includes('90 colour images (3 channels) of 16 × 16 pixels in 3 classes'));
  for (const name of ['shirts', 'shoes', 'bags']) t.true(html.includes(name));
  t.true(existsSync(join(out, 'cnn.pt')));
  const usage = spawnSync(process.execPath, [cliPath, 'train', '--images', dir, '--image-size', '16'], { encoding: 'utf8' });
  t.is(usage.status, 2);
  t.regex(usage.stderr, /--image-size expects HEIGHTxWIDTH from 1x1 to 4096x4096, got '16'/);
});
