/**
 * modelCheckpoint's path: Python's str.format syntax as Keras fills it at each epoch end,
 * `{epoch}` (1-based) and the log's figures, each with an optional format. Parsed once
 * here into parts the addon formats without further checks (native/core/checkpoint_callback.cc).
 */
import { described, InvalidOptionError } from '../errors.js';

export type PathFieldName = 'epoch' | 'loss' | 'accuracy' | 'val_loss' | 'val_accuracy' | 'lr';

/** Literal text, or a field with Python's format: type '' is str() (repr for floats). */
export type NativePathPart =
  | { field: 'text'; text: string }
  | { field: PathFieldName; type: '' | 'd' | 'f' | 'e' | 'g'; zeroPad: boolean; width: number; precision: number };

const FIELDS: readonly PathFieldName[] = ['epoch', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'lr'];
// [0][width][.precision][type]: the part of Python's format mini-language a number needs.
const SPEC = /^(0)?([1-9]\d{0,1})?(?:\.(\d{1,2}))?([dfeg])?$/;
const EXPECTED = 'a path whose {fields} are epoch, loss, accuracy, val_loss, val_accuracy or lr, each with an optional format such as {epoch:02d} or {val_loss:.4f}';

/**
 * Splits a path template into text and fields; `option` names it in errors.
 *
 * @example
 * parsePathTemplate('/runs/cnn-{epoch:02d}.pt', 'callbacks[0].path', true);
 * // [{ field: 'text', text: '/runs/cnn-' }, { field: 'epoch', type: 'd', zeroPad: true, width: 2, precision: -1 }, { field: 'text', text: '.pt' }]
 */
export function parsePathTemplate(template: string, option: string, hasValidation: boolean): NativePathPart[] {
  const parts: NativePathPart[] = [];
  let text = '';
  const flush = () => {
    if (text) parts.push({ field: 'text', text });
    text = '';
  };
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      text += c;  // '{{' and '}}' are literal braces
      i++;
      continue;
    }
    if (c === '}') throw new InvalidOptionError(option, `${EXPECTED} (a single '}' must be written '}}')`, template);
    if (c !== '{') {
      text += c;
      continue;
    }
    const end = template.indexOf('}', i);
    if (end < 0) throw new InvalidOptionError(option, `${EXPECTED} (a '{' is not closed; a literal one is written '{{')`, template);
    const body = template.slice(i + 1, end);
    const colon = body.indexOf(':');
    const name = (colon < 0 ? body : body.slice(0, colon)) as PathFieldName;
    const spec = colon < 0 ? '' : body.slice(colon + 1);
    if (!FIELDS.includes(name)) throw new InvalidOptionError(option, EXPECTED, described(`a field {${body}}`));
    if (name.startsWith('val_') && !hasValidation) throw new InvalidOptionError(option, `${EXPECTED}, without val_ fields when there is no validation data`, described(`a field {${body}}`));
    const m = SPEC.exec(spec);
    const type = (m?.[4] ?? '') as '' | 'd' | 'f' | 'e' | 'g';
    const precision = m?.[3] === undefined ? -1 : Number(m[3]);
    // Python refuses 'd' for floats, a precision for integers, and we leave out its other forms.
    if (!m || (type === 'd' && (name !== 'epoch' || precision >= 0)) || (type === '' && precision >= 0)) {
      throw new InvalidOptionError(option, `${EXPECTED} ('d' for epoch only; f, e or g with an optional .precision for any field)`, described(`a field {${body}}`));
    }
    flush();
    parts.push({ field: name, type, zeroPad: m[1] === '0', width: m[2] === undefined ? 0 : Number(m[2]), precision });
    i = end;
  }
  flush();
  return parts;
}
