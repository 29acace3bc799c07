/**
 * A folder of image files as training data: dir/<class name>/*.{png,jpg,jpeg,webp}, one
 * label per class folder (class folders sorted by name, as torchvision's ImageFolder
 * sorts them), decoded and resized by sharp (libvips) a few files at a time.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';

import { described, ImageFolderError, InvalidOptionError } from '../errors.js';
import type { NdArray } from './ndarray.js';

/** File extensions read (compared without case). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'] as const;

export interface ImageFolderOptions {
  /** [height, width] every image is resized to (stretched, as torchvision's Resize((h, w))). */
  size: [number, number];
  /** 3 (default): RGB, alpha dropped; 1: grey levels. */
  channels?: 1 | 3;
  /** Class folders to read, in label order (default: every sub-folder, sorted by name). */
  classes?: readonly string[];
  /** 'throw' (default): an unreadable file fails the call naming it; 'skip': it is left out and counted. */
  onError?: 'throw' | 'skip';
  /** Files decoded at once (default 4). */
  concurrency?: number;
  /**
   * Largest width x height a file may declare (default 40,000,000, a 40-megapixel photo):
   * larger files are refused before their pixels are decoded, so a crafted header cannot
   * make the decoder allocate gigabytes.
   */
  maxInputPixels?: number;
}

export interface ImageFolder {
  /** (N, height, width, channels) float32 in [0, 1], channels_last. */
  x: NdArray;
  /** Class index of each image, 0-based, in classNames' order. */
  y: Int32Array;
  classNames: string[];
  /** Path of each image read, relative to dir, in x's order. */
  files: string[];
  /** Files left out with onError 'skip'. */
  skipped: number;
}

const MAX_SIDE = 4096;

/**
 * Reads `dir/<class>/**\/*.{png,jpg,jpeg,webp}` into one array. Class folders are sorted by
 * name (code point order, as Python's sorted() that torchvision uses); files in a class
 * folder and its sub-folders likewise. Images are converted to RGB (or grey with
 * `channels: 1`), alpha dropped, resized to `size` with sharp's default Lanczos kernel
 * (a file already of that size is not resampled), and scaled to [0, 1].
 *
 * @example
 * const { x, y, classNames } = await loadImageFolder('photos', { size: [64, 64] });
 * const { model } = await trainModel({ model: { kind: 'resnet', depth: 20 }, train: { x, y } });
 */
export async function loadImageFolder(dir: string, options: ImageFolderOptions): Promise<ImageFolder> {
  if (typeof dir !== 'string' || dir.length === 0) throw new InvalidOptionError('dir', 'a folder path', dir);
  const o = resolveFolderOptions(options);
  const classNames = await classFolders(dir, o.classes);
  const entries: { file: string; label: number }[] = [];
  for (let label = 0; label < classNames.length; label++) {
    const files = await imageFiles(join(dir, classNames[label]!));
    if (files.length === 0) {
      throw new ImageFolderError('ERR_IMAGE_FOLDER', join(dir, classNames[label]!), `no ${IMAGE_EXTENSIONS.join(', ')} files in class folder '${classNames[label]}'`);
    }
    for (const file of files) entries.push({ file, label });
  }

  const sharp = await loadSharp();
  const [h, w] = o.size;
  const c = o.channels;
  const pixels = h * w * c;
  const x = new Float32Array(entries.length * pixels);
  const ok = new Uint8Array(entries.length);
  let next = 0;
  let failure: ImageFolderError | undefined;
  const decodeOne = async (i: number) => {
    const { file } = entries[i]!;
    let image = sharp(file, { limitInputPixels: o.maxInputPixels, sequentialRead: true, failOn: 'error' });
    image = c === 1 ? image.removeAlpha().grayscale() : image.removeAlpha().toColourspace('srgb');
    const { data, info } = await image.resize(w, h, { fit: 'fill' }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.width !== w || info.height !== h || info.channels !== c || data.length !== pixels) {
      throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${w}x${h}x${c}`);
    }
    const out = x.subarray(i * pixels, (i + 1) * pixels);
    for (let k = 0; k < pixels; k++) out[k] = data[k]! / 255;
    ok[i] = 1;
  };
  // A few decodes in flight at once: sharp runs each on libuv's pool, memory stays bounded.
  const worker = async () => {
    while (failure === undefined && next < entries.length) {
      const i = next++;
      try {
        await decodeOne(i);
      } catch (error) {
        if (o.onError === 'skip') continue;
        failure ??= new ImageFolderError('ERR_IMAGE_DECODE', entries[i]!.file, `cannot read this image: ${(error as Error).message}`, { cause: error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, entries.length) }, worker));
  if (failure) throw failure;

  const kept = entries.flatMap((e, i) => (ok[i] ? [i] : []));
  if (kept.length === 0) throw new ImageFolderError('ERR_IMAGE_FOLDER', dir, `none of its ${entries.length} image files could be read`);
  const data = kept.length === entries.length ? x : new Float32Array(kept.length * pixels);
  if (data !== x) kept.forEach((i, j) => data.set(x.subarray(i * pixels, (i + 1) * pixels), j * pixels));
  return {
    x: { dtype: 'float32', shape: [kept.length, h, w, c], data },
    y: Int32Array.from(kept, (i) => entries[i]!.label),
    classNames,
    files: kept.map((i) => relative(dir, entries[i]!.file)),
    skipped: entries.length - kept.length,
  };
}

interface ResolvedFolderOptions {
  size: [number, number];
  channels: 1 | 3;
  classes: readonly string[] | undefined;
  onError: 'throw' | 'skip';
  concurrency: number;
  maxInputPixels: number;
}

function resolveFolderOptions(options: ImageFolderOptions): ResolvedFolderOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', '{ size: [height, width], channels?, classes?, onError? }', options);
  const known = ['size', 'channels', 'classes', 'onError', 'concurrency', 'maxInputPixels'];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new InvalidOptionError(key, `one of ${known.join(', ')}`, described(`unknown option '${key}'`));
  }
  const size = options.size;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && v >= 1 && v <= MAX_SIDE)) {
    throw new InvalidOptionError('size', `[height, width] with integers from 1 to ${MAX_SIDE}`, size);
  }
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new InvalidOptionError('channels', '1 (grey) or 3 (RGB)', channels);
  const classes = options.classes;
  if (classes !== undefined) {
    if (!Array.isArray(classes) || classes.length === 0 || classes.some((n) => typeof n !== 'string' || !isPlainName(n))) {
      throw new InvalidOptionError('classes', 'a non-empty array of class folder names (no path separators)', classes);
    }
    if (new Set(classes).size !== classes.length) throw new InvalidOptionError('classes', 'distinct class names', classes);
  }
  const onError = options.onError ?? 'throw';
  if (onError !== 'throw' && onError !== 'skip') throw new InvalidOptionError('onError', "'throw' or 'skip'", onError);
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new InvalidOptionError('concurrency', 'an integer from 1 to 64', concurrency);
  const maxInputPixels = options.maxInputPixels ?? 40_000_000;
  if (!Number.isInteger(maxInputPixels) || maxInputPixels < 1 || maxInputPixels > 0x3fff * 0x3fff) {
    throw new InvalidOptionError('maxInputPixels', `an integer from 1 to ${0x3fff * 0x3fff}`, maxInputPixels);
  }
  return { size: [size[0], size[1]], channels, classes, onError, concurrency, maxInputPixels };
}

const isPlainName = (name: string) => name.length > 0 && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);

/** Python's sorted() on str: by code point (JavaScript's default compares UTF-16 units). */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

async function listDir(path: string): Promise<Dirent[]> {
  try {
    return await readdir(path, { withFileTypes: true });
  } catch (error) {
    throw new ImageFolderError('ERR_IMAGE_FOLDER', path, `cannot list this folder: ${(error as Error).message}`, { cause: error });
  }
}

// A symbolic link counts as what it points to (torchvision follows links too).
async function isDirectory(parent: string, entry: Dirent): Promise<boolean> {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  return stat(join(parent, entry.name)).then((s) => s.isDirectory(), () => false);
}

async function classFolders(dir: string, wanted: readonly string[] | undefined): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await listDir(dir)) if (await isDirectory(dir, entry)) found.push(entry.name);
  if (wanted !== undefined) {
    const missing = wanted.filter((name) => !found.includes(name));
    if (missing.length > 0) {
      throw new InvalidOptionError('classes', `names of sub-folders of ${dir} (it has ${found.length > 0 ? found.sort(byCodePoint).join(', ') : 'none'})`, missing.length === 1 ? missing[0] : missing);
    }
    return [...wanted];
  }
  if (found.length === 0) throw new ImageFolderError('ERR_IMAGE_FOLDER', dir, 'no class folders (expected dir/<class name>/<image files>)');
  return found.sort(byCodePoint);
}

// Image files under a class folder, depth first, each level sorted; a folder reached twice
// through links is read once.
async function imageFiles(folder: string, seen = new Set<string>()): Promise<string[]> {
  const real = await stat(folder).then((s) => `${s.dev}:${s.ino}`, () => folder);
  if (seen.has(real)) return [];
  seen.add(real);
  const entries = (await listDir(folder)).sort((a, b) => byCodePoint(a.name, b.name));
  const out: string[] = [];
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (await isDirectory(folder, entry)) {
      out.push(...(await imageFiles(path, seen)));
    } else if (IMAGE_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext))) {
      out.push(path);
    }
  }
  return out;
}

type SharpFactory = typeof import('sharp').default;

let sharpModule: SharpFactory | undefined;
async function loadSharp(): Promise<SharpFactory> {
  if (sharpModule) return sharpModule;
  try {
    sharpModule = (await import('sharp')).default;
  } catch (error) {
    throw new ImageFolderError('ERR_IMAGE_FOLDER', 'sharp', `the image decoder could not load (${(error as Error).message}); reinstall torchfit's dependencies (npm install), or, after an install with --omit=optional (which also leaves out sharp's platform binaries), run: npm install --include=optional sharp`, { cause: error });
  }
  return sharpModule;
}
