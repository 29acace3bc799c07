/**
 * The data layer: .npy files (with a restricted unpickler for numpy's object
 * arrays), IDX files, the Fashion-MNIST dataset files, scikit-learn-exact
 * splitting and label helpers.
 *
 * Internal: this folder's surface for the tests and scripts of this repository. Users import
 * the package entry (src/index.ts), which picks the public names; package.json's "exports"
 * does not reach this file.
 */
export type { DType, NdArray, ObjectArray, TypedArray } from './ndarray.js';
export { isNdArray, shapeSize } from './ndarray.js';
export { loadNpy, parseNpy, type NpyReadOptions, type NpyValue } from './npy-read.js';
export { encodeNpy, encodeNpyChunks, saveNpy, type NpySaveValue } from './npy-write.js';
export { readTorchArchive } from './torch-file.js';
export { unpickle, unpickleTop, type PickleDict, type PickleValue, type UnpickleOptions, type UnpickledTop } from './pickle.js';
export { pickleChunks, type PicklableValue, type PickleWriteOptions } from './pickle-write.js';
export { MT19937, RandomState } from './mt19937.js';
export { notebookSplit, trainTestSplit, type NotebookSplit, type SplitIndices, type TrainTestSplitOptions } from './split.js';
export { takeRows } from './rows.js';
export { labelsToOneBased, labelsToZeroBased, toCategorical, type LabelsInput } from './categorical.js';
export { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdx, readIdx, readIdxImages, readIdxLabels } from './idx.js';
export {
  buildDataset, loadDataset, DATASET_FILES, DEFAULT_GROUPING, DEFAULT_SOURCE_DIR, FASHION_MNIST_CLASSES,
  type BuildDatasetOptions, type BuildDatasetResult, type ClassGroup, type Dataset,
} from './dataset.js';
export { resolveLayout, type DataFormat } from './image-layout.js';
export { loadImageFolder, IMAGE_EXTENSIONS, type ImageFolder, type ImageFolderOptions } from './images.js';
