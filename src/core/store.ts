/**
 * The state file on disk: `leases.json` in the registry directory, replaced as a whole under
 * the lock (fsio.ts: temp file, fsync, rename), so a crash at any instruction leaves the old
 * file or the new one, never a torn one.
 *
 * Reading trusts nothing: every record is validated field by field (schema.ts); a damaged
 * file loses only what is damaged (layout.ts salvages it line by line, quarantine.ts keeps
 * the damage aside); a state file that is not a regular file is moved aside under the lock.
 * No path is followed through a symlink (O_NOFOLLOW, lstat), and no open waits on a FIFO
 * (O_NONBLOCK). A caller's RecordMemo (memo.ts) spares validating lines it has seen.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registryError } from './dirs.js';
import { errnoCode, PortleaseError } from './errors.js';
import { fileKind, writeAtomic } from './fsio.js';
import { parse, serialize, type Candidate, type Damage } from './layout.js';
import type { RecordMemo } from './memo.js';
import { moveAside, reportDamage, type DamagePolicy } from './quarantine.js';
import { STATE_FILE, STATE_VERSION, validateLease, type Lease } from './schema.js';

/** A state file larger than this is not read (a hostile or broken file must not exhaust memory). */
const MAX_STATE_BYTES = 128 * 1024 * 1024;

export interface ReadResult {
  leases: Lease[];
  /** Damaged lines and invalid records (already quarantined when `quarantine` was asked). */
  rejected: number;
  /** The format version of a file written by a newer portlease: never to be rewritten. */
  newer?: number;
}

export interface ReadOptions extends DamagePolicy {
  /**
   * The reading registry's own memo: lines it validated or wrote before are taken from it,
   * and it then knows exactly the lines this read validated. Without one, every line is
   * parsed and validated.
   */
  memo?: RecordMemo;
}

/**
 * Read and validate the state. Every intact record is kept; damaged lines and invalid
 * records are skipped (at most a few warnings a read) and, with `quarantine` (under the
 * lock), kept together in ONE quarantine file; the caller's next write drops them.
 *
 * Conflicts between valid records (one port or key claimed twice) are not resolved here:
 * which one wins depends on whose owner is alive, which the registry decides. Only an id
 * seen before is dropped (a duplicated line).
 */
export function readState(dir: string, opts: ReadOptions): ReadResult {
  const path = join(dir, STATE_FILE);
  const file = readStateFile(dir, path, opts);
  if ('leases' in file) return file;
  const { text, links } = file;

  const parsed = parse(text);
  const newer =
    parsed.version !== null && parsed.version > STATE_VERSION ? parsed.version : undefined;
  const damage = parsed.damage;
  if (parsed.version !== null && !(parsed.version >= 1)) {
    damage.push({ line: 1, reason: `unknown format version ${parsed.version}`, text: '' });
  }
  const leases = validateCandidates(parsed.candidates, damage, opts.memo);

  if (newer !== undefined) {
    opts.warn?.(
      `registry: ${path} is format version ${newer}, written by a newer portlease (this one reads version ${STATE_VERSION}); showing the records it can read, changing nothing`,
    );
    return { leases, rejected: damage.length, newer };
  }
  if (damage.length > 0) {
    reportDamage(dir, text, damage, parsed.recognised, leases.length, links, opts);
  }
  return { leases, rejected: damage.length };
}

/**
 * The state file's text and link count, or the result of a read that ends here: no file
 * (no leases), or one that is no regular file or too large (moved aside, one rejection).
 */
function readStateFile(
  dir: string,
  path: string,
  opts: ReadOptions,
): { text: string; links: number } | ReadResult {
  const empty = (what: string): ReadResult => {
    moveAside(dir, what, opts);
    return { leases: [], rejected: 1 };
  };
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then says what it is.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return empty(fileKind(st));
      if (st.size > MAX_STATE_BYTES) return empty('larger than 128 MiB');
      return { links: st.nlink, text: readFileSync(fd, 'utf8') };
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return { leases: [], rejected: 0 };
    if (code === 'ELOOP') return empty('a symlink');
    if (code === 'ENXIO') return empty('a socket');
    if (err instanceof PortleaseError) throw err;
    throw registryError(dir, err);
  }
}

/**
 * The valid records among `candidates`, each id once; every other one is added to `damage`.
 * A memo answers for lines it knows, and then knows exactly the lines validated here.
 */
function validateCandidates(
  candidates: readonly Candidate[],
  damage: Damage[],
  memo: RecordMemo | undefined,
): Lease[] {
  const leases: Lease[] = [];
  const ids = new Set<string>();
  const validated: [string, Lease][] = [];
  for (const c of candidates) {
    let v = recordOf(c, memo);
    if (typeof v !== 'string' && ids.has(v.id)) v = 'an earlier record has the same id';
    if (typeof v === 'string') {
      damage.push({ line: c.line, reason: `bad record: ${v}`, text: shownText(c) });
      continue;
    }
    ids.add(v.id);
    leases.push(v);
    // The line maps to what validating it gave; when written, a record is written in its
    // own canonical form (RecordMemo.textOf), not as the line it came from.
    if (c.text !== null) validated.push([c.text, v]);
  }
  memo?.replace(validated);
  return leases;
}

/** One candidate validated (or as the memo knows its line): the lease, or why it is none. */
function recordOf(c: Candidate, memo: RecordMemo | undefined): Lease | string {
  const known = c.text !== null ? memo?.get(c.text) : undefined;
  if (known !== undefined) return known;
  let raw = c.raw;
  if (raw === undefined && c.text !== null) {
    try {
      raw = JSON.parse(c.text) as unknown;
    } catch {
      raw = c.text; // not a record: rejected like any other bad record
    }
  }
  return validateLease(raw);
}

/** A rejected candidate's text as the quarantine keeps it. */
function shownText(c: Candidate): string {
  if (c.text !== null) return c.text;
  try {
    // c.raw is a parsed value here (only one-line candidates carry no raw value)
    return JSON.stringify(c.raw);
  } catch {
    return '';
  }
}

/**
 * Does a state holding `leases` need to survive a crash of the machine? Only when a record in
 * it can outlive a reboot: a directory owner (alive while the directory exists), no owner
 * (TTL only), a container (its engine may restart it). Every other owner is a process, a
 * session or a process tree of this boot, provably dead after any reboot (another boot id),
 * so losing such records to a power cut loses nothing live (docs/adr/0004-durability.md).
 */
export function mustSurviveReboot(leases: readonly Lease[]): boolean {
  return leases.some(
    (l) => l.owner === null || l.owner.kind === 'dir' || l.owner.kind === 'container',
  );
}

/** Write the state atomically; with a memo, the memo then knows the lines written. */
export function writeState(dir: string, leases: readonly Lease[], memo?: RecordMemo): void {
  try {
    writeAtomic(join(dir, STATE_FILE), serialize(leases, memo), 0o666, mustSurviveReboot(leases));
  } catch (err) {
    throw registryError(dir, err);
  }
}

export interface FileId {
  ino: number;
  size: number;
  mtimeNs: bigint;
}

/** Identity of the state file as it is now (null when absent). */
export function stateFileId(dir: string): FileId | null {
  try {
    const st = lstatSync(join(dir, STATE_FILE), { bigint: true });
    return { ino: Number(st.ino), size: Number(st.size), mtimeNs: st.mtimeNs };
  } catch {
    return null;
  }
}

export function sameFile(a: FileId | null, b: FileId | null): boolean {
  return (
    a !== null && b !== null && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs
  );
}
