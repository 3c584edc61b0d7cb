/**
 * `--write FILE`: the leased ports written atomically (temp file in the same directory,
 * fsync, rename), as `NAME=PORT` lines when FILE's name ends in `.env`, else as one flat
 * JSON object `{"NAME": port}`. The target is checked before anything is leased.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { errnoCode, RuntimeError, UsageError } from '../core/errors.js';
import { CONTROL_CHARS } from '../core/parse.js';
import { writeAtomic } from '../core/fsio.js';

export interface WriteTarget {
  path: string;
  format: 'env' | 'json';
}

/** Check FILE: a writable directory to put it in, not a directory itself. Touches nothing. */
export function checkWriteTarget(text: string, label: string): WriteTarget {
  const show = JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text);
  if (text.trim() === '' || CONTROL_CHARS.test(text)) {
    throw new UsageError(
      `${label}: ${show} is not a file name; name a file like ports.json or ports.env`,
    );
  }
  const path = resolve(text);
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) {
      throw new UsageError(
        `${label}: ${dir} is not a directory; name a file in an existing directory`,
      );
    }
    accessSync(dir, constants.W_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = errnoCode(err);
    throw new UsageError(
      `${label}: ${code === 'ENOENT' || code === 'ENOTDIR' ? `directory ${dir} does not exist` : `cannot write in ${dir} (${code ?? 'error'})`}; name a file in an existing, writable directory`,
    );
  }
  try {
    if (statSync(path).isDirectory()) {
      throw new UsageError(`${label}: ${path} is a directory; name a file`);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // absent: it will be created
  }
  return { path, format: basename(path).endsWith('.env') ? 'env' : 'json' };
}

export function formatPorts(ports: Record<string, number>, format: 'env' | 'json'): string {
  if (format === 'env') {
    return Object.entries(ports)
      .map(([n, p]) => `${n}=${p}\n`)
      .join('');
  }
  return JSON.stringify(ports) + '\n';
}

/** Write the ports to the target atomically. Throws RuntimeError (one line) on failure. */
export function writePorts(target: WriteTarget, ports: Record<string, number>): void {
  try {
    // The registry's own atomic write: temp file beside it, fsync, rename.
    writeAtomic(target.path, formatPorts(ports, target.format), 0o644);
  } catch (err) {
    throw new RuntimeError(
      `--write: cannot write ${target.path}: ${errnoCode(err) ?? (err instanceof Error ? err.message : String(err))}`,
    );
  }
}
