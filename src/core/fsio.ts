/**
 * Files written so that a crash at any instruction leaves the old file or the new one, whole:
 * a temp file beside the target, fsynced, renamed over it; and the sweep of temps a killed
 * writer left. No path is followed through a symlink (O_NOFOLLOW, lstat).
 */
import {
  chmodSync,
  closeSync,
  constants,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { renameRetry, unlinkRetry } from './fsretry.js';
import { randomSuffix } from './text.js';

/** writeAtomic's temp file for `path` is `path` + this + pid.random. */
const TEMP = '.tmp.';

/**
 * Write `content` to `path` atomically: temp file, rename. A crash of the process at any
 * instruction (SIGKILL, OOM) leaves the old file or the new one, whole: the rename is
 * atomic, and the page cache outlives the process.
 *
 * `durable` adds an fsync of the temp file before the rename, so a crash of the machine
 * (power loss, kernel panic) leaves the old file or the new one as well, never a torn or
 * empty one. It costs about 2 ms a write on this host's ext4 (the journal commit it forces)
 * and is asked for only where something written must outlive a reboot
 * (docs/adr/0004-durability.md). The directory is never fsynced: that would only make the
 * rename itself survive a power loss, and an older whole file is as good for what is kept.
 */
export function writeAtomic(path: string, content: string, mode = 0o666, durable = true): void {
  const temp = `${path}${TEMP}${process.pid}.${randomSuffix(8)}`;
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
    if (durable) fsyncSync(fd);
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
 * Remove the temp files of `file` in `dir` that writers killed between open and rename left
 * behind (older than `olderThanMs`). Returns how many it removed.
 */
export function sweepTemps(dir: string, file: string, olderThanMs = 60_000): number {
  let removed = 0;
  const now = Date.now();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const n of names) {
    if (!n.startsWith(`${file}${TEMP}`)) continue;
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
