// Data: .npy files, the data set, splits and labels, image folders.
import {
  loadNpy, saveNpy, parseNpy, encodeNpy, loadDataset, trainTestSplit, notebookSplit, takeRows, toCategorical,
  labelsToZeroBased, loadImageFolder, readTorchArchive,
  type NdArray, type NpyValue, type Dataset, type ImageFolder, type SplitIndices,
} from 'torchfit';

export async function usage(): Promise<void> {
  const value: NpyValue = await loadNpy('x.npy', { allowPickle: false, pickle: { maxDepth: 10 } });
  if (typeof value === 'object' && value !== null && 'dtype' in value && 'shape' in value) {
    const array = value as NdArray;
    const rows: number = array.shape[0]!;
    void rows;
  }
  await saveNpy('y.npy', { dtype: 'float32', shape: [2], data: new Float32Array(2) });
  await saveNpy('d.npy', { features: { dtype: 'uint8', shape: [1], data: new Uint8Array(1) }, names: ['a', 'b'] });
  const bytes: Buffer = encodeNpy({ dtype: 'int32', shape: [3], data: new Int32Array(3) });
  parseNpy(bytes, 'mem.npy');

  const data: Dataset = await loadDataset('data/fashion_mnist_dataset_train.npy');
  const split: SplitIndices = trainTestSplit(data.features.shape[0]!, { testSize: 0.2, randomState: 0 });
  const { train, test, val } = notebookSplit(60000);
  const x: NdArray = takeRows(data.features, split.train);
  const y = labelsToZeroBased(takeRows(data.target, train));
  const oneHot: NdArray = toCategorical(y, 5);
  void [test, val, x, oneHot];

  const folder: ImageFolder = await loadImageFolder('images', { size: [32, 32], channels: 3, onError: 'skip' });
  const names: string[] = folder.classNames;
  void names;
  readTorchArchive(new Uint8Array(0), 'model.pt');

  // @ts-expect-error testSize is a number or a count, not a string
  trainTestSplit(10, { testSize: '0.2' });
  // @ts-expect-error an image folder takes 1 or 3 channels
  await loadImageFolder('images', { size: [32, 32], channels: 2 });
  // @ts-expect-error size is [height, width]
  await loadImageFolder('images', { size: 32 });
}

// @ts-expect-error the unpickler is internal
import { unpickle } from 'torchfit';
// @ts-expect-error the random generator behind trainTestSplit is internal
import { RandomState } from 'torchfit';
void unpickle; void RandomState;
