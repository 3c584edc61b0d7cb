/**
 * The record memo of ONE registry: the record lines it validated in its last read or wrote
 * in its last write, with their frozen records. A line of the state file equal to one of
 * these is that record, without parsing or validating it again. Only exact text matches
 * count, so nothing unvalidated gets in.
 *
 * Each Registry owns its memo; nothing here is module state. Two registries in one process
 * (two directories, or a library and a test) never see each other's records: a line is
 * served only from what this registry itself validated or wrote.
 */
import type { Lease } from './schema.js';

const ID_PREFIX = '{"id":"';

/** The id a canonical record line starts with (a cheap map key; the whole text is compared). */
function lineId(line: string): string {
  if (!line.startsWith(ID_PREFIX)) return '';
  const end = line.indexOf('"', ID_PREFIX.length);
  return end < 0 ? '' : line.slice(ID_PREFIX.length, end);
}

export class RecordMemo {
  /** Lease id -> the exact line validated (or written) last, and its record. */
  private known = new Map<string, { text: string; lease: Lease }>();
  /** Each record's JSON text, made once per record object (records are never mutated). */
  private readonly texts = new WeakMap<Lease, string>();

  /** The record `line` was validated into (or written from), if it is exactly that line. */
  get(line: string): Lease | undefined {
    const hit = this.known.get(lineId(line));
    return hit !== undefined && hit.text === line ? hit.lease : undefined;
  }

  /** Remember exactly these lines and records (the last read or write), forgetting the rest. */
  replace(entries: Iterable<readonly [text: string, lease: Lease]>): void {
    const next = new Map<string, { text: string; lease: Lease }>();
    for (const [text, lease] of entries) {
      const id = lineId(text);
      if (id !== '') next.set(id, { text, lease });
    }
    this.known = next;
  }

  /** A record's line: its JSON text, made once per record object. */
  textOf(lease: Lease): string {
    let text = this.texts.get(lease);
    if (text === undefined) {
      text = JSON.stringify(lease);
      this.texts.set(lease, text);
    }
    return text;
  }
}
