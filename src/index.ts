/**
 * torchfit: train the Fashion-MNIST notebook's CNN and ResNet (and any ResNet v1
 * depth) from Node.js on libtorch, on CPU or CUDA, and report on them.
 */
export * from './errors.js';
export * from './data/index.js';
export * from './torch/index.js';
export * from './models/index.js';
export * from './report/index.js';
// Training data options and warnings (validationSplit, classWeight, sampleWeight, labels, onWarning).
export type { TrainWarning, TrainWarningCode } from './torch/warnings.js';
export type { ClassWeight, SampleWeights } from './torch/sample-weights.js';
export type { LabelArray } from './torch/inputs.js';
