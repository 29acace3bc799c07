/**
 * `torchfit train --images DIR`: an image folder in the shape of the notebook's dataset
 * (features, labels 1..C, class names), so the rest of the run is the notebook's.
 */
import type { Dataset } from '../data/dataset.js';
import { loadImageFolder } from '../data/images.js';

export interface ImageFolderSource {
  dir: string;
  size: [number, number];
  channels: 1 | 3;
}

/** Reads the folder (unreadable files are skipped and counted, not fatal, for a whole-folder run). */
export async function imageFolderDataset(source: ImageFolderSource, log: (line: string) => void): Promise<Dataset> {
  const folder = await loadImageFolder(source.dir, { size: source.size, channels: source.channels, onError: 'skip' });
  if (folder.skipped > 0) log(`Skipped ${folder.skipped} unreadable file(s) in ${source.dir}`);
  return {
    features: folder.x,
    target: { dtype: 'float64', shape: [folder.y.length], data: Float64Array.from(folder.y, (v) => v + 1) },
    classNames: folder.classNames,
  };
}
