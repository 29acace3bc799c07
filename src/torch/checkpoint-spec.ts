/**
 * What a checkpoint says about its architecture, turned into the native model
 * description, and checked against the shapes of its state_dict before the
 * addon builds anything. The shapes are backed by bytes actually in the file,
 * so a description that agrees with them cannot ask for more memory than the
 * file honestly holds (a 4096x4096 CNN or 250,000 classes with a 28x28
 * state_dict are refused here, not after a gigabyte has been allocated).
 *
 * Every model kind has its one branch in each switch below; nothing else in the
 * loading path knows the kinds.
 */
import { CheckpointError } from '../errors.js';
import type { PickleValue } from '../data/pickle.js';
import { isDict } from './checkpoint-values.js';
import { layersSpecOfCheckpoint } from '../models/checkpoint-spec.js';
import { isResNetDepth, MAX_RESNET_DEPTH, RESNET_DEPTH_EXPECTED, resnetBlocks } from '../models/presets.js';
import type { NativeModelSpec } from './native.js';

/** Tensor name -> shape, for the entries of a state_dict. */
export type ShapeTable = ReadonlyMap<string, readonly number[]>;

const LIMITS = {
  depth: [0, MAX_RESNET_DEPTH],
  numClasses: [2, 100_000],
  channels: [1, 64],
  height: [8, 4096],
  width: [8, 4096],
} as const;

/**
 * The checkpoint's `model` dict ({kind, depth, num_classes, channels, height,
 * width}) as the native model description, refused unless it lies within the
 * limits and agrees with the state_dict's shapes.
 *
 * @example
 * const spec = modelSpecFromCheckpoint(checkpoint.model, shapesOf(checkpoint.state_dict), 'cnn.pt');
 * spec.kind; // 'cnn'
 */
export function modelSpecFromCheckpoint(model: PickleValue | undefined, shapes: ShapeTable, file: string): NativeModelSpec {
  if (!isDict(model)) throw new CheckpointError(file, "field 'model' is not a dict");
  const kind = model.kind;
  const int = (key: string, name: keyof typeof LIMITS) => field(model, key, LIMITS[name], file);
  let spec: NativeModelSpec;
  switch (kind) {
    case 'cnn':
    case 'resnet':
      spec = {
        kind, depth: int('depth', 'depth'), numClasses: int('num_classes', 'numClasses'), channels: int('channels', 'channels'),
        height: int('height', 'height'), width: int('width', 'width'), bnMomentum: bnMomentumField(model, file),
      };
      break;
    case 'layers': {
      // The description is resolved like an option; it may not hold more parameters than the file's tensors.
      let stored = 0;
      for (const shape of shapes.values()) stored += shape.reduce((a, b) => a * b, 1);
      spec = layersSpecOfCheckpoint(model, stored, file);
      break;
    }
    default:
      throw new CheckpointError(file, `field 'model.kind' is ${typeof kind === 'string' ? `'${clip(kind)}'` : 'missing'}, expected 'cnn', 'resnet' or 'layers'`);
  }
  checkArchitecture(spec, shapes, file);
  return spec;
}

/**
 * Refuses a description whose size-determining tensors (input channels, class
 * count, the dense layer's width, the number of residual blocks) differ from the
 * state_dict's. The native restore then compares every name, shape and dtype.
 *
 * @example
 * checkArchitecture({ kind: 'cnn', depth: 0, numClasses: 5, channels: 1, height: 28, width: 28 }, shapes, 'cnn.pt');
 */
export function checkArchitecture(spec: NativeModelSpec, shapes: ShapeTable, file: string): void {
  const expect = (name: string, shape: number[]) => {
    const got = shapes.get(name);
    if (got === undefined) throw new CheckpointError(file, `state_dict lacks '${name}' (another architecture?)`);
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(file, `state_dict entry '${name}' has shape [${got.join(', ')}], the model expects [${shape.join(', ')}]`);
    }
  };
  switch (spec.kind) {
    case 'cnn': {
      // conv 3x3 valid, pool 2, conv 3x3 valid, pool 2 (integer division as the native model does).
      const side = (n: number) => Math.trunc((Math.trunc((n - 2) / 2) - 2) / 2);
      const flat = 64 * side(spec.height) * side(spec.width);
      expect('conv1.weight', [32, spec.channels, 3, 3]);
      expect('fc.weight', [spec.numClasses, flat]);
      expect('bn5.weight', [flat]);
      return;
    }
    case 'resnet': {
      if (!isResNetDepth(spec.depth)) throw new CheckpointError(file, `field 'model.depth' is ${spec.depth}, expected ${RESNET_DEPTH_EXPECTED}`);
      const blocks = resnetBlocks(spec.depth);
      const stacks = new Set<number>();
      for (const name of shapes.keys()) {
        const m = /^stacks\.(\d{1,6})\./.exec(name);
        if (m) stacks.add(Number(m[1]));
      }
      if (stacks.size !== 3 * blocks || [...stacks].some((i) => i >= 3 * blocks)) {
        throw new CheckpointError(file, `state_dict has ${stacks.size} residual blocks, a depth-${spec.depth} ResNet has ${3 * blocks}`);
      }
      // Two stride-2 stages halve the image (rounding up) when there are blocks; 64 filters at the end.
      const half = (n: number) => Math.ceil(n / 2);
      const [channels, h, w] = blocks === 0 ? [16, spec.height, spec.width] : [64, half(half(spec.height)), half(half(spec.width))];
      expect('stem.conv.weight', [16, spec.channels, 3, 3]);
      expect('fc.weight', [spec.numClasses, channels * h * w]);
      return;
    }
    case 'layers':
      // Bounded by the stored values when it was read; the native restore compares every name and shape.
      return;
    default:
      throw new CheckpointError(file, `no shape check for model kind '${String((spec as { kind: unknown }).kind)}'`);
  }
}

function field(model: Record<string, PickleValue>, key: string, [lo, hi]: readonly [number, number], file: string): number {
  const v = model[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new CheckpointError(file, `field 'model.${key}' is missing or not an integer`);
  if (v < lo || v > hi) throw new CheckpointError(file, `field 'model.${key}' is ${v}, expected ${lo}..${hi}`);
  return v;
}

/** The presets' BatchNorm momentum, PyTorch's terms, in (0, 1]; files written before it existed: Keras's default (0.01). */
function bnMomentumField(model: Record<string, PickleValue>, file: string): number {
  const v = model.bn_momentum;
  if (v === undefined) return 0.01;
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw new CheckpointError(file, "field 'model.bn_momentum' is not a number in (0, 1]");
  return v;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
