export * from './layers.js';
export { resolveLayers, shapeText, windowOutput, type ResolvedModel, type ResolvedNode } from './resolve.js';
export { cnnLayers, resnetLayers } from './presets.js';
export { describeModel, type DescribeOptions, type ModelDescription, type ModelKind } from './describe.js';
export { layerConfigText, summaryRows } from './summary.js';
export { pytorchSource, type PytorchSourceOptions } from './pytorch.js';
