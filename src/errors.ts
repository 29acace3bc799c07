/**
 * The typed errors every part of the library throws. Each has a stable `code`
 * that callers can switch on; messages name the file, field or option, what was
 * expected and what was received.
 */

/** Base class: every error this library throws on purpose is a TorchfitError. */
export class TorchfitError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option passed to a public function is missing, of the wrong type or out of range. */
export class InvalidOptionError extends TorchfitError {
  readonly option: string;
  constructor(option: string, expected: string, received: unknown) {
    super('ERR_INVALID_OPTION', `Invalid option ${option}: expected ${expected}, received ${describeValue(received)}`);
    this.option = option;
  }
}

/** A .npy file is malformed, truncated, lies about its size or uses something we do not read. */
export class NpyFormatError extends TorchfitError {
  readonly file: string;
  readonly offset: number | undefined;
  constructor(file: string, message: string, offset?: number) {
    super('ERR_NPY_FORMAT', `${file}${offset === undefined ? '' : ` at byte ${offset}`}: ${message}`);
    this.file = file;
    this.offset = offset;
  }
}

/**
 * A pickle asked for something the restricted unpickler refuses (a global outside
 * the allow-list, an unsupported opcode, a bomb). Nothing from the file was run.
 */
export class PickleSecurityError extends TorchfitError {
  readonly file: string;
  readonly offset: number | undefined;
  constructor(file: string, message: string, offset?: number) {
    super('ERR_PICKLE_REFUSED', `${file}${offset === undefined ? '' : ` at pickle byte ${offset}`}: ${message}`);
    this.file = file;
    this.offset = offset;
  }
}

/** A dataset file or IDX file does not have the expected fields, shapes or values. */
export class DatasetError extends TorchfitError {
  readonly file: string;
  readonly field: string | undefined;
  constructor(file: string, message: string, field?: string) {
    super('ERR_DATASET', `${file}${field === undefined ? '' : ` (field '${field}')`}: ${message}`);
    this.file = file;
    this.field = field;
  }
}

/** The native addon is missing or was built against another libtorch; the message says what to run. */
export class AddonLoadError extends TorchfitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ADDON_LOAD', message, options);
  }
}

/** Training, evaluation or prediction failed inside libtorch (bad shapes, out of memory, NaN loss...). */
export class TrainingError extends TorchfitError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/**
 * Data-parallel training failed. `code`: ERR_DISTRIBUTED_TIMEOUT when a rank never
 * arrived or stopped answering within distributed.timeoutMs; ERR_DISTRIBUTED when a rank
 * died, was cancelled or failed (its connections closed), when the ranks were given
 * different data or options, or the address or port is unusable; ERR_DISTRIBUTED_UNAVAILABLE
 * when this build of torchfit has no backend for it. The message names this rank and
 * the operation that failed.
 */
export class DistributedError extends TorchfitError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** A model checkpoint is missing, truncated, corrupted or of another architecture. */
export class CheckpointError extends TorchfitError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('ERR_CHECKPOINT', `${file}: ${message}`);
    this.file = file;
  }
}

/**
 * An image folder could not be read: `file` is the image that failed to decode (code
 * ERR_IMAGE_DECODE, with the decoder's reason; also for images above the pixel limit), or the
 * folder itself when it has no class folders, a class folder has no images, or nothing
 * was readable (code ERR_IMAGE_FOLDER).
 */
export class ImageFolderError extends TorchfitError {
  readonly file: string;
  constructor(code: 'ERR_IMAGE_DECODE' | 'ERR_IMAGE_FOLDER', file: string, message: string, options?: { cause?: unknown }) {
    super(code, `${file}: ${message}`, options);
    this.file = file;
  }
}

/**
 * An optional package a feature needs is not installed: the report's figure renderers (vega,
 * vega-lite, resvg, viz.js, pngjs) after `npm install --omit=optional`. `packages` lists what to
 * install; the message gives the npm command.
 */
export class MissingDependencyError extends TorchfitError {
  readonly packages: string[];
  constructor(message: string, packages: string[], options?: { cause?: unknown }) {
    super('ERR_MISSING_DEPENDENCY', message, options);
    this.packages = packages;
  }
}

/** The operation was cancelled through an AbortSignal. */
export class AbortError extends TorchfitError {
  constructor(message = 'The operation was aborted') {
    super('ABORT_ERR', message);
  }
}

const DESCRIBED = Symbol('described');

/** Wraps a ready-made description ("7 labels", "[8, 784]") so describeValue prints it unquoted. */
export function described(text: string): unknown {
  return { [DESCRIBED]: text };
}

/** Short, bounded description of a received value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'object' && value !== null && DESCRIBED in value) return (value as { [DESCRIBED]: string })[DESCRIBED];
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as { length?: number }).length ?? value.byteLength}`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}
