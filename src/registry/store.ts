/**
 * Lease records on disk.
 *
 * The registry directory holds one state file, `leases.json`, replaced as a whole under the
 * lock: written to a temp file, fsynced, renamed over the old one, and the directory fsynced.
 * A crash at any instruction leaves the old file or the new one, never a torn one.
 *
 * Nothing read from disk is trusted. Every record is validated field by field into a fresh
 * object. A damaged file loses only what is damaged (docs/adr/0002-store-salvage.md): the
 * file is one record per line so that a bad line, a cut last line, a BOM, a NUL or garbage
 * appended cost only themselves; every intact record is kept, and the damage is kept once
 * per read in one bounded `quarantine/` file (mode 0600) for inspection. A state file that
 * is not a regular file is moved aside under the lock. No path is followed through a
 * symlink (O_NOFOLLOW, lstat), and no open waits on a FIFO (O_NONBLOCK).
 */
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { describeError, errnoCode, PortleaseError, RuntimeError, UsageError } from './errors.js';
import { renameRetry, unlinkRetry } from './fsretry.js';
import { CONTROL_CHARS, LABEL_KEY, LEASE_ID, type PortRange } from './inputs.js';
import type { Owner } from './owner.js';
import { permissionFix, shareDirectory } from './platform.js';

export const STATE_FILE = 'leases.json';
export const STATE_VERSION = 1;
/** A state file larger than this is not read (a hostile or broken file must not exhaust memory). */
const MAX_STATE_BYTES = 128 * 1024 * 1024;
/** At most this many files are kept in quarantine/. */
const MAX_QUARANTINE = 200;

export interface Lease {
  /** pl_ + 10 base36 characters. */
  id: string;
  key: string;
  /** name -> port, in the order they were asked for. */
  ports: Record<string, number>;
  range: PortRange;
  contiguous: boolean;
  owner: Owner | null;
  /** ISO times. */
  created: string;
  expires: string | null;
  labels: Record<string, string>;
}

export interface ReadResult {
  leases: Lease[];
  /** Damaged lines and invalid records (already quarantined when `quarantine` was asked). */
  rejected: number;
  /** The format version of a file written by a newer portlease: never to be rewritten. */
  newer?: number;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * `n` random base-36 characters. Names and ids need to be unique, not secret: Math.random
 * (seeded per process from the OS) gives ~5 bits a character, and a lease id that is taken
 * already is drawn again. (node:crypto would cost every command several ms to load.)
 */
export function randomSuffix(n: number): string {
  let out = '';
  while (out.length < n)
    out += Math.floor(Math.random() * 36 ** 6)
      .toString(36)
      .padStart(6, '0');
  return out.slice(0, n);
}

export function newLeaseId(): string {
  // 10 base36 characters from 64 random bits.
  return 'pl_' + randomSuffix(10);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

function isTime(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 40 && !Number.isNaN(Date.parse(v));
}

function str(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max && !CONTROL_CHARS.test(v);
}

/** Validate an owner record into a fresh object: null for none, undefined when invalid. */
export function validOwner(v: unknown): Owner | null | undefined {
  if (v === null) return null;
  if (!isRecord(v)) return undefined;
  const nullable = (x: unknown, max: number): x is string | null => x === null || str(x, max);
  const id = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 1;
  /** start, boot, host and pidns, as process and session owners record them. */
  const where = ():
    | { start: string | null; boot: string | null; host: string; pidns: string | null }
    | undefined =>
    nullable(v.start, 32) && nullable(v.boot, 64) && str(v.host, 256) && nullable(v.pidns, 64)
      ? { start: v.start, boot: v.boot, host: v.host, pidns: v.pidns }
      : undefined;
  if (v.kind === 'process') {
    const w = where();
    return id(v.pid) && w !== undefined ? { kind: 'process', pid: v.pid, ...w } : undefined;
  }
  if (v.kind === 'container') {
    if (
      typeof v.id === 'string' &&
      /^[0-9a-f]{12,64}$/.test(v.id) &&
      str(v.host, 256) &&
      nullable(v.boot, 64)
    ) {
      return { kind: 'container', id: v.id, host: v.host, boot: v.boot };
    }
    return undefined;
  }
  const uid = (x: unknown): x is number | null =>
    x === null || (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff);
  if (v.kind === 'session') {
    const w = where();
    return id(v.sid) && uid(v.uid) && w !== undefined
      ? {
          kind: 'session',
          sid: v.sid,
          start: w.start,
          uid: v.uid,
          boot: w.boot,
          host: w.host,
          pidns: w.pidns,
        }
      : undefined;
  }
  if (v.kind === 'dir') {
    if (str(v.path, 4096) && /^(?:\/|[A-Za-z]:[\\/]|\\\\)/.test(v.path) && str(v.host, 256)) {
      return { kind: 'dir', path: v.path, host: v.host };
    }
    return undefined;
  }
  if (v.kind === 'tree') {
    if (
      id(v.pid) &&
      nullable(v.start, 32) &&
      nullable(v.boot, 64) &&
      str(v.host, 256) &&
      nullable(v.pidns, 64) &&
      (v.sid === null || id(v.sid)) &&
      uid(v.uid)
    ) {
      return {
        kind: 'tree',
        pid: v.pid,
        start: v.start,
        boot: v.boot,
        host: v.host,
        pidns: v.pidns,
        sid: v.sid,
        uid: v.uid,
      };
    }
  }
  return undefined;
}

/** Validate one record into a fresh object, or return a reason it is rejected. */
export function validateLease(v: unknown): Lease | string {
  if (!isRecord(v)) return 'not an object';
  if (typeof v.id !== 'string' || !LEASE_ID.test(v.id)) return 'bad id';
  if (!str(v.key, 200) || v.key.length === 0) return 'bad key';
  if (!isRecord(v.ports)) return 'bad ports';
  const entries = Object.entries(v.ports);
  if (entries.length === 0 || entries.length > 256) return 'bad ports';
  const seen = new Set<number>();
  for (const [name, port] of entries) {
    if (!NAME.test(name) || !isPort(port) || seen.has(port)) return `bad port ${name}`;
    seen.add(port);
  }
  if (!isRecord(v.range) || !isPort(v.range.lo) || !isPort(v.range.hi) || v.range.lo > v.range.hi) {
    return 'bad range';
  }
  const owner = validOwner(v.owner);
  if (owner === undefined) return 'bad owner';
  if (!isTime(v.created)) return 'bad created';
  if (v.expires !== null && !isTime(v.expires)) return 'bad expires';
  if (owner === null && v.expires === null) return 'neither owner nor expiry';
  const labels: [string, string][] = [];
  if (!isRecord(v.labels)) return 'bad labels';
  const labelEntries = Object.entries(v.labels);
  if (labelEntries.length > 32) return 'too many labels';
  for (const [k, val] of labelEntries) {
    if (!LABEL_KEY.test(k) || !str(val, 512)) return `bad label ${k.slice(0, 40)}`;
    labels.push([k, val]);
  }
  return freezeLease({
    id: v.id,
    key: v.key,
    // Object.fromEntries defines own properties: a name like __proto__ stays a plain key.
    ports: Object.fromEntries(entries) as Record<string, number>,
    range: { lo: v.range.lo, hi: v.range.hi },
    contiguous: v.contiguous === true,
    owner,
    created: v.created,
    expires: v.expires,
    labels: Object.fromEntries(labels),
  });
}

/**
 * Records are frozen: the registry caches each one's JSON text and the last state it saw,
 * so a record must never change after it is made (a changed lease is a new record).
 */
export function freezeLease(lease: Lease): Lease {
  Object.freeze(lease.ports);
  Object.freeze(lease.range);
  if (lease.owner !== null) Object.freeze(lease.owner);
  Object.freeze(lease.labels);
  return Object.freeze(lease);
}

/** Make (or check) the registry directory: never through a symlink, open to every user. */
export function ensureRegistryDir(dir: string): void {
  try {
    lstatSync(dir);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw registryError(dir, err);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o777 });
      // Not sticky, so any user may rename over what another wrote; umask does not apply.
      chmodSync(dir, 0o777);
      shareDirectory(dir); // Windows: the same for every account, through an inherited ACL
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw registryError(dir, e);
    }
  }
  checkRegistryPath(dir);
}

/** Check a registry path without creating anything (for validation before any write). */
export function checkRegistryPath(dir: string): void {
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw registryError(dir, err);
  }
  if (st.isSymbolicLink()) {
    throw new UsageError(
      `registry: ${dir} is a symlink; portlease never follows one there. Use a real directory`,
    );
  }
  if (!st.isDirectory()) {
    throw new UsageError(`registry: ${dir} exists and is not a directory; name a directory`);
  }
}

export function registryError(dir: string, err: unknown): RuntimeError {
  const code = errnoCode(err);
  const uid = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return new RuntimeError(
        `registry ${dir} is not writable by this user${uid}: ${code}. ${permissionFix(dir)}`,
      );
    case 'ENOSPC':
      return new RuntimeError(
        `registry ${dir}: no space left on device (ENOSPC); nothing was changed`,
      );
    case 'EROFS':
      return new RuntimeError(`registry ${dir} is on a read-only file system (EROFS)`);
    case 'EDQUOT':
      return new RuntimeError(`registry ${dir}: disk quota exceeded (EDQUOT); nothing was changed`);
    default:
      return new RuntimeError(
        `registry ${dir}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      );
  }
}

/** Keep a copy of what a read rejected in quarantine/ (bounded, mode 0600); never throws. */
function quarantine(dir: string, what: string, content: string): string | null {
  const qdir = join(dir, 'quarantine');
  try {
    try {
      mkdirSync(qdir, { mode: 0o777 });
      chmodSync(qdir, 0o777);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    if (!lstatSync(qdir).isDirectory()) return null;
    if (readdirSync(qdir).length >= MAX_QUARANTINE) return null;
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${what}-${randomSuffix(6)}.json`;
    const path = join(qdir, name);
    // Only its writer may read it: it may hold what another user wrote, and a copy must
    // never be more readable than what it copies.
    writeAtomic(path, content, 0o600);
    return path;
  } catch {
    return null;
  }
}

/** What a file that is not a regular file is, in words. */
export function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * A state file that cannot be read as one (a directory, FIFO, socket, symlink, or too
 * large): under the lock it is renamed aside so the registry can go on; read-only, ignored.
 */
function setAside(dir: string, what: string, opts: ReadOptions): ReadResult {
  const path = join(dir, STATE_FILE);
  if (!opts.quarantine) {
    opts.warn?.(
      `registry: ${path} is ${what}, not a registry file; ignoring it (the next allocate, release or gc moves it aside)`,
    );
    return { leases: [], rejected: 1 };
  }
  const aside = `${STATE_FILE}.rejected-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomSuffix(4)}`;
  try {
    renameSync(path, join(dir, aside)); // rename never follows a symlink: the link itself moves
  } catch (err) {
    throw new RuntimeError(
      `registry: ${path} is ${what}, not a registry file, and cannot be moved aside (${errnoCode(err) ?? describeError(err)}); remove it`,
    );
  }
  opts.warn?.(
    `registry: ${path} was ${what}, not a registry file; moved it aside as ${aside} and went on with an empty registry`,
  );
  return { leases: [], rejected: 1 };
}

interface ReadOptions {
  /** Under the lock: quarantine damage and move an unreadable state file aside. */
  quarantine: boolean;
  warn?: (msg: string) => void;
}

/** One damaged piece of the state file: where, why, and (for quarantine) what. */
interface Damage {
  line: number;
  reason: string;
  text: string;
}

/** A candidate record: its parsed value, its line, and its text when it was one line. */
interface Candidate {
  raw: unknown;
  line: number;
  text: string | null;
}

interface Parsed {
  candidates: Candidate[];
  damage: Damage[];
  /** The format version the file states, or null when it states none. */
  version: number | null;
  /** Whether anything in the file looked like a registry (a head line or a record). */
  recognised: boolean;
}

/** At most this many warnings name a damaged line; the rest are counted in one more line. */
const MAX_DAMAGE_WARNINGS = 3;
/** A quarantine file holds at most this much of the damage (each piece cut to 4 KiB). */
const MAX_QUARANTINE_BYTES = 256 * 1024;
const MAX_PIECE = 4096;

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

function parse(text: string): Parsed {
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
  let text: string;
  let links: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then says what it is.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return setAside(dir, fileKind(st), opts);
      if (st.size > MAX_STATE_BYTES) return setAside(dir, 'larger than 128 MiB', opts);
      links = st.nlink;
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return { leases: [], rejected: 0 };
    if (code === 'ELOOP') return setAside(dir, 'a symlink', opts);
    if (code === 'ENXIO') return setAside(dir, 'a socket', opts);
    if (err instanceof PortleaseError) throw err;
    throw registryError(dir, err);
  }

  const parsed = parse(text);
  const newer =
    parsed.version !== null && parsed.version > STATE_VERSION ? parsed.version : undefined;
  const damage = parsed.damage;
  if (parsed.version !== null && !(parsed.version >= 1)) {
    damage.push({ line: 1, reason: `unknown format version ${parsed.version}`, text: '' });
  }
  const leases: Lease[] = [];
  const ids = new Set<string>();
  const next = new Map<string, { text: string; lease: Lease }>();
  for (const c of parsed.candidates) {
    let v: Lease | string | undefined;
    if (c.text !== null) {
      const hit = known.get(lineId(c.text));
      if (hit !== undefined && hit.text === c.text) v = hit.lease;
    }
    if (v === undefined) {
      let raw = c.raw;
      if (raw === undefined && c.text !== null) {
        try {
          raw = JSON.parse(c.text) as unknown;
        } catch {
          raw = c.text; // not a record: rejected below like any other bad record
        }
      }
      v = validateLease(raw);
    }
    if (typeof v !== 'string' && ids.has(v.id)) v = 'an earlier record has the same id';
    if (typeof v === 'string') {
      let shown = c.text;
      if (shown === null) {
        try {
          // c.raw is a parsed value here (only one-line candidates carry no raw value)
          shown = JSON.stringify(c.raw);
        } catch {
          shown = '';
        }
      }
      damage.push({ line: c.line, reason: `bad record: ${v}`, text: shown });
      continue;
    }
    ids.add(v.id);
    leases.push(v);
    // The line maps to what validating it gave; when written, a record is written in its
    // own canonical form (textOf), not as the line it came from.
    if (c.text !== null) remember(next, c.text, v);
  }
  known = next;

  if (newer !== undefined) {
    opts.warn?.(
      `registry: ${path} is format version ${newer}, written by a newer portlease (this one reads version ${STATE_VERSION}); showing the records it can read, changing nothing`,
    );
    return { leases, rejected: damage.length, newer };
  }
  if (damage.length > 0) reportDamage(dir, text, damage, parsed, leases.length, links, opts);
  return { leases, rejected: damage.length };
}

/** Warn about damage (a bounded number of lines) and keep it in one quarantine file. */
function reportDamage(
  dir: string,
  text: string,
  damage: readonly Damage[],
  parsed: Parsed,
  intact: number,
  links: number,
  opts: ReadOptions,
): void {
  const path = join(dir, STATE_FILE);
  let note = '';
  if (opts.quarantine) {
    if (links > 1) {
      // A hard link may be another file entirely (a secret linked in here): never copy it.
      note = `; not copied to quarantine (the file has ${links} hard links)`;
    } else {
      const pieces: { line: number; reason: string; text: string }[] = [];
      let size = 0;
      for (const d of damage) {
        if (size >= MAX_QUARANTINE_BYTES) break;
        const piece = d.text.length > MAX_PIECE ? d.text.slice(0, MAX_PIECE) : d.text;
        size += piece.length + d.reason.length + 32;
        pieces.push({ line: d.line, reason: d.reason, text: piece });
      }
      const kept = quarantine(
        dir,
        'state',
        JSON.stringify({
          file: path,
          read: new Date().toISOString(),
          bytes: text.length,
          damaged: pieces,
          more: damage.length - pieces.length,
        }) + '\n',
      );
      if (kept !== null) note = `; the damage is kept in ${kept}`;
    }
  }
  if (!parsed.recognised && intact === 0) {
    opts.warn?.(`registry: ${path} does not parse as a portlease registry; ignoring it${note}`);
    return;
  }
  for (const d of damage.slice(0, MAX_DAMAGE_WARNINGS)) {
    opts.warn?.(`registry: ${path}${d.line > 0 ? ` line ${d.line}` : ''}: ${d.reason}; skipped it`);
  }
  const more = damage.length - MAX_DAMAGE_WARNINGS;
  opts.warn?.(
    `registry: ${path}: ${more > 0 ? `${more} more damaged line${more === 1 ? '' : 's'} skipped; ` : ''}kept the ${intact} intact record${intact === 1 ? '' : 's'}${note}`,
  );
}

/**
 * Write `content` to `path` atomically: temp file, fsync, rename. A crash of the process or
 * the machine at any point leaves the old file or the new one, whole. The directory is not
 * fsynced: that would only make the rename itself durable across a power loss, and after a
 * reboot every lease's owner is provably dead anyway (another boot id), so an older whole
 * state is as good as the newer one.
 */
export function writeAtomic(path: string, content: string, mode = 0o666): void {
  const temp = `${path}.tmp.${process.pid}.${randomSuffix(8)}`;
  let fd: number | undefined;
  try {
    fd = openSync(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    const buf = Buffer.from(content, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    chmodSync(temp, mode); // 0666: readable and replaceable by every user; umask does not apply
    renameRetry(temp, path); // Windows: a scanner holding the old file open fails it briefly
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // closing a broken fd: nothing more to do
      }
    }
    try {
      unlinkRetry(temp);
    } catch {
      // never created or already renamed
    }
    throw err;
  }
}

/** Each record's JSON text, made once per record object (records are never mutated). */
const recordText = new WeakMap<Lease, string>();

/**
 * Record texts this process validated in its last read or write, with their frozen records:
 * a line of the state file equal to one of these is that record, without parsing or
 * validating it again. Only exact text matches count, so nothing unvalidated gets in.
 */
let known = new Map<string, { text: string; lease: Lease }>();

const ID_PREFIX = '{"id":"';

/** The id a canonical record line starts with (a cheap map key; the whole text is compared). */
function lineId(line: string): string {
  if (!line.startsWith(ID_PREFIX)) return '';
  const end = line.indexOf('"', ID_PREFIX.length);
  return end < 0 ? '' : line.slice(ID_PREFIX.length, end);
}

function remember(
  into: Map<string, { text: string; lease: Lease }>,
  text: string,
  lease: Lease,
): void {
  const id = lineId(text);
  if (id !== '') into.set(id, { text, lease });
}

function textOf(lease: Lease): string {
  let text = recordText.get(lease);
  if (text === undefined) {
    text = JSON.stringify(lease);
    recordText.set(lease, text);
  }
  return text;
}

const HEAD = `{"version":${STATE_VERSION},"leases":[\n`;
const TAIL = '\n]}\n';
const EMPTY = `{"version":${STATE_VERSION},"leases":[]}\n`;

/**
 * The state file: plain JSON, one record per line, so a reader can take each line as one
 * record (JSON.stringify never writes a raw newline inside a record).
 */
export function serialize(leases: readonly Lease[]): string {
  if (leases.length === 0) return EMPTY;
  const next = new Map<string, { text: string; lease: Lease }>();
  const lines = leases.map((l) => {
    const text = textOf(l);
    remember(next, text, l);
    return text;
  });
  known = next;
  return HEAD + lines.join(',\n') + TAIL;
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

export function writeState(dir: string, leases: readonly Lease[]): void {
  try {
    writeAtomic(join(dir, STATE_FILE), serialize(leases));
  } catch (err) {
    throw registryError(dir, err);
  }
}

/** Remove temp files left by writers that were killed between open and rename. */
export function sweepTemps(dir: string, olderThanMs = 60_000): number {
  let removed = 0;
  const now = Date.now();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const n of names) {
    if (!n.startsWith(`${STATE_FILE}.tmp.`)) continue;
    try {
      const st = lstatSync(join(dir, n));
      if (now - st.mtimeMs > olderThanMs) {
        unlinkSync(join(dir, n));
        removed++;
      }
    } catch {
      // raced with another sweeper
    }
  }
  return removed;
}
