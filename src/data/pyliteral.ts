/**
 * A small parser for the Python literals a .npy header holds (what numpy reads
 * with `ast.literal_eval`): dicts, tuples, lists, strings, integers, True,
 * False, None. Nothing is evaluated; anything else is an error with its offset.
 */

/** A parsed Python tuple (kept apart from lists: numpy requires the shape to be a tuple). */
export interface PyTupleLiteral { readonly tuple: PyLiteral[] }
/** A parsed Python literal. Dicts keep insertion order and any literal key. */
export type PyLiteral = string | number | boolean | null | PyTupleLiteral | PyLiteral[] | Map<PyLiteral, PyLiteral>;

/** Thrown by {@link parsePyLiteral}; the header reader turns it into an NpyFormatError. */
export class PyLiteralError extends Error {
  constructor(message: string, readonly index: number) {
    super(message);
  }
}

const MAX_DEPTH = 32;

/**
 * Parses one Python literal that must fill `text` (surrounding whitespace allowed).
 *
 * @example
 * parsePyLiteral("{'shape': (2, 3), }"); // Map { 'shape' => { tuple: [2, 3] } }
 */
export function parsePyLiteral(text: string): PyLiteral {
  const p = new Parser(text);
  const value = p.value(0);
  p.ws();
  if (p.i !== text.length) throw new PyLiteralError(`unexpected ${JSON.stringify(text[p.i])} after the literal`, p.i);
  return value;
}

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i]!)) this.i++;
  }

  value(depth: number): PyLiteral {
    if (depth > MAX_DEPTH) throw new PyLiteralError(`literal nested deeper than ${MAX_DEPTH}`, this.i);
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) throw new PyLiteralError('unexpected end of the header', this.i);
    if (c === '{') return this.dict(depth);
    if (c === '(') {
      const { items, comma } = this.seq(')', depth);
      // "(x)" without a comma is just x in Python, not a tuple.
      return items.length === 1 && !comma ? items[0]! : { tuple: items };
    }
    if (c === '[') return this.seq(']', depth).items;
    if (c === "'" || c === '"') return this.str();
    if (c === '-' || c === '+' || (c >= '0' && c <= '9')) return this.int();
    for (const [word, v] of [['True', true], ['False', false], ['None', null]] as const) {
      if (this.s.startsWith(word, this.i) && !/[A-Za-z0-9_]/.test(this.s[this.i + word.length] ?? '')) {
        this.i += word.length;
        return v;
      }
    }
    throw new PyLiteralError(`unexpected ${JSON.stringify(c)}: expected a Python literal`, this.i);
  }

  seq(close: string, depth: number): { items: PyLiteral[]; comma: boolean } {
    this.i++;
    const items: PyLiteral[] = [];
    let comma = false;
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) { this.i++; break; }
      items.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i];
      if (c === ',') { this.i++; comma = true; continue; }
      if (c === close) { this.i++; break; }
      throw new PyLiteralError(`expected ',' or '${close}'`, this.i);
    }
    return { items, comma };
  }

  dict(depth: number): Map<PyLiteral, PyLiteral> {
    this.i++;
    const out = new Map<PyLiteral, PyLiteral>();
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') { this.i++; break; }
      const keyAt = this.i;
      const key = this.value(depth + 1);
      if (typeof key === 'object' && key !== null) throw new PyLiteralError('dict keys must be strings, numbers, booleans or None', keyAt);
      this.ws();
      if (this.s[this.i] !== ':') throw new PyLiteralError("expected ':'", this.i);
      this.i++;
      out.set(key, this.value(depth + 1));
      this.ws();
      const c = this.s[this.i];
      if (c === ',') { this.i++; continue; }
      if (c === '}') { this.i++; break; }
      throw new PyLiteralError("expected ',' or '}'", this.i);
    }
    return out;
  }

  str(): string {
    const quote = this.s[this.i]!;
    const start = this.i;
    this.i++;
    let out = '';
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined || c === '\n') throw new PyLiteralError('unterminated string', start);
      this.i++;
      if (c === quote) return out;
      if (c !== '\\') { out += c; continue; }
      const e = this.s[this.i++];
      switch (e) {
        case '\\': case "'": case '"': out += e; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '0': out += '\0'; break;
        case 'x': out += this.hex(2); break;
        case 'u': out += this.hex(4); break;
        case 'U': out += this.hex(8); break;
        default: throw new PyLiteralError(`unsupported escape \\${e ?? ''}`, this.i - 2);
      }
    }
  }

  hex(n: number): string {
    const h = this.s.slice(this.i, this.i + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) throw new PyLiteralError(`bad \\x/\\u escape`, this.i);
    this.i += n;
    const cp = parseInt(h, 16);
    if (cp > 0x10ffff) throw new PyLiteralError('escape beyond U+10FFFF', this.i - n);
    return String.fromCodePoint(cp);
  }

  int(): number {
    const m = /^[-+]?[0-9]+L?/.exec(this.s.slice(this.i, this.i + 400));
    if (m === null) throw new PyLiteralError('expected an integer', this.i);
    const next = this.s[this.i + m[0].length];
    if (next !== undefined && /[0-9.eEjxXoObB_]/.test(next)) throw new PyLiteralError('only decimal integers are supported in a .npy header', this.i);
    const text = m[0].endsWith('L') ? m[0].slice(0, -1) : m[0];
    if (/^[-+]?0[0-9]/.test(text)) throw new PyLiteralError('integers may not have leading zeros', this.i);
    this.i += m[0].length;
    const v = Number(text);
    if (!Number.isSafeInteger(v)) throw new PyLiteralError(`integer ${text} is too large`, this.i - m[0].length);
    return v;
  }
}
