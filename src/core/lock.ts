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
 */
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import { errnoCode, RuntimeError } from './errors.js';
import { fileKind } from './fsio.js';
import { describeOwner, processLiveness, self, type ProcessOwner } from './owner.js';
import { keepInQuarantine } from './quarantine.js';
import { validOwner } from './schema.js';
import { randomSuffix } from './text.js';

export interface LockOptions {
  /** Give up after this long waiting for a holder that is alive or cannot be judged. */
  timeoutMs?: number;
  /** One line when a damaged generation is healed. */
  warn?: (msg: string) => void;
  debug?: (msg: string) => void;
}

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

export interface Lock {
  readonly generation: number;
  /** Whether this generation is still the highest (nobody has taken the lock over). */
  held(): boolean;
  /** Throws if another process has taken the lock over. */
  assertHeld(): void;
  release(): void;
}

/** The last generation number: 15 digits (far below 2^53, so numbers stay exact). */
export const MAX_GENERATION = 999_999_999_999_999;
const GEN = /^g(\d{12,15})$/;
const DONE = /^g(\d{12,15})\.done$/;
const TEMP = /^t\.(\d+)\.[0-9a-z]+$/;
const SOCK = /^s\.\d+\.[0-9a-z]+$/;
/** sun_path holds 108 bytes on Linux (104 on macOS), the terminating NUL included. */
export const SOCKET_PATH_MAX = process.platform === 'linux' ? 107 : 103;
/** A holder record is a few hundred bytes; anything much larger is not one. */
const MAX_HOLDER_BYTES = 4096;
/** How long a contender waits for connect() on a holder's socket before calling it alive. */
const PROBE_TIMEOUT_MS = 1000;
/** Temp files and sockets of killed processes are removed once they are this old. */
const LEFTOVER_MS = 60_000;

/**
 * This copy of the lock module. A pid is no holder's identity: worker threads share their
 * process's pid and start time (docs/adr/0003-thread-identity.md). What identifies the
 * holder of a generation is the module instance that linked it, and only that instance
 * knows which generations it holds: `heldHere`.
 */
const INSTANCE = randomSuffix(16);
/** The generations this module instance holds now: `<lock dir id>/<generation>`. */
const heldHere = new Set<string>();

export const genName = (g: number): string => `g${String(g).padStart(12, '0')}`;

/** The generation a name stands for, only for names in genName's own spelling. */
function numberOf(name: string, re: RegExp, suffix: string): number | null {
  const m = re.exec(name);
  if (!m) return null;
  const g = Number(m[1]);
  return genName(g) + suffix === name ? g : null;
}

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
    const g = numberOf(n, GEN, '');
    if (g !== null) {
      max = Math.max(max, g);
      continue;
    }
    const d = numberOf(n, DONE, '.done');
    if (d !== null) done.add(d);
  }
  return { max, maxDone: done.has(max), names };
}

type HolderRead =
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

function readHolder(path: string): HolderRead {
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

type Probe = 'dead' | 'alive' | 'missing';

/**
 * Ask the kernel whether anyone listens on a holder's socket. ECONNREFUSED on an existing
 * socket file is proof that its listener is gone; every other answer means alive, except a
 * missing (or replaced) socket file, which proves nothing.
 */
function probeSocket(path: string): Promise<Probe> {
  try {
    // connect() to a regular file also answers ECONNREFUSED: only a socket counts.
    if (!lstatSync(path).isSocket()) return Promise.resolve('missing');
  } catch (err) {
    return Promise.resolve(errnoCode(err) === 'ENOENT' ? 'missing' : 'alive');
  }
  return new Promise((resolve) => {
    const s = connect({ path });
    const done = (p: Probe): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(p);
    };
    const timer = setTimeout(() => {
      done('alive');
    }, PROBE_TIMEOUT_MS);
    s.once('connect', () => {
      done('alive');
    });
    s.once('error', (err) => {
      const code = errnoCode(err);
      done(code === 'ECONNREFUSED' ? 'dead' : code === 'ENOENT' ? 'missing' : 'alive');
    });
  });
}

interface Verdict {
  /** dead: take over; alive/unverifiable: wait; look-again: the listing changed under us. */
  state: 'dead' | 'alive' | 'unverifiable' | 'look-again';
  holder: LockHolder | null;
  why: string;
  /** A damaged generation (what it is, its text): kept in quarantine when healed. */
  damaged?: { what: string; text: string };
}

async function judge(dir: string, dirId: string, gen: number): Promise<Verdict> {
  const name = genName(gen);
  const r = readHolder(join(dir, name));
  switch (r.kind) {
    case 'gone':
      return { state: 'look-again', holder: null, why: '' };
    case 'damaged':
      return {
        state: 'dead',
        holder: null,
        why: `lock/${name} is ${r.what}, which no portlease writes`,
        damaged: { what: r.what, text: r.text },
      };
    case 'not-file':
      // Generations are made by link() of a regular file: this one was never a holder's.
      return { state: 'dead', holder: null, why: `lock/${name} is ${r.what}, not a holder record` };
    case 'unreadable':
      return {
        state: 'alive',
        holder: null,
        why: `its record lock/${name} cannot be read (${r.code})`,
      };
    case 'foreign':
      return {
        state: 'unverifiable',
        holder: null,
        why: `lock/${name} is not a holder record this portlease can read`,
      };
  }
  const h = r.holder;
  if (h.instance === INSTANCE) {
    // Only this module instance writes its nonce, and it knows every generation it holds.
    // (The same pid proves nothing: another thread, or another copy of this module in this
    // thread, is judged by its socket like any other process.)
    return heldHere.has(`${dirId}/${gen}`)
      ? { state: 'alive', holder: h, why: 'this thread holds it (another acquisition)' }
      : { state: 'dead', holder: h, why: 'this thread linked it and no longer holds it' };
  }
  if (h.sock !== null) {
    const p = await probeSocket(join(dir, h.sock));
    if (p === 'dead') return { state: 'dead', holder: h, why: `nothing listens on lock/${h.sock}` };
    if (p === 'alive') return { state: 'alive', holder: h, why: `it answers on lock/${h.sock}` };
    // The socket is gone: the holder released just now (it removes the socket after
    // writing .done), or someone removed it. Only the pid rules can tell more.
    if (exists(join(dir, `${name}.done`))) return { state: 'look-again', holder: h, why: '' };
  }
  const liveness = processLiveness(h);
  if (liveness === 'dead') return { state: 'dead', holder: h, why: 'its process is gone' };
  if (liveness === 'alive') return { state: 'alive', holder: h, why: 'its process runs' };
  return {
    state: 'unverifiable',
    holder: h,
    why:
      h.sock === null
        ? 'it has no liveness socket and runs in another pid namespace or on another host'
        : `its socket lock/${h.sock} is missing and it runs in another pid namespace or on another host`,
  };
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or not ours to remove: either way nothing to do
  }
}

/** The lock directory, made if need be; `id` is its identity (device and inode). */
export function ensureLockDir(registryDir: string): { dir: string; id: string } {
  const dir = join(registryDir, 'lock');
  try {
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
  const st = lstatSync(dir, { bigint: true });
  if (!st.isDirectory()) {
    throw new RuntimeError(
      `registry lock ${dir} is not a directory (a symlink or a file); remove it`,
    );
  }
  return { dir, id: `${st.dev}:${st.ino}` };
}

/** The holder's liveness socket: listening from before the link until after `.done`. */
interface Beacon {
  name: string;
  close(): void;
}

async function openBeacon(dir: string, debug?: (msg: string) => void): Promise<Beacon | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const name = `s.${process.pid}.${randomSuffix(8)}`;
    const path = join(dir, name);
    if (Buffer.byteLength(path) > SOCKET_PATH_MAX) {
      debug?.(`lock: ${path} is too long for a unix socket; the pid rules alone prove death`);
      return null;
    }
    const server = createServer((c) => {
      c.destroy();
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      server.close();
      if (errnoCode(err) === 'EADDRINUSE') continue;
      debug?.(
        `lock: cannot listen on ${path} (${errnoCode(err) ?? String(err)}); the pid rules alone prove death`,
      );
      return null;
    }
    server.on('error', () => undefined); // an accept error must not end the process
    server.unref();
    try {
      chmodSync(path, 0o666); // any user may connect(); umask does not apply
    } catch {
      // others then get EACCES, which they count as alive: safe
    }
    // The name the holder record gives is a second hard link to the socket. Node unlinks a
    // socket's own path when its server closes, and so when a worker thread is terminated
    // while it holds the lock (its handles are closed): the path would then be missing, which
    // proves nothing, and the pid rules would call the holder's live process alive for as
    // long as it runs. The second name outlives any close: nobody listens on it any more, so
    // connect() answers ECONNREFUSED, the kernel's proof that the holder is gone.
    const alias = `s.${process.pid}.${randomSuffix(8)}`;
    let named = name;
    try {
      linkSync(path, join(dir, alias));
      named = alias;
    } catch {
      // no hard links here: the socket's own path, as before
    }
    return {
      name: named,
      close(): void {
        server.close();
        tryUnlink(path);
        if (named !== name) tryUnlink(join(dir, named));
      },
    };
  }
  return null;
}

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

async function acquireFileLock(
  registryDir: string,
  lockDir: { dir: string; id: string },
  opts: LockOptions,
): Promise<Lock> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const { dir, id: dirId } = lockDir;
  const me = self();
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  let last: { gen: number; verdict: Verdict } | undefined;
  let beacon: Beacon | null | undefined; // undefined: not opened yet
  /** The damaged generation this contender is taking over, if any: healed once it wins. */
  let damaged: { gen: number; what: string; text: string } | undefined;

  try {
    for (;;) {
      const before = list(dir);
      let takeover = before.max === 0 || before.maxDone;
      damaged = undefined;
      if (!takeover) {
        const verdict = await judge(dir, dirId, before.max);
        if (verdict.state === 'look-again') continue;
        if (verdict.state === 'dead') {
          if (verdict.damaged) damaged = { gen: before.max, ...verdict.damaged };
          opts.debug?.(
            `lock: holder ${verdict.holder ? describeOwner(verdict.holder) : genName(before.max)} is dead; taking over (${verdict.why})`,
          );
          takeover = true;
        } else {
          last = { gen: before.max, verdict };
        }
      }

      if (takeover) {
        if (before.max >= MAX_GENERATION) {
          throw new RuntimeError(
            `registry lock in ${registryDir} reached its last generation number (${genName(before.max)}); stop every portlease process on this host, then remove ${dir} to start again from 1`,
          );
        }
        beacon ??= await openBeacon(dir, opts.debug);
        const gen = before.max + 1;
        const holder: LockHolder = {
          ...me,
          acquired: Date.now(),
          sock: beacon?.name ?? null,
          thread: threadId,
          instance: INSTANCE,
        };
        const temp = join(dir, `t.${me.pid}.${randomSuffix(12)}`);
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
        let won = false;
        const heldKey = `${dirId}/${gen}`;
        try {
          // Known as held here from the instant it exists: judge() trusts heldHere for
          // records of this instance. The beacon listens already (opened above).
          heldHere.add(heldKey);
          linkSync(temp, join(dir, genName(gen)));
          won = true;
        } catch (err) {
          heldHere.delete(heldKey);
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
            heldHere.delete(heldKey);
            continue;
          }
          if (damaged !== undefined) heal(registryDir, damaged, opts.warn);
          await cleanup(dir, after.names, gen, beacon?.name);
          const lock = makeLock(dir, gen, heldKey, me, beacon ?? null);
          beacon = undefined; // the lock owns it now
          return lock;
        }
        delay = 1;
        continue; // lost the race: look again at once
      }

      if (Date.now() >= deadline) {
        throw new RuntimeError(timeoutMessage(registryDir, dir, last, timeoutMs));
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 20);
    }
  } finally {
    beacon?.close();
  }
}

/**
 * A damaged generation this contender took over: its text is kept in the registry's
 * quarantine/ for a person to inspect (cleanup then removes it like any older generation),
 * and one warning says so.
 */
function heal(
  registryDir: string,
  damaged: { gen: number; what: string; text: string },
  warn: ((msg: string) => void) | undefined,
): void {
  const name = genName(damaged.gen);
  const kept = keepInQuarantine(
    registryDir,
    'lock',
    JSON.stringify({
      file: join(registryDir, 'lock', name),
      read: new Date().toISOString(),
      what: damaged.what,
      text: damaged.text,
    }) + '\n',
  );
  warn?.(
    `registry lock: lock/${name} was ${damaged.what}, which no portlease writes, so no one held it; took the lock over${kept === null ? '' : ` and kept the file in ${kept}`}`,
  );
}

function timeoutMessage(
  registryDir: string,
  dir: string,
  last: { gen: number; verdict: Verdict } | undefined,
  timeoutMs: number,
): string {
  const secs = Math.round(timeoutMs / 1000);
  const who = last?.verdict.holder ? describeOwner(last.verdict.holder) : 'an unknown process';
  const file = last ? join(dir, genName(last.gen)) : dir;
  const recover = `if no portlease process runs on this host, remove ${file} to recover`;
  if (last?.verdict.state === 'unverifiable') {
    return `registry lock in ${registryDir} is held by ${who}, which cannot be checked from here (${last.verdict.why}); waited ${secs}s, and a lock is never taken over on age: ${recover}`;
  }
  return `registry lock in ${registryDir} is held by ${who} for over ${secs}s (${last?.verdict.why ?? 'alive'}); is a portlease process stuck? ${recover}`;
}

async function cleanup(
  dir: string,
  names: readonly string[],
  gen: number,
  mySock: string | undefined,
): Promise<void> {
  const now = Date.now();
  const old = (n: string): boolean => {
    try {
      return now - lstatSync(join(dir, n)).mtimeMs > LEFTOVER_MS;
    } catch {
      return false; // gone already
    }
  };
  for (const n of names) {
    const g = numberOf(n, GEN, '') ?? numberOf(n, DONE, '.done');
    if (g !== null) {
      if (g < gen) tryUnlink(join(dir, n));
      continue;
    }
    const t = TEMP.exec(n);
    if (t) {
      // A temp file of a process killed between write and link: remove once it is old.
      if (Number(t[1]) !== process.pid && old(n)) tryUnlink(join(dir, n));
      continue;
    }
    // The socket of a process killed while it held or waited for the lock. Only an old one
    // that provably has no listener: a live contender's socket stays.
    if (SOCK.test(n) && n !== mySock && old(n) && (await probeSocket(join(dir, n))) === 'dead') {
      tryUnlink(join(dir, n));
    }
  }
}

function makeLock(
  dir: string,
  gen: number,
  heldKey: string,
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
      heldHere.delete(heldKey);
      beacon?.close();
    },
  };
}
