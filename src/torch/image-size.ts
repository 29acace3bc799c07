/**
 * The smallest images each built-in architecture can take, computed from its layers, so
 * a too-small input fails in TypeScript with the size to use instead of deep in libtorch.
 */
import { described, InvalidOptionError } from '../errors.js';

export interface ArchitectureRef {
  kind: 'cnn' | 'resnet';
  depth?: number;
}

/**
 * One spatial axis through the architecture: the size of its last feature map
 * (0 or less: the layers consume the whole image).
 */
export function finalExtent(model: ArchitectureRef, size: number): number {
  if (model.kind === 'cnn') {
    // conv 3x3 valid, max-pool 2 (floor), conv 3x3 valid, max-pool 2 (floor).
    const afterFirst = Math.floor((size - 2) / 2);
    return afterFirst < 1 ? 0 : Math.floor((afterFirst - 2) / 2);
  }
  // ResNet v1: 'same' convolutions, two stride-2 stages that round up: never below 1 pixel.
  return size < 1 ? 0 : Math.ceil(Math.ceil(size / 2) / 2);
}

/** The smallest side length for which `finalExtent` is at least 1 pixel (10 for the CNN, 1 for the ResNet). */
export function minimumSide(model: ArchitectureRef): number {
  let side = 1;
  while (finalExtent(model, side) < 1) side++;
  return side;
}

/**
 * Throws InvalidOptionError naming `option` when (height, width) is below what the
 * architecture can take.
 *
 * @example
 * checkImageSizeFor({ kind: 'cnn' }, 9, 28, 'train.x.shape');
 * // Invalid option train.x.shape: expected images of at least 10x10 pixels for the 'cnn' model
 * // (its two 3x3 valid convolutions and 2x2 poolings leave nothing of a smaller image), received 9x28
 */
export function checkImageSizeFor(model: ArchitectureRef, height: number, width: number, option: string): void {
  const side = minimumSide(model);
  if (height >= side && width >= side) return;
  const why = model.kind === 'cnn'
    ? "for the 'cnn' model (its two 3x3 valid convolutions and 2x2 poolings leave nothing of a smaller image)"
    : 'for the ResNet';
  throw new InvalidOptionError(option, `images of at least ${side}x${side} pixels ${why}`, described(`${height}x${width}`));
}
