/**
 * The holder record a generation holds: written whole to a temp file before link() makes it
 * the generation (mode 0644 whatever the umask), and read back by contenders, trusting
 * nothing in it. Every file is opened with O_NONBLOCK and O_NOFOLLOW and checked to be a
 * regular file after open, so a FIFO or symlink planted in the lock directory cannot hang
 * or fool a command.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from './errors.js';
import { fileKind } from './fsio.js';
import { SOCK, tryUnlink } from './lock-dir.js';
import type { ProcessOwner } from './owner.js';
import { validOwner } from './schema.js';
import { randomSuffix } from './text.js';

export interface LockHolder extends ProcessOwner {
  acquired: number;
  /** The holder's liveness socket in the lock directory (`s.<pid>.<random>`), or null. */
  sock: string | null;
  /** The holder's thread (node:worker_threads threadId; 0 is the main thread), or null. */
  thread: number | null;
  /**
   * The nonce of the lock module instance that acquired it (one per loaded copy of this
   * module, so per thread and per bundle), or null in records of older releases.
   */
  instance: string | null;
}

/** A holder record is a few hundred bytes; anything much larger is not one. */
const MAX_HOLDER_BYTES = 4096;

export type HolderRead =
  | { kind: 'holder'; holder: LockHolder }
  | { kind: 'gone' }
  /** Exists but may not be read by this user: alive, as far as anyone here can tell. */
  | { kind: 'unreadable'; code: string }
  /** A holder-like record this release cannot judge (a pid, but no owner it can read). */
  | { kind: 'foreign' }
  /**
   * A regular file that no release of portlease can have written: empty, not JSON, or JSON
   * without a pid. Every release links a complete record, so no one holds it.
   */
  | { kind: 'damaged'; what: string; text: string }
  /** Not a regular file at all (FIFO, directory, symlink, socket): never made by link(). */
  | { kind: 'not-file'; what: string };

export function readHolder(path: string): HolderRead {
  let text: string;
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return { kind: 'not-file', what: fileKind(st) };
      const buf = Buffer.alloc(MAX_HOLDER_BYTES);
      const n = readSync(fd, buf, 0, MAX_HOLDER_BYTES, 0);
      text = buf.toString('utf8', 0, n);
      if (st.size > MAX_HOLDER_BYTES) {
        return { kind: 'damaged', what: `${st.size} bytes, far larger than a holder record`, text };
      }
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = errnoCode(err) ?? 'error';
    if (code === 'ENOENT') return { kind: 'gone' };
    if (code === 'ELOOP') return { kind: 'not-file', what: 'a symlink' };
    if (code === 'ENXIO') return { kind: 'not-file', what: 'a socket' };
    return { kind: 'unreadable', code };
  }
  return holderOf(text);
}

/** What a holder record's text says, field by field. */
function holderOf(text: string): HolderRead {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: 'damaged', what: text === '' ? 'empty' : 'not JSON', text };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return { kind: 'damaged', what: 'not a JSON object', text };
  }
  const r = v as { pid?: unknown; acquired?: unknown; sock?: unknown; thread?: unknown };
  const instance = (v as { instance?: unknown }).instance;
  // Every release has written the holder's pid: a record without one is nobody's.
  if (!Number.isInteger(r.pid)) return { kind: 'damaged', what: 'a record without a pid', text };
  const owner = validOwner(v);
  if (owner?.kind === 'process' && typeof r.acquired === 'number') {
    return {
      kind: 'holder',
      holder: {
        ...owner,
        acquired: r.acquired,
        sock: typeof r.sock === 'string' && SOCK.test(r.sock) ? r.sock : null,
        thread:
          Number.isInteger(r.thread) && (r.thread as number) >= 0 ? (r.thread as number) : null,
        instance: typeof instance === 'string' && /^[0-9a-z]{16}$/.test(instance) ? instance : null,
      },
    };
  }
  return { kind: 'foreign' };
}

/** The holder record, complete, in a temp file of its own in `dir`: its path, to link(). */
export function writeHolderTemp(dir: string, holder: LockHolder): string {
  const temp = join(dir, `t.${holder.pid}.${randomSuffix(12)}`);
  const fd = openSync(
    temp,
    constants.O_WRONLY |
      constants.O_CREAT |
      constants.O_EXCL |
      constants.O_NOFOLLOW |
      constants.O_NONBLOCK,
    0o644,
  );
  try {
    fchmodSync(fd, 0o644); // readable by every user, whatever the umask
    writeSync(fd, JSON.stringify(holder));
  } catch (err) {
    closeSync(fd);
    tryUnlink(temp);
    throw err;
  }
  closeSync(fd);
  return temp;
}
