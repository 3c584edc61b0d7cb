/**
 * The state file's text. `serialize` writes plain JSON with one record per line, so that a
 * reader can take each line as one record (JSON.stringify never writes a raw newline inside
 * a record) and resynchronise at every newline. `parse` reads that layout fast, any other
 * layout of the same JSON document as a whole, and anything else line by line (`salvage`):
 * a damaged file loses only what is damaged (docs/adr/0002-store-salvage.md). Text only:
 * no I/O, and no validation (schema.ts validates each candidate record).
 */
import type { RecordMemo } from './memo.js';
import { STATE_VERSION, type Lease } from './schema.js';
import { isRecord } from './text.js';

/** One damaged piece of the state file: where, why, and (for quarantine) what. */
export interface Damage {
  line: number;
  reason: string;
  text: string;
}

/** A candidate record: its parsed value, its line, and its text when it was one line. */
export interface Candidate {
  raw: unknown;
  line: number;
  text: string | null;
}

export interface Parsed {
  candidates: Candidate[];
  damage: Damage[];
  /** The format version the file states, or null when it states none. */
  version: number | null;
  /** Whether anything in the file looked like a registry (a head line or a record). */
  recognised: boolean;
}

const HEAD = `{"version":${STATE_VERSION},"leases":[\n`;
const TAIL = '\n]}\n';
const EMPTY = `{"version":${STATE_VERSION},"leases":[]}\n`;

/**
 * The state file's text for `leases`. With a memo, each record's text is made once per
 * record object, and the memo then knows exactly the lines written.
 */
export function serialize(leases: readonly Lease[], memo?: RecordMemo): string {
  if (leases.length === 0) return EMPTY;
  const lines = leases.map((l): [string, Lease] => [memo ? memo.textOf(l) : JSON.stringify(l), l]);
  memo?.replace(lines);
  return HEAD + lines.map(([text]) => text).join(',\n') + TAIL;
}

/** The record lines of a file in serialize's layout, or null for any other layout. */
function recordLines(text: string): string[] | null {
  if (text === EMPTY) return [];
  if (!text.startsWith(HEAD) || !text.endsWith(TAIL) || text.length < HEAD.length + TAIL.length) {
    return null;
  }
  const body = text.slice(HEAD.length, text.length - TAIL.length);
  return body === '' ? [] : body.split(',\n');
}

const HEAD_LINE = /^\{\s*"version"\s*:\s*(-?\d+)\s*,\s*"leases"\s*:\s*\[\s*(\]\s*\}\s*)?$/;
const VERSION_LINE = /^"version"\s*:\s*(-?\d+)\s*,?$/;
const LEASES_LINE = /^"leases"\s*:\s*\[\s*(\]\s*,?)?$/;
const TAIL_LINE = /^(\]\s*\}|\]\s*,?|\})$/;

/**
 * Parse a state file that is not in serialize's exact layout, line by line, so one damaged
 * line costs only itself: a BOM, a NUL, a cut last line, garbage appended, CRLF endings,
 * and pretty-printed records (a record over several lines, from `{` to the `}` at the same
 * indentation) all leave every intact record readable. Linear in the size of the file.
 */
function salvage(text: string): Parsed {
  const lines = text.split('\n');
  const candidates: Candidate[] = [];
  const damage: Damage[] = [];
  let version: number | null = null;
  let recognised = false;
  const trimmed = (i: number): string => {
    let t = lines[i] ?? '';
    if (i === 0 && t.startsWith('\uFEFF')) t = t.slice(1);
    return t.trim();
  };
  for (let i = 0; i < lines.length; i++) {
    const s = trimmed(i);
    if (s === '') continue;
    const head = HEAD_LINE.exec(s);
    if (head) {
      version ??= Number(head[1]);
      recognised = true;
      continue;
    }
    const ver = VERSION_LINE.exec(s);
    if (ver) {
      version ??= Number(ver[1]);
      recognised = true;
      continue;
    }
    if (LEASES_LINE.test(s) || TAIL_LINE.test(s)) continue;
    const body = s.endsWith(',') ? s.slice(0, -1).trimEnd() : s;
    if (body === '{') {
      // A pretty-printed document's own `{`, or a record over several lines.
      let next = i + 1;
      while (next < lines.length && trimmed(next) === '') next++;
      if (VERSION_LINE.test(trimmed(next))) continue;
      const raw = lines[i] ?? '';
      const indent = raw.length - raw.trimStart().length;
      let end = -1;
      for (let j = i + 1; j < lines.length; j++) {
        const lj = lines[j] ?? '';
        const tj = lj.trim();
        const ij = lj.length - lj.trimStart().length;
        if (ij === indent && (tj === '}' || tj === '},')) {
          end = j;
          break;
        }
        if (ij <= indent && tj !== '') break; // the record ended without its `}`
      }
      if (end < 0) {
        damage.push({ line: i + 1, reason: 'a record cut short', text: raw });
        continue;
      }
      const block = lines
        .slice(i, end + 1)
        .join('\n')
        .trim()
        .replace(/,$/, '');
      try {
        candidates.push({ raw: JSON.parse(block) as unknown, line: i + 1, text: null });
        recognised = true;
      } catch {
        damage.push({ line: i + 1, reason: 'not a record (does not parse)', text: block });
      }
      i = end;
      continue;
    }
    if (!body.startsWith('{')) {
      damage.push({ line: i + 1, reason: 'not a record', text: lines[i] ?? '' });
      continue;
    }
    try {
      candidates.push({ raw: JSON.parse(body) as unknown, line: i + 1, text: body });
      recognised = true;
    } catch {
      damage.push({ line: i + 1, reason: 'not a record (does not parse)', text: lines[i] ?? '' });
    }
  }
  return { candidates, damage, version, recognised };
}

/**
 * The candidate records and the damage of a state file's text. A one-line candidate in
 * serialize's own layout carries only its text (raw undefined): the reader parses it unless
 * its memo knows that very line.
 */
export function parse(text: string): Parsed {
  // Fast path: serialize's own layout, one record per line.
  const lines = recordLines(text);
  if (lines !== null) {
    return {
      candidates: lines.map((line, i) => ({ raw: undefined, line: i + 2, text: line })),
      damage: [],
      version: STATE_VERSION,
      recognised: true,
    };
  }
  // A whole JSON document in another layout (an older portlease wrote one line; a person
  // may have pretty-printed it).
  let doc: unknown;
  try {
    doc = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch {
    doc = undefined;
  }
  if (isRecord(doc) && Array.isArray(doc.leases)) {
    return {
      candidates: (doc.leases as unknown[]).map((raw) => ({ raw, line: 0, text: null })),
      damage: [],
      version: typeof doc.version === 'number' ? doc.version : null,
      recognised: true,
    };
  }
  return salvage(text);
}
