/**
 * trainModel's options about the data and the warnings, checked before any data is read:
 * validationSplit, classWeight/sampleWeight (checked against the data in sample-weights.ts),
 * batchNormMomentum and onWarning.
 */
import { InvalidOptionError } from '../errors.js';
import type { ModelChoiceResolved } from '../models/describe.js';
import { checkValidationSplit } from './sample-weights.js';
import type { TrainWarning } from './warnings.js';

export interface ResolvedDataOptions {
  /** The fraction to split off (0: none). */
  validationSplit: number;
  /** Keras's terms; undefined: the default (0.99), or the resumed model's. */
  batchNormMomentum: number | undefined;
  onWarning: ((warning: TrainWarning) => void) | undefined;
}

export function resolveDataOptions(options: {
  validation?: unknown; validationSplit?: unknown; batchNormMomentum?: unknown; onWarning?: unknown;
}, kind: ModelChoiceResolved['kind']): ResolvedDataOptions {
  const validationSplit = checkValidationSplit(options.validationSplit, options.validation !== undefined);
  const m = options.batchNormMomentum;
  if (m !== undefined) {
    if (kind === 'layers') {
      throw new InvalidOptionError('batchNormMomentum', "the 'cnn' or ResNet presets (a layers model sets momentum on each batchNormalization layer)", m);
    }
    if (typeof m !== 'number' || !(m >= 0 && m < 1)) {
      throw new InvalidOptionError('batchNormMomentum', "a number in [0, 1) (Keras's BatchNormalization momentum; default 0.99)", m);
    }
  }
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') {
    throw new InvalidOptionError('onWarning', 'a function', options.onWarning);
  }
  return { validationSplit, batchNormMomentum: m as number | undefined, onWarning: options.onWarning as ResolvedDataOptions['onWarning'] };
}
