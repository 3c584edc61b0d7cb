/**
 * rename and unlink that ride out Windows' transient sharing errors.
 *
 * On Windows a rename over a file, or an unlink, fails with EPERM, EBUSY or EACCES while
 * another process has the file open without FILE_SHARE_DELETE: antivirus scanners, search
 * indexers and backup agents do that for a moment after every write. graceful-fs retries
 * for the same reason. Here the retry is synchronous (the registry writes under its lock),
 * with a backoff growing by 10 ms up to 100 ms a try and a total budget, after which the
 * last error is thrown as it was. Elsewhere these errors are final and are thrown at once.
 */
import { renameSync, unlinkSync } from 'node:fs';
import { errnoCode } from './errors.js';
import { currentHost } from './platform.js';

export const RETRY_CODES: ReadonlySet<string> = new Set(['EPERM', 'EBUSY', 'EACCES']);
/** Longest time spent retrying one call. */
export const RETRY_BUDGET_MS = 3000;

export interface RetryOptions {
  /** Default: the host's (platform.ts; tests may set it). */
  platform?: NodeJS.Platform;
  budgetMs?: number;
  /** Block for `ms` (default: Atomics.wait, no busy loop). */
  sleep?: (ms: number) => void;
  now?: () => number;
}

const cell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}

/** Run `op`; on win32 retry it while it fails with a sharing error, within the budget. */
export function withRetry<T>(op: () => T, opts: RetryOptions = {}): T {
  const platform = opts.platform ?? currentHost().platform;
  if (platform !== 'win32') return op();
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? sleepSync;
  const budget = opts.budgetMs ?? RETRY_BUDGET_MS;
  const start = now();
  let backoff = 0;
  for (;;) {
    try {
      return op();
    } catch (err) {
      const code = errnoCode(err);
      if (code === undefined || !RETRY_CODES.has(code)) throw err;
      if (now() - start + backoff > budget) throw err;
      if (backoff > 0) sleep(backoff);
      if (backoff < 100) backoff += 10;
    }
  }
}

export function renameRetry(from: string, to: string, opts?: RetryOptions): void {
  withRetry(() => {
    renameSync(from, to);
  }, opts);
}

export function unlinkRetry(path: string, opts?: RetryOptions): void {
  withRetry(() => {
    unlinkSync(path);
  }, opts);
}
