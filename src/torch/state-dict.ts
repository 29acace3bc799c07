/**
 * A plain PyTorch state_dict (what `torch.save(model.state_dict(), path)` writes
 * from the Python reference port): the architecture is read from its keys and
 * shapes, whose names follow our modules (the Python port's).
 */
import { CheckpointError } from '../errors.js';
import type { PickleValue } from '../data/pickle.js';
import { checkArchitecture } from './checkpoint-spec.js';
import { shapeTable, toEntries, vetState } from './checkpoint-state.js';
import { asTensor, isDict } from './checkpoint-values.js';
import type { ReadOptions, RestorePlan } from './checkpoint-read.js';
import { checkImageSizeFor } from './image-size.js';
import type { NativeModelSpec } from './native.js';

/**
 * `conv1.weight` means the notebook's CNN, `stem.conv.weight` a ResNet v1 whose
 * depth is 2 + 2 x the number of residual blocks (`stacks.N`). The image size
 * cannot be told from the weights alone: `imageSize` (default 28x28) must agree
 * with the dense layer's width, which is checked before anything is built.
 *
 * @example
 * const { spec } = plainStateDict(readTorchArchive(bytes, path), path, { imageSize: [28, 28], allowNonFinite: false });
 * spec.kind; // 'cnn'
 */
export function plainStateDict(content: PickleValue, file: string, options: ReadOptions): RestorePlan {
  const dict = unwrap(content);
  if (dict === undefined) {
    throw new CheckpointError(file, 'expected a state_dict (a dict of tensors) or torchfit\'s checkpoint dict at the top level');
  }
  const tensors = vetState(dict, file, options.allowNonFinite, (name) => `state_dict entry '${name}' is not a tensor`);
  const shapeOf = (name: string) => tensors.get(name)?.shape;
  const fc = shapeOf('fc.weight');
  const first = shapeOf('conv1.weight') ?? shapeOf('stem.conv.weight');
  if (fc === undefined || fc.length !== 2 || first === undefined || first.length !== 4) {
    throw new CheckpointError(file, "not a state_dict of the notebook's CNN or a ResNet v1: expected 'fc.weight' and 'conv1.weight' (CNN) or 'stem.conv.weight' (ResNet)");
  }
  const kind = tensors.has('conv1.weight') ? 'cnn' : 'resnet';
  let depth = 0;
  if (kind === 'resnet') {
    const blocks = new Set<string>();
    for (const name of tensors.keys()) {
      const m = /^stacks\.(\d{1,6})\./.exec(name);
      if (m) blocks.add(m[1]!);
    }
    depth = 2 + 2 * blocks.size;
  }
  const [numClasses, channels] = [fc[0]!, first[1]!];
  if (numClasses < 2 || numClasses > 100_000) throw new CheckpointError(file, `'fc.weight' has ${numClasses} rows: 2 to 100000 classes are supported`);
  if (channels < 1 || channels > 64) throw new CheckpointError(file, `'${kind === 'cnn' ? 'conv1' : 'stem.conv'}.weight' has ${channels} input channels: 1 to 64 are supported`);
  const spec: NativeModelSpec = { kind, depth, numClasses, channels, height: options.imageSize[0], width: options.imageSize[1] };
  checkImageSizeFor({ kind, depth }, spec.height, spec.width, 'imageSize');  // the architecture's own minimum, named as the option
  try {
    checkArchitecture(spec, shapeTable(tensors), file);
  } catch (error) {
    if (error instanceof CheckpointError && /entry '(fc|bn5)\.weight' has shape/.test(error.message)) {
      throw new CheckpointError(file, `${error.message.slice(file.length + 2)} (were the images not ${spec.height}x${spec.width}? pass { imageSize: [height, width] })`);
    }
    throw error;
  }
  return { spec, state: toEntries(tensors), optimizer: null, metadata: { loadedFrom: 'state_dict' } };
}

// A bare state_dict, or one under a key that training scripts commonly use.
function unwrap(content: PickleValue): Record<string, PickleValue> | undefined {
  if (!isDict(content)) return undefined;
  for (const key of ['state_dict', 'model_state_dict', 'model']) {
    const inner = content[key];
    if (isDict(inner) && Object.values(inner).some((v) => asTensor(v) !== undefined)) return inner;
  }
  return content;
}
