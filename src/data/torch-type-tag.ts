/**
 * The TorchScript type strings that libtorch's pickler attaches to containers
 * (`restore_type_tag(dict, 'Dict[str, Tensor]')`). We never hand them to a
 * parser we do not own: this one accepts a small grammar, bounded in length
 * and depth, and only the type names such a file can legitimately carry.
 *
 *   type  := name | name '[' type (', ' type)* ']'
 */

/** A parsed type: its name and its parameters. */
export interface TypeTag {
  name: string;
  args: TypeTag[];
}

const MAX_LENGTH = 512;
const MAX_DEPTH = 8;
/** Type name -> how many parameters it takes (-1: any number, for Tuple). */
const ARITY = new Map<string, number>([
  ['Dict', 2], ['List', 1], ['Tuple', -1], ['Optional', 1],
  ['str', 0], ['int', 0], ['float', 0], ['bool', 0], ['Tensor', 0], ['Any', 0], ['NoneType', 0],
]);

/**
 * Parses a type tag, or returns a reason why it is refused.
 *
 * @example
 * parseTypeTag('Dict[str, Tensor]'); // { name: 'Dict', args: [{ name: 'str', args: [] }, { name: 'Tensor', args: [] }] }
 * parseTypeTag('List[' .repeat(100) + 'int' + ']'.repeat(100)); // 'type tag nested deeper than 8'
 */
export function parseTypeTag(text: string): TypeTag | string {
  if (text.length > MAX_LENGTH) return `type tag of ${text.length} characters (at most ${MAX_LENGTH})`;
  let pos = 0;
  const parse = (depth: number): TypeTag | string => {
    if (depth > MAX_DEPTH) return `type tag nested deeper than ${MAX_DEPTH}`;
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(pos, pos + 32));
    if (!m) return `type tag '${clip(text)}' is malformed at character ${pos}`;
    const name = m[0];
    const arity = ARITY.get(name);
    if (arity === undefined) return `type tag names an unknown type '${clip(name)}'`;
    pos += name.length;
    const args: TypeTag[] = [];
    if (text[pos] === '[') {
      pos++;
      for (;;) {
        const arg = parse(depth + 1);
        if (typeof arg === 'string') return arg;
        args.push(arg);
        if (text.startsWith(', ', pos)) { pos += 2; continue; }
        if (text[pos] === ']') { pos++; break; }
        return `type tag '${clip(text)}' is malformed at character ${pos}`;
      }
    }
    if (arity >= 0 && args.length !== arity) return `type tag '${clip(text)}': ${name} takes ${arity} parameter(s), got ${args.length}`;
    return { name, args };
  };
  const tag = parse(0);
  if (typeof tag !== 'string' && pos !== text.length) return `type tag '${clip(text)}' has trailing characters`;
  return tag;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
