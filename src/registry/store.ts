/**
 * Lease records on disk.
 *
 * The registry directory holds one state file, `leases.json`, replaced as a whole under the
 * lock: written to a temp file, fsynced, renamed over the old one, and the directory fsynced.
 * A crash at any instruction leaves the old file or the new one, never a torn one.
 *
 * Nothing read from disk is trusted. Every record is validated field by field into a fresh
 * object; a record that fails is skipped with a warning and a copy is kept in `quarantine/`
 * for inspection. A state file that does not parse at all is moved to `quarantine/` whole.
 * No path is followed through a symlink (O_NOFOLLOW, lstat).
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
} from 'node:fs';
import { join } from 'node:path';
import { errnoCode, RuntimeError, UsageError } from './errors.js';
import { CONTROL_CHARS, LABEL_KEY, LEASE_ID, type PortRange } from './inputs.js';
import type { Owner } from './owner.js';

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
  /** Records that failed validation (already quarantined when `quarantine` was asked). */
  rejected: number;
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
  if (v.kind === 'process') {
    if (
      typeof v.pid === 'number' &&
      Number.isInteger(v.pid) &&
      v.pid >= 1 &&
      nullable(v.start, 32) &&
      nullable(v.boot, 64) &&
      str(v.host, 256) &&
      nullable(v.pidns, 64)
    ) {
      return {
        kind: 'process',
        pid: v.pid,
        start: v.start,
        boot: v.boot,
        host: v.host,
        pidns: v.pidns,
      };
    }
    return undefined;
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
  const id = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 1;
  const uid = (x: unknown): x is number | null =>
    x === null || (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff);
  if (v.kind === 'session') {
    if (
      id(v.sid) &&
      nullable(v.start, 32) &&
      uid(v.uid) &&
      nullable(v.boot, 64) &&
      str(v.host, 256) &&
      nullable(v.pidns, 64)
    ) {
      return {
        kind: 'session',
        sid: v.sid,
        start: v.start,
        uid: v.uid,
        boot: v.boot,
        host: v.host,
        pidns: v.pidns,
      };
    }
    return undefined;
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
        `registry ${dir} is not writable by this user${uid}: ${code}. Make it mode 0777 (no sticky bit) or use --registry`,
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

/** Keep a copy of something rejected in quarantine/ (bounded); never throws. */
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
    writeAtomic(path, content);
    return path;
  } catch {
    return null;
  }
}

/**
 * Read and validate the state. With `quarantine` (under the lock), rejected records and
 * unparsable files are copied aside; the caller's next write drops them from the state.
 */
export function readState(
  dir: string,
  opts: { quarantine: boolean; warn?: (msg: string) => void },
): ReadResult {
  const path = join(dir, STATE_FILE);
  let text: string;
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOTFILE' });
      if (st.size > MAX_STATE_BYTES) {
        throw Object.assign(new Error('too large'), { code: 'EFBIG' });
      }
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return { leases: [], rejected: 0 };
    if (code === 'ELOOP' || code === 'ENOTFILE' || code === 'EFBIG') {
      opts.warn?.(
        `registry: ${path} is ${code === 'EFBIG' ? 'too large' : 'not a regular file'}; ignoring it${opts.quarantine ? ' (it will be replaced)' : ''}`,
      );
      if (opts.quarantine && code !== 'ENOTFILE') {
        try {
          renameSync(path, join(dir, `${STATE_FILE}.rejected-${Date.now()}`));
        } catch {
          // the write that follows replaces it anyway
        }
      }
      return { leases: [], rejected: 1 };
    }
    throw registryError(dir, err);
  }

  // Fast path: the file is in serialize's layout; lines this process validated before are
  // reused as they are, the others parsed and validated one by one.
  const lines = recordLines(text);
  let records: unknown[] | undefined;
  const reuse = new Map<number, Lease>();
  if (lines !== null) {
    records = lines.map((line, i) => {
      const hit = known.get(lineId(line));
      if (hit !== undefined && hit.text === line) {
        reuse.set(i, hit.lease);
        return hit.lease;
      }
      try {
        return JSON.parse(line) as unknown;
      } catch {
        return line; // not a record: rejected below like any other bad record
      }
    });
  } else {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined;
    }
    if (isRecord(doc) && Array.isArray(doc.leases)) records = doc.leases as unknown[];
  }
  if (records === undefined) {
    const kept = opts.quarantine ? quarantine(dir, 'state', text) : null;
    opts.warn?.(
      `registry: ${path} does not parse as a portlease registry; ignoring it${kept ? `, kept as ${kept}` : ''}`,
    );
    return { leases: [], rejected: 1 };
  }
  const leases: Lease[] = [];
  const ids = new Set<string>();
  const keys = new Set<string>();
  const ports = new Set<number>();
  let rejected = 0;
  const next = new Map<string, { text: string; lease: Lease }>();
  for (const [i, raw] of records.entries()) {
    let v = reuse.get(i) ?? validateLease(raw);
    if (typeof v !== 'string') {
      if (ids.has(v.id)) v = 'duplicate id';
      else if (keys.has(v.key)) v = 'key held by an earlier record';
      else if (Object.values(v.ports).some((p) => ports.has(p)))
        v = 'port held by an earlier record';
    }
    if (typeof v === 'string') {
      rejected++;
      let content: string;
      try {
        content = JSON.stringify({ reason: v, record: raw });
      } catch {
        content = '{}';
      }
      const kept = opts.quarantine ? quarantine(dir, 'record', content) : null;
      opts.warn?.(`registry: skipped a lease record (${v})${kept ? `; kept as ${kept}` : ''}`);
      continue;
    }
    ids.add(v.id);
    keys.add(v.key);
    for (const p of Object.values(v.ports)) ports.add(p);
    leases.push(v);
    // The line maps to what validating it gave; when written, a record is written in its
    // own canonical form (textOf), not as the line it came from.
    if (lines !== null) remember(next, lines[i] ?? '', v);
  }
  known = next;
  return { leases, rejected };
}

/**
 * Write `content` to `path` atomically: temp file, fsync, rename. A crash of the process or
 * the machine at any point leaves the old file or the new one, whole. The directory is not
 * fsynced: that would only make the rename itself durable across a power loss, and after a
 * reboot every lease's owner is provably dead anyway (another boot id), so an older whole
 * state is as good as the newer one.
 */
export function writeAtomic(path: string, content: string): void {
  const temp = `${path}.tmp.${process.pid}.${randomSuffix(8)}`;
  let fd: number | undefined;
  try {
    fd = openSync(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o666,
    );
    const buf = Buffer.from(content, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    chmodSync(temp, 0o666); // readable and replaceable by every user; umask does not apply
    renameSync(temp, path);
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // closing a broken fd: nothing more to do
      }
    }
    try {
      unlinkSync(temp);
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
