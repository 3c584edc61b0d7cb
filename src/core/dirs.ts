/**
 * The registry directory: where it is by default, making it (open to every user) and checking
 * it, never through a symlink, that it stays the very directory validated first, and the
 * one-line errors that name it.
 */
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { errnoCode, RuntimeError, UsageError } from './errors.js';
import { permissionFix, shareDirectory } from './platform.js';

/** The host-wide default: one path for every user (never $TMPDIR, which is per user). */
export function defaultRegistryDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.PORTLEASE_REGISTRY;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  if (process.platform === 'win32') {
    return join(env.ProgramData ?? 'C:\\ProgramData', 'portlease');
  }
  return '/tmp/portlease';
}

/** The identity of the registry directory as validated: it must stay this very directory. */
export interface DirId {
  dev: number;
  ino: number;
}

/**
 * `mkdir -p`, one component at a time from the deepest existing ancestor. Not Node's
 * `recursive: true`, which retries forever where mkdir says ENOENT under a parent that
 * exists (any path under /proc): here that mkdir's error is the answer.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ;) {
    try {
      lstatSync(d);
      break;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    missing.push(d);
    const parent = dirname(d);
    if (parent === d) break;
    d = parent;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode: 0o777 });
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
  }
}

/** Make (or check) the registry directory: never through a symlink, open to every user. */
export function ensureRegistryDir(dir: string): void {
  try {
    lstatSync(dir);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw registryError(dir, err);
    try {
      makeDirs(dir);
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

/** Make (or check) the registry directory, and say which directory it is. */
export function openRegistryDir(dir: string): DirId {
  ensureRegistryDir(dir);
  const st = lstatSync(dir);
  return { dev: st.dev, ino: st.ino };
}

/**
 * The registry path must still be the directory validated at the start: not a symlink put
 * in its place (never followed), not another directory.
 */
export function checkSameDir(dir: string, id: DirId): void {
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new RuntimeError(`registry: ${dir} was removed while portlease used it`);
    }
    throw registryError(dir, err);
  }
  if (st.isSymbolicLink()) {
    throw new RuntimeError(
      `registry: ${dir} was replaced by a symlink while portlease used it; portlease never follows one there. Nothing was written`,
    );
  }
  if (!st.isDirectory() || st.dev !== id.dev || st.ino !== id.ino) {
    throw new RuntimeError(
      `registry: ${dir} was replaced by another ${st.isDirectory() ? 'directory' : 'file'} while portlease used it; nothing was written`,
    );
  }
}
