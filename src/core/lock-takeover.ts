/**
 * Judging the holder of the highest generation, and what follows a takeover
 * (docs/adr/0001-lock-takeover.md): a generation is taken over only on proof that its holder
 * is dead (its socket refuses, or the pid rules of owner.ts), or when no release can have
 * written it (a damaged one, healed into quarantine/). After winning, the generations below
 * and what killed processes left behind are swept. The timeout message names a holder that
 * could not be taken over and how to recover.
 *
 * No state here: what this module instance holds is lock.ts's, and judge() is told it.
 */
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { probeSocket } from './lock-beacon.js';
import { DONE, exists, GEN, genName, numberOf, SOCK, TEMP, tryUnlink } from './lock-dir.js';
import { readHolder, type LockHolder } from './lock-holder.js';
import { describeOwner, processLiveness } from './owner.js';
import { keepInQuarantine } from './quarantine.js';

/** Temp files and sockets of killed processes are removed once they are this old. */
const LEFTOVER_MS = 60_000;

export interface Verdict {
  /** dead: take over; alive/unverifiable: wait; look-again: the listing changed under us. */
  state: 'dead' | 'alive' | 'unverifiable' | 'look-again';
  holder: LockHolder | null;
  why: string;
  /** A damaged generation (what it is, its text): kept in quarantine when healed. */
  damaged?: { what: string; text: string };
}

/** A damaged generation being taken over: its number, what it is, its text. */
export interface Damaged {
  gen: number;
  what: string;
  text: string;
}

/** What the judging module instance knows of itself (lock.ts keeps it). */
export interface OwnHolds {
  /** Its nonce: records carrying it were linked by this instance. */
  instance: string;
  /** Whether it holds generation `gen` of this lock directory now. */
  holds(gen: number): boolean;
}

export async function judge(dir: string, gen: number, own: OwnHolds): Promise<Verdict> {
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
  return judgeHolder(dir, gen, r.holder, own);
}

/** A readable holder record: by this instance's memory, its socket, then the pid rules. */
async function judgeHolder(
  dir: string,
  gen: number,
  h: LockHolder,
  own: OwnHolds,
): Promise<Verdict> {
  if (h.instance === own.instance) {
    // Only this module instance writes its nonce, and it knows every generation it holds.
    // (The same pid proves nothing: another thread, or another copy of this module in this
    // thread, is judged by its socket like any other process.)
    return own.holds(gen)
      ? { state: 'alive', holder: h, why: 'this thread holds it (another acquisition)' }
      : { state: 'dead', holder: h, why: 'this thread linked it and no longer holds it' };
  }
  if (h.sock !== null) {
    const p = await probeSocket(join(dir, h.sock));
    if (p === 'dead') return { state: 'dead', holder: h, why: `nothing listens on lock/${h.sock}` };
    if (p === 'alive') return { state: 'alive', holder: h, why: `it answers on lock/${h.sock}` };
    // The socket is gone: the holder released just now (it removes the socket after
    // writing .done), or someone removed it. Only the pid rules can tell more.
    if (exists(join(dir, `${genName(gen)}.done`))) {
      return { state: 'look-again', holder: h, why: '' };
    }
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

/**
 * A damaged generation this contender took over: its text is kept in the registry's
 * quarantine/ for a person to inspect (cleanup then removes it like any older generation),
 * and one warning says so.
 */
export function heal(
  registryDir: string,
  damaged: Damaged,
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

export function timeoutMessage(
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

/**
 * After winning generation `gen`: remove every generation below it, and what killed
 * processes left behind once it is old (temp files; sockets nobody listens on).
 */
export async function cleanup(
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
