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

/**
 * For a layers model its description refused at (height, width): the smallest side length
 * (up to `limit`) at which the same layers resolve, when a larger image is all it needs;
 * undefined when no size helps (the error is about something else).
 *
 * @example
 * smallestSideFor((h, w) => resolveLayers(layers, [1, h, w], 5), 5, 5); // 10 for two valid 3x3 convs and a pool
 */
export function smallestSideFor(resolves: (height: number, width: number) => void, height: number, width: number, limit = 512): number | undefined {
  for (let side = Math.min(height, width) + 1; side <= limit; side++) {
    try {
      resolves(Math.max(height, side), Math.max(width, side));
      return side;
    } catch {
      // still too small (or not a matter of size)
    }
  }
  return undefined;
}

/**
 * Re-words a layers model's refusal at a too-small image as a size error naming the
 * smallest valid size, keeping the layer's own explanation.
 */
export function layersImageSizeError(error: unknown, resolves: (height: number, width: number) => void, height: number, width: number, option: string): unknown {
  if (!(error instanceof InvalidOptionError)) return error;
  const side = smallestSideFor(resolves, height, width);
  if (side === undefined) return error;
  return new InvalidOptionError(option, `images of at least ${side}x${side} pixels for this layers model (${error.message})`, described(`${height}x${width}`));
}
