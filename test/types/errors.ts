// Errors: typed classes with stable codes.
import {
  TorchfitError, InvalidOptionError, NpyFormatError, PickleSecurityError, DatasetError, ImageFolderError, CheckpointError,
  AddonLoadError, TrainingError, DistributedError, AbortError,
} from 'torchfit';

export function handle(error: unknown): string {
  if (error instanceof InvalidOptionError) return `${error.code} ${error.option}`;
  if (error instanceof CheckpointError || error instanceof ImageFolderError || error instanceof DatasetError) return error.file;
  if (error instanceof NpyFormatError || error instanceof PickleSecurityError) return `${error.file}:${error.offset ?? ''}`;
  if (error instanceof AddonLoadError || error instanceof TrainingError || error instanceof DistributedError || error instanceof AbortError) return error.code;
  if (error instanceof TorchfitError) return error.code;
  return String(error);
}

const e = new TorchfitError('ERR_X', 'message');
const code: string = e.code;
// @ts-expect-error code is read-only
e.code = 'ERR_Y';
void code;

// @ts-expect-error the message helpers are internal
import { describeValue } from 'torchfit';
void describeValue;
