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
 *                        identity (pid, start time, boot id, host, pid namespace) and the
 *                        name of its liveness socket; mode 0644 whatever the umask
 *   g000000000041.done   created when that holder releases
 *   s.<pid>.<random>     the holder's liveness socket: a unix socket it listens on from
 *                        before it links its generation until after it writes `.done`,
 *                        and a second name (hard link) of it, which the record gives
 *
 * The lock is held by the creator of the highest generation while it has no `.done`. A
 * generation is taken over only on PROOF that its holder is dead, never on age
 * (docs/adr/0001-lock-takeover.md):
 *
 * - connect() to the holder's socket answers ECONNREFUSED: the socket file exists and
 *   nobody listens on it, so the process that listened has exited. This is the kernel's
 *   word, and it holds across users, pid namespaces (container jobs), hidepid and bind
 *   mounts, with no /proc. Connected, EAGAIN (backlog full), EACCES or a timeout: alive.
 * - A holder record without a socket (written by an older portlease, or a registry path too
 *   long for a socket path) or whose socket file is missing: the pid rules of owner.ts
 *   (same boot and pid namespace, pid gone or start time changed; same host, other boot).
 * - A holder that cannot be judged (another pid namespace without a socket, an unreadable
 *   record, or a record with a pid that this release cannot read) is waited for; at the
 *   timeout the contender fails with one line naming the holder and how to recover.
 * - A generation no release can have written (empty, not JSON, no pid, too large) is no
 *   one's: every release links a complete record, and listens on its socket before the
 *   link. It is taken over at once; its text is kept in quarantine/ and one warning says so.
 * - A record linked by this very module instance (its nonce, `instance`) is judged by what
 *   the instance knows it holds. The pid proves nothing: worker threads share it
 *   (docs/adr/0003-thread-identity.md), so another thread's hold is judged by its socket.
 *
 * To acquire, a process finds the highest generation G; if it is released or provably
 * dead, it links generation G+1. link() fails with EEXIST for all but one contender, so two
 * processes that find the same dead lock can never both win. After winning, the holder
 * checks that no higher generation exists (a contender working from an old listing may
 * have recreated an already cleaned-up number: it then sees the higher one and backs off),
 * and removes the generations below its own. The highest generation is never removed.
 *
 * Every file here is opened with O_NONBLOCK and checked to be a regular file after open,
 * so a FIFO planted in the directory cannot hang a command.
 *
 * This module acquires and releases; one file per job beside it: lock-dir.ts (the directory
 * and its names), lock-holder.ts (the holder record), lock-beacon.ts (the liveness socket
 * and its probe), lock-takeover.ts (judging a holder, healing, sweeping, the timeout).
 *
 * Module state lives here and nowhere else: the nonce INSTANCE, the generations held
 * (heldHere) and the in-process queue. It is per module instance, that is per worker
 * thread (each has its own module graph) and per loaded bundle or re-imported copy. That is
 * safe because none of it is trusted beyond the instance that keeps it: only this instance
 * writes its nonce into records, so it alone judges those by heldHere; every other holder,
 * a sibling thread or another copy in this very thread included, is judged by its liveness
 * socket and the pid rules like any other process (docs/adr/0003-thread-identity.md); and
 * the queue only saves contention, since the file lock alone keeps holders apart.
 */
import { closeSync, constants, linkSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import { errnoCode, RuntimeError } from './errors.js';
import { openBeacon, type Beacon } from './lock-beacon.js';
import {
  ensureLockDir,
  genName,
  list,
  MAX_GENERATION,
  tryUnlink,
  type Listing,
} from './lock-dir.js';
import { writeHolderTemp, type LockHolder } from './lock-holder.js';
import {
  cleanup,
  heal,
  judge,
  timeoutMessage,
  type Damaged,
  type OwnHolds,
  type Verdict,
} from './lock-takeover.js';
import { describeOwner, self, type ProcessOwner } from './owner.js';
import { randomSuffix } from './text.js';

export interface LockOptions {
  /** Give up after this long waiting for a holder that is alive or cannot be judged. */
  timeoutMs?: number;
  /** One line when a damaged generation is healed. */
  warn?: (msg: string) => void;
  debug?: (msg: string) => void;
}

export interface Lock {
  readonly generation: number;
  /** Whether this generation is still the highest (nobody has taken the lock over). */
  held(): boolean;
  /** Throws if another process has taken the lock over. */
  assertHeld(): void;
  release(): void;
}

/**
 * This copy of the lock module. A pid is no holder's identity: worker threads share their
 * process's pid and start time (docs/adr/0003-thread-identity.md). What identifies the
 * holder of a generation is the module instance that linked it, and only that instance
 * knows which generations it holds: `heldHere`.
 */
const INSTANCE = randomSuffix(16);
/** The generations this module instance holds now: `<lock dir id>/<generation>`. */
const heldHere = new Set<string>();

const heldKey = (dirId: string, gen: number): string => `${dirId}/${gen}`;

/** What this instance knows of its holds in one lock directory, for judge(). */
const ownHolds = (dirId: string): OwnHolds => ({
  instance: INSTANCE,
  holds: (gen) => heldHere.has(heldKey(dirId, gen)),
});

/**
 * Acquisitions by this module instance queue here first, one queue per lock directory
 * (by identity, however its path is spelled), so they do not contend with each other on the
 * files. This only saves work: the file lock alone keeps holders apart, also between
 * threads and module copies, which have queues of their own.
 */
const inProcess = new Map<string, Promise<void>>();

/** Acquire the registry lock. Throws RuntimeError after `timeoutMs` behind a live holder. */
export async function acquireLock(registryDir: string, opts: LockOptions = {}): Promise<Lock> {
  const lockDir = ensureLockDir(registryDir);
  const queue = lockDir.id;
  const prev = inProcess.get(queue) ?? Promise.resolve();
  let unblock!: () => void;
  const mine = new Promise<void>((resolve) => (unblock = resolve));
  const chain = prev.then(() => mine);
  inProcess.set(queue, chain);
  await prev;
  try {
    const lock = await acquireFileLock(registryDir, lockDir, opts);
    const release = lock.release.bind(lock);
    return {
      generation: lock.generation,
      held: lock.held.bind(lock),
      assertHeld: lock.assertHeld.bind(lock),
      release(): void {
        try {
          release();
        } finally {
          unblock();
          if (inProcess.get(queue) === chain) inProcess.delete(queue);
        }
      },
    };
  } catch (err) {
    unblock();
    if (inProcess.get(queue) === chain) inProcess.delete(queue);
    throw err;
  }
}

/** One acquisition's fixed facts. */
interface Contender {
  registryDir: string;
  dir: string;
  dirId: string;
  me: ProcessOwner;
  opts: LockOptions;
}

/** The highest generation is free to take (perhaps a damaged one), or held: wait for it. */
type Look =
  | { free: true; damaged: Damaged | undefined }
  | { free: false; last: { gen: number; verdict: Verdict } }
  | 'look-again';

/** The file lock: look, take over what is free or provably dead, else back off and look again. */
async function acquireFileLock(
  registryDir: string,
  lockDir: { dir: string; id: string },
  opts: LockOptions,
): Promise<Lock> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const c: Contender = { registryDir, dir: lockDir.dir, dirId: lockDir.id, me: self(), opts };
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  let last: { gen: number; verdict: Verdict } | undefined;
  let beacon: Beacon | null | undefined; // undefined: not opened yet

  try {
    for (;;) {
      const before = list(c.dir);
      const look = await lookAt(c, before);
      if (look === 'look-again') continue;
      if (look.free) {
        assertNotLastGeneration(c, before.max);
        beacon ??= await openBeacon(c.dir, opts.debug);
        const taken = await take(c, before.max + 1, beacon, look.damaged);
        if (taken === 'lost') {
          delay = 1; // lost the race: look again at once
        } else if (taken !== 'behind') {
          beacon = undefined; // the lock owns it now
          return taken;
        }
        continue;
      }
      last = look.last;
      if (Date.now() >= deadline) {
        throw new RuntimeError(timeoutMessage(registryDir, c.dir, last, timeoutMs));
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 20);
    }
  } finally {
    beacon?.close();
  }
}

/** Is the highest generation of `before` free to take, held, or changing under us? */
async function lookAt(c: Contender, before: Listing): Promise<Look> {
  if (before.max === 0 || before.maxDone) return { free: true, damaged: undefined };
  const verdict = await judge(c.dir, before.max, ownHolds(c.dirId));
  if (verdict.state === 'look-again') return 'look-again';
  if (verdict.state !== 'dead') return { free: false, last: { gen: before.max, verdict } };
  c.opts.debug?.(
    `lock: holder ${verdict.holder ? describeOwner(verdict.holder) : genName(before.max)} is dead; taking over (${verdict.why})`,
  );
  return {
    free: true,
    damaged: verdict.damaged ? { gen: before.max, ...verdict.damaged } : undefined,
  };
}

function assertNotLastGeneration(c: Contender, max: number): void {
  if (max >= MAX_GENERATION) {
    throw new RuntimeError(
      `registry lock in ${c.registryDir} reached its last generation number (${genName(max)}); stop every portlease process on this host, then remove ${c.dir} to start again from 1`,
    );
  }
}

/**
 * Link generation `gen` with this contender's record. 'lost': another contender linked it
 * first; 'behind': it had been cleaned up and someone is ahead; else the lock, which then
 * owns the beacon (after healing a damaged generation and sweeping the older ones).
 */
async function take(
  c: Contender,
  gen: number,
  beacon: Beacon | null,
  damaged: Damaged | undefined,
): Promise<Lock | 'lost' | 'behind'> {
  const holder: LockHolder = {
    ...c.me,
    acquired: Date.now(),
    sock: beacon?.name ?? null,
    thread: threadId,
    instance: INSTANCE,
  };
  const temp = writeHolderTemp(c.dir, holder);
  const key = heldKey(c.dirId, gen);
  if (!linkGeneration(c.dir, temp, gen, key)) return 'lost';
  const after = list(c.dir);
  if (after.max > gen) {
    // We recreated a generation that had been cleaned up: someone is ahead of us.
    tryUnlink(join(c.dir, genName(gen)));
    heldHere.delete(key);
    return 'behind';
  }
  if (damaged !== undefined) heal(c.registryDir, damaged, c.opts.warn);
  await cleanup(c.dir, after.names, gen, beacon?.name);
  return makeLock(c.dir, gen, key, c.me, beacon);
}

/** link() the temp record as generation `gen`: true when this contender made it. */
function linkGeneration(dir: string, temp: string, gen: number, key: string): boolean {
  let won = false;
  try {
    // Known as held here from the instant it exists: judge() trusts heldHere for
    // records of this instance. The beacon listens already (opened before).
    heldHere.add(key);
    linkSync(temp, join(dir, genName(gen)));
    won = true;
  } catch (err) {
    heldHere.delete(key);
    if (errnoCode(err) !== 'EEXIST') {
      tryUnlink(temp);
      throw err;
    }
  }
  tryUnlink(temp);
  return won;
}

/** The lock on generation `gen`: held while `gen` is the highest; released once. */
function makeLock(
  dir: string,
  gen: number,
  key: string,
  me: ProcessOwner,
  beacon: Beacon | null,
): Lock {
  let released = false;
  const held = (): boolean => {
    try {
      return list(dir).max === gen;
    } catch {
      return false;
    }
  };
  return {
    generation: gen,
    held,
    assertHeld(): void {
      if (!held()) {
        throw new RuntimeError(
          `registry lock was taken over while ${describeOwner(me)}${threadId === 0 ? '' : ` (thread ${threadId})`} held it; nothing was written`,
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
            constants.O_WRONLY |
              constants.O_CREAT |
              constants.O_EXCL |
              constants.O_NOFOLLOW |
              constants.O_NONBLOCK,
            0o666,
          ),
        );
      } catch {
        // Could not mark it released (EEXIST cannot happen; ENOSPC or EIO can): the closed
        // beacon below then proves it free to everyone (its socket refuses), and this
        // instance knows it no longer holds it (heldHere).
      }
      heldHere.delete(key);
      beacon?.close();
    },
  };
}
