/**
 * trainModel's `augment` option: random transforms of the training batches, with the
 * meanings of Keras's ImageDataGenerator, validated here once and handed to the addon
 * as one plain record (native/core/augment.h applies it on the worker thread).
 */
import { InvalidOptionError } from '../errors.js';

export type FillMode = 'nearest' | 'constant' | 'reflect';

/**
 * Random transforms of each training image, drawn anew every time it is used.
 * Validation, evaluation and prediction never see them.
 */
export interface AugmentOptions {
  /** Mirror left-right with probability 1/2. */
  horizontalFlip?: boolean;
  /** Mirror top-bottom with probability 1/2. */
  verticalFlip?: boolean;
  /**
   * Horizontal shift: below 1, a fraction of the width (uniform in [-v, v) x width);
   * a whole number n >= 1, whole pixels from -(n - 1) to n - 1 (Keras's integer range);
   * any other v >= 1, pixels uniform in [-v, v).
   */
  widthShift?: number;
  /** Vertical shift, read as widthShift is, against the height. */
  heightShift?: number;
  /** Rotation by an angle uniform in [-v, v] degrees. */
  rotation?: number;
  /** Zoom factors uniform in [1 - z, 1 + z] (or [low, high]), drawn for each axis; above 1 shows more of the image. */
  zoom?: number | [number, number];
  /** How points outside the image are filled (Keras's fill_mode): default 'nearest'. */
  fillMode?: FillMode;
  /** The value of the 'constant' fill. Default 0. */
  cval?: number;
  /** The ResNet papers' crop: pad by `padding` pixels of zeros on each side, crop the original size at a random offset. */
  randomCrop?: { padding: number };
}

/** The record the addon reads (native/core/augment.h AugmentConfig). */
export interface NativeAugmentConfig {
  enabled: boolean;
  horizontalFlip: boolean;
  verticalFlip: boolean;
  widthShift: number;
  widthShiftInteger: boolean;
  heightShift: number;
  heightShiftInteger: boolean;
  rotation: number;
  zoomLow: number;
  zoomHigh: number;
  fillMode: FillMode;
  cval: number;
  cropPadding: number;
}

const KNOWN = ['horizontalFlip', 'verticalFlip', 'widthShift', 'heightShift', 'rotation', 'zoom', 'fillMode', 'cval', 'randomCrop'];

export const AUGMENT_OFF: NativeAugmentConfig = {
  enabled: false, horizontalFlip: false, verticalFlip: false, widthShift: 0, widthShiftInteger: false, heightShift: 0,
  heightShiftInteger: false, rotation: 0, zoomLow: 1, zoomHigh: 1, fillMode: 'nearest', cval: 0, cropPadding: 0,
};

/**
 * Validates `augment` and fills Keras's defaults; `name` prefixes the option paths in messages.
 *
 * @example
 * resolveAugment({ horizontalFlip: true, widthShift: 0.1, heightShift: 0.1 }).enabled; // true
 * resolveAugment(undefined).enabled;                                              // false
 */
export function resolveAugment(value: unknown, name = 'augment'): NativeAugmentConfig {
  if (value === undefined || value === false) return { ...AUGMENT_OFF };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(name, '{ horizontalFlip?, verticalFlip?, widthShift?, heightShift?, rotation?, zoom?, fillMode?, cval?, randomCrop? }', value);
  }
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN.includes(key)) throw new InvalidOptionError(`${name}.${key}`, `one of ${KNOWN.join(', ')}`, key);
  }
  const flag = (key: string): boolean => {
    const v = given[key] ?? false;
    if (typeof v !== 'boolean') throw new InvalidOptionError(`${name}.${key}`, 'a boolean', v);
    return v;
  };
  const range = (key: string, max: number, what: string): number => {
    const v = given[key] ?? 0;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) throw new InvalidOptionError(`${name}.${key}`, what, v);
    return v;
  };
  const shift = (key: string) => {
    const v = range(key, 1_000_000, 'a number >= 0 (below 1: a fraction of the size; 1 or more: pixels)');
    return { value: v, integer: Number.isInteger(v) && v >= 1 };
  };
  const horizontalFlip = flag('horizontalFlip');
  const verticalFlip = flag('verticalFlip');
  const width = shift('widthShift');
  const height = shift('heightShift');
  const rotation = range('rotation', 360, 'degrees from 0 to 360');
  let zoomLow = 1;
  let zoomHigh = 1;
  const zoom = given.zoom ?? 0;
  if (typeof zoom === 'number') {
    if (!Number.isFinite(zoom) || zoom < 0 || zoom >= 1) throw new InvalidOptionError(`${name}.zoom`, 'a number in [0, 1) (zoom factors 1 - z to 1 + z) or [low, high]', zoom);
    zoomLow = 1 - zoom;
    zoomHigh = 1 + zoom;
  } else if (Array.isArray(zoom) && zoom.length === 2 && zoom.every((z) => typeof z === 'number' && Number.isFinite(z)) &&
             zoom[0] > 0 && zoom[0] <= zoom[1] && zoom[1] <= 100) {
    [zoomLow, zoomHigh] = zoom as [number, number];
  } else {
    throw new InvalidOptionError(`${name}.zoom`, 'a number in [0, 1) or [low, high] with 0 < low <= high <= 100', zoom);
  }
  const fillMode = given.fillMode ?? 'nearest';
  if (fillMode !== 'nearest' && fillMode !== 'constant' && fillMode !== 'reflect') {
    throw new InvalidOptionError(`${name}.fillMode`, "'nearest', 'constant' or 'reflect'", fillMode);
  }
  const cval = given.cval ?? 0;
  if (typeof cval !== 'number' || !Number.isFinite(cval)) throw new InvalidOptionError(`${name}.cval`, 'a finite number', cval);
  let cropPadding = 0;
  if (given.randomCrop !== undefined) {
    const crop = given.randomCrop;
    if (typeof crop !== 'object' || crop === null || Array.isArray(crop)) {
      throw new InvalidOptionError(`${name}.randomCrop`, '{ padding } (pixels of zeros added on each side before cropping)', crop);
    }
    for (const key of Object.keys(crop)) {
      if (key !== 'padding') throw new InvalidOptionError(`${name}.randomCrop.${key}`, 'padding (the only field)', key);
    }
    const padding = (crop as { padding?: unknown }).padding;
    if (typeof padding !== 'number' || !Number.isInteger(padding) || padding < 1 || padding > 4096) {
      throw new InvalidOptionError(`${name}.randomCrop.padding`, 'an integer from 1 to 4096', padding);
    }
    cropPadding = padding;
  }
  const enabled = horizontalFlip || verticalFlip || width.value > 0 || height.value > 0 || rotation > 0 ||
    zoomLow !== 1 || zoomHigh !== 1 || cropPadding > 0;
  return {
    enabled, horizontalFlip, verticalFlip,
    widthShift: width.value, widthShiftInteger: width.integer,
    heightShift: height.value, heightShiftInteger: height.integer,
    rotation, zoomLow, zoomHigh, fillMode, cval, cropPadding,
  };
}
