/**
 * The host-level mutex around every read-modify-write of the registry.
 *
 * Node has no flock(), and a lock file that a dead holder leaves behind must be taken over
 * without ever letting two processes hold the lock. The classic "unlink the stale lock,
 * then create it again" races (two takers both find it stale; the slower one unlinks the
 * lock the faster one just made: proper-lockfile#121). This lock never removes the current
 * lock file. It is a sequence of generations in `<registry>/lock/`:
 *
 *   g000000000041        created with link() (atomic, never overwrites), holds the holder's
 *                        identity (pid, start time, boot id, host, pid namespace)
 *   g000000000041.done   created when that holder releases
 *
 * The lock is held by the creator of the highest generation while it has no `.done`. To
 * acquire, a process finds the highest generation G; if it is released, or its holder is
 * provably dead (owner.ts), or unverifiable and older than `unverifiableStaleMs`, it links
 * generation G+1. link() fails with EEXIST for all but one contender, so two processes that
 * find the same stale lock can never both win. After winning, the holder checks that no
 * higher generation exists (a contender working from an old listing may have recreated an
 * already cleaned-up number: it then sees the higher one and backs off), and removes the
 * generations below its own. The highest generation is never removed.
 */
import {
  closeSync,
  constants,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode, RuntimeError } from './errors.js';
import { randomSuffix, validOwner } from './store.js';
import { describeOwner, processLiveness, self, type Liveness, type ProcessOwner } from './owner.js';

export interface LockOptions {
  /** Give up after this long waiting for a live holder. */
  timeoutMs?: number;
  /** A holder whose liveness cannot be checked (other pid namespace or host) is stale after this. */
  unverifiableStaleMs?: number;
  debug?: (msg: string) => void;
}

export interface LockHolder extends ProcessOwner {
  acquired: number;
}

export interface Lock {
  readonly generation: number;
  /** Throws if another process has taken the lock over (only possible past unverifiableStaleMs). */
  assertHeld(): void;
  release(): void;
}

const GEN = /^g(\d{12})$/;
const DONE = /^g(\d{12})\.done$/;
const TEMP = /^t\.(\d+)\.[0-9a-z]+$/;

const genName = (g: number): string => `g${String(g).padStart(12, '0')}`;

interface Listing {
  max: number;
  maxDone: boolean;
  names: string[];
}

function list(dir: string): Listing {
  const names = readdirSync(dir);
  let max = 0;
  const done = new Set<number>();
  for (const n of names) {
    let m = GEN.exec(n);
    if (m) {
      max = Math.max(max, Number(m[1]));
      continue;
    }
    m = DONE.exec(n);
    if (m) done.add(Number(m[1]));
  }
  return { max, maxDone: done.has(max), names };
}

function readHolder(path: string): LockHolder | 'gone' | null {
  let text: string;
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? 'gone' : null;
  }
  try {
    const v = JSON.parse(text) as { acquired?: unknown };
    const owner = validOwner(v);
    if (owner?.kind === 'process' && typeof v.acquired === 'number') {
      return { ...owner, acquired: v.acquired };
    }
  } catch {
    // fall through: an unreadable holder is unverifiable
  }
  return null;
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or not ours to remove: either way nothing to do
  }
}

export function ensureLockDir(registryDir: string): string {
  const dir = join(registryDir, 'lock');
  try {
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) {
    throw new RuntimeError(
      `registry lock ${dir} is not a directory (a symlink or a file); remove it`,
    );
  }
  return dir;
}

/** Acquisitions within one process queue here first, so the file lock sees one at a time. */
const inProcess = new Map<string, Promise<void>>();

/** Acquire the registry lock. Throws RuntimeError after `timeoutMs` behind a live holder. */
export async function acquireLock(registryDir: string, opts: LockOptions = {}): Promise<Lock> {
  const prev = inProcess.get(registryDir) ?? Promise.resolve();
  let unblock!: () => void;
  const mine = new Promise<void>((resolve) => (unblock = resolve));
  const chain = prev.then(() => mine);
  inProcess.set(registryDir, chain);
  await prev;
  try {
    const lock = await acquireFileLock(registryDir, opts);
    const release = lock.release.bind(lock);
    return {
      generation: lock.generation,
      assertHeld: lock.assertHeld.bind(lock),
      release(): void {
        try {
          release();
        } finally {
          unblock();
          if (inProcess.get(registryDir) === chain) inProcess.delete(registryDir);
        }
      },
    };
  } catch (err) {
    unblock();
    if (inProcess.get(registryDir) === chain) inProcess.delete(registryDir);
    throw err;
  }
}

async function acquireFileLock(registryDir: string, opts: LockOptions): Promise<Lock> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const staleMs = opts.unverifiableStaleMs ?? 15_000;
  const dir = ensureLockDir(registryDir);
  const me = self();
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  let lastHolder: LockHolder | null = null;

  for (;;) {
    const before = list(dir);
    let takeover = before.max === 0 || before.maxDone;
    if (!takeover) {
      const holder = readHolder(join(dir, genName(before.max)));
      if (holder === 'gone') continue; // cleaned up under us: look again
      let liveness: Liveness;
      if (holder === null) {
        liveness = 'unknown';
      } else {
        lastHolder = holder;
        liveness = processLiveness(holder);
        if (holder.pid === me.pid && liveness === 'alive' && holder.start === me.start) {
          // Acquisitions in one process are queued (see acquireLock), so a generation held by
          // this very process is one it leaked: it cannot be a live hold.
          liveness = 'dead';
        }
      }
      if (liveness === 'dead') {
        opts.debug?.(`lock: holder ${describeOwner(holder)} is dead; taking over`);
        takeover = true;
      } else if (liveness === 'unknown') {
        const age = holder === null ? Number.POSITIVE_INFINITY : Date.now() - holder.acquired;
        if (age > staleMs) {
          opts.debug?.(`lock: unverifiable holder older than ${staleMs} ms; taking over`);
          takeover = true;
        }
      }
    }

    if (takeover) {
      const gen = before.max + 1;
      const holder: LockHolder = { ...me, acquired: Date.now() };
      const temp = join(dir, `t.${me.pid}.${randomSuffix(12)}`);
      const fd = openSync(
        temp,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o666,
      );
      try {
        writeSync(fd, JSON.stringify(holder));
      } catch (err) {
        closeSync(fd);
        tryUnlink(temp);
        throw err;
      }
      closeSync(fd);
      let won = false;
      try {
        linkSync(temp, join(dir, genName(gen)));
        won = true;
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') {
          tryUnlink(temp);
          throw err;
        }
      }
      tryUnlink(temp);
      if (won) {
        const after = list(dir);
        if (after.max > gen) {
          // We recreated a generation that had been cleaned up: someone is ahead of us.
          tryUnlink(join(dir, genName(gen)));
          continue;
        }
        cleanup(dir, after.names, gen);
        return makeLock(dir, gen, me);
      }
      delay = 1;
      continue; // lost the race: look again at once
    }

    if (Date.now() >= deadline) {
      const who = lastHolder ? describeOwner(lastHolder) : 'an unknown process';
      throw new RuntimeError(
        `registry lock in ${registryDir} is held by ${who} for over ${Math.round(timeoutMs / 1000)}s; is a portlease process stuck?`,
      );
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 20);
  }
}

function cleanup(dir: string, names: readonly string[], gen: number): void {
  const now = Date.now();
  for (const n of names) {
    const g = GEN.exec(n) ?? DONE.exec(n);
    if (g) {
      if (Number(g[1]) < gen) tryUnlink(join(dir, n));
      continue;
    }
    const t = TEMP.exec(n);
    if (t && Number(t[1]) !== process.pid) {
      // A temp file of a process killed between write and link: remove once it is old.
      try {
        if (now - lstatSync(join(dir, n)).mtimeMs > 60_000) tryUnlink(join(dir, n));
      } catch {
        // gone already
      }
    }
  }
}

function makeLock(dir: string, gen: number, me: ProcessOwner): Lock {
  let released = false;
  return {
    generation: gen,
    assertHeld(): void {
      const l = list(dir);
      if (l.max !== gen) {
        throw new RuntimeError(
          `registry lock was taken over by another process while ${describeOwner(me)} held it; nothing was written`,
        );
      }
    },
    release(): void {
      if (released) return;
      released = true;
      try {
        closeSync(
          openSync(
            join(dir, `${genName(gen)}.done`),
            constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
            0o666,
          ),
        );
      } catch {
        // Could not mark it released (EEXIST cannot happen; ENOSPC or EIO can): the lock then
        // stays with this process until it exits, when the next process takes it over as dead.
      }
    },
  };
}
