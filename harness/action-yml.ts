/**
 * The YAML an action.yml uses, read without a YAML package: block mappings nested by
 * indentation, plain, 'single' and "double" quoted scalars on one line, and `|` / `>` block
 * scalars (with `-` / `+` chomping). Anything else (sequences, flow collections, anchors,
 * tags, a scalar spread over several lines) is refused with its line number, so the harness
 * never guesses what the runner would read.
 */

export type YamlValue = string | YamlMap;
export interface YamlMap {
  [key: string]: YamlValue;
}

interface Line {
  no: number;
  indent: number;
  text: string;
}

class YamlError extends Error {
  constructor(file: string, no: number, what: string) {
    super(`${file}:${no}: ${what}`);
    this.name = 'YamlError';
  }
}

/** A `#` comment starts at a `#` preceded by white space (or at the start). */
function stripComment(text: string): string {
  const at = text.search(/(^|\s)#/);
  return at < 0 ? text : text.slice(0, at);
}

function unquoteDouble(body: string, fail: (what: string) => never): string {
  const escapes: Record<string, string> = {
    '0': '\0',
    a: '\x07',
    b: '\b',
    t: '\t',
    n: '\n',
    v: '\v',
    f: '\f',
    r: '\r',
    e: '\x1b',
    ' ': ' ',
    '"': '"',
    '/': '/',
    '\\': '\\',
  };
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)/g, (_m, e: string) => {
    if (e.length > 1) return String.fromCharCode(parseInt(e.slice(1), 16));
    const c = escapes[e];
    if (c === undefined) fail(`unknown escape \\${e}`);
    return c;
  });
}

/** One scalar written on one line (after `key:`), comments removed. */
function scalar(raw: string, fail: (what: string) => never): string {
  const text = raw.trim();
  if (text.startsWith("'")) {
    const m = /^'((?:[^']|'')*)'\s*(#.*)?$/.exec(text);
    if (!m) fail('a single-quoted scalar must end on its line');
    return (m[1] ?? '').replace(/''/g, "'");
  }
  if (text.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"\s*(#.*)?$/.exec(text);
    if (!m) fail('a double-quoted scalar must end on its line');
    return unquoteDouble(m[1] ?? '', fail);
  }
  const plain = stripComment(text).trim();
  if (/^[[{&*!%@`]/.test(plain) || plain.startsWith('- ') || plain === '-') {
    fail(`${JSON.stringify(plain)}: flow collections, sequences, anchors and tags are not read`);
  }
  return plain;
}

/**
 * A `|` or `>` block scalar: `header` is what follows the key, `body` the lines after it
 * that are blank or indented deeper than the key.
 */
function blockScalar(header: string, body: Line[], fail: (what: string) => never): string {
  const m = /^([|>])([+-]?)$/.exec(stripComment(header).trim());
  if (!m) fail(`block scalar header ${JSON.stringify(header.trim())} is not read`);
  const [, style, chomp] = m;
  const first = body.find((l) => l.text !== '');
  const indent = first?.indent ?? 0;
  const parts = body.map((l) => (l.text === '' ? '' : ' '.repeat(l.indent - indent) + l.text));
  let trailing = 0;
  while (parts.length > 0 && parts[parts.length - 1] === '') {
    parts.pop();
    trailing++;
  }
  if (parts.length === 0) return '';
  let value: string;
  if (style === '|') value = parts.join('\n');
  else {
    // Folding: a line break between two lines of text becomes a space, unless either line
    // is indented more; n blank lines between them stand for n line breaks.
    value = parts[0] ?? '';
    let blanks = 0;
    let prev = value;
    for (const p of parts.slice(1)) {
      if (p === '') {
        blanks++;
        continue;
      }
      const literal = p.startsWith(' ') || prev.startsWith(' ');
      value += blanks === 0 ? (literal ? '\n' : ' ') : '\n'.repeat(blanks + (literal ? 1 : 0));
      value += p;
      blanks = 0;
      prev = p;
    }
  }
  if (chomp === '-') return value;
  return value + '\n'.repeat(chomp === '+' ? trailing + 1 : 1);
}

/** Parse the text of an action.yml. `file` names it in errors. */
export function parseActionYaml(text: string, file: string): YamlMap {
  const lines: Line[] = text.split(/\r?\n/).map((raw, i) => {
    if (raw.includes('\t') && /^\s*\t/.test(raw)) throw new YamlError(file, i + 1, 'tab indent');
    const indent = raw.length - raw.trimStart().length;
    return { no: i + 1, indent, text: raw.slice(indent) };
  });
  let i = 0;
  const meaningful = (l: Line): boolean => l.text !== '' && !l.text.startsWith('#');

  function mapping(indent: number): YamlMap {
    const out: YamlMap = {};
    while (i < lines.length) {
      const line = lines[i] as Line;
      if (!meaningful(line) || line.text === '---') {
        i++;
        continue;
      }
      if (line.indent < indent) break;
      const fail: (what: string) => never = (what) => {
        throw new YamlError(file, line.no, what);
      };
      if (line.indent > indent) fail('unexpected indentation');
      const m = /^([A-Za-z0-9_][A-Za-z0-9_. -]*?)\s*:(?:\s+(.*))?$/.exec(line.text);
      if (!m) fail(`${JSON.stringify(line.text)} is not a "key: value" line`);
      const key = m[1] ?? '';
      if (Object.hasOwn(out, key)) fail(`key ${JSON.stringify(key)} given twice`);
      const rest = stripComment(m[2] ?? '').trim() === '' ? '' : (m[2] ?? '');
      i++;
      if (rest === '') {
        // A nested mapping (or an empty value) follows.
        let j = i;
        while (j < lines.length && !meaningful(lines[j] as Line)) j++;
        const next = lines[j];
        out[key] = next !== undefined && next.indent > indent ? mapping(next.indent) : '';
      } else if (/^[|>]/.test(rest.trim())) {
        const from = i;
        while (i < lines.length) {
          const l = lines[i] as Line;
          if (l.text !== '' && l.indent <= indent) break;
          i++;
        }
        out[key] = blockScalar(rest, lines.slice(from, i), fail);
      } else {
        out[key] = scalar(rest, fail);
        const next = lines[i];
        if (next !== undefined && meaningful(next) && next.indent > indent) {
          throw new YamlError(file, next.no, 'a scalar spread over several lines is not read');
        }
      }
    }
    return out;
  }

  return mapping(0);
}
