/**
 * torchfit: train the Fashion-MNIST notebook's CNN and ResNet (and any ResNet v1
 * depth) from Node.js on libtorch, on CPU or CUDA, and report on them.
 */
export * from './errors.js';
export * from './data/index.js';
export * from './torch/index.js';
export * from './models/index.js';
export * from './report/index.js';
// Training control: Keras's callbacks as data (src/torch/callbacks.ts) and control.stop().
export {
  csvLogger, earlyStopping, modelCheckpoint, reduceLROnPlateau,
  type Callback, type CsvLoggerOptions, type ModelCheckpointOptions, type Monitor, type MonitorMode, type ReduceLROnPlateauOptions,
} from './torch/callbacks.js';
export type { TrainControl } from './torch/types.js';
