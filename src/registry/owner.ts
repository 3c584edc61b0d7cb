/**
 * Who owns a lease or the lock, and whether that owner is provably dead.
 *
 * A process is named by pid + start time + boot id + host + pid namespace. It is dead only
 * when that can be proven from here: same kernel boot and same pid namespace, and the pid is
 * gone or now belongs to a process that started at another time (pid reuse); or same host
 * with another boot id (the host rebooted). Anything else (another host, another pid
 * namespace) is "unknown": never reclaimed on liveness, only on TTL.
 *
 * Linux gives all of this through /proc. macOS and Windows get start times and (macOS) a
 * boot identity from their own tools: platform.ts. Elsewhere only pid existence is known
 * (`process.kill(pid, 0)`), start time and boot id are null, and TTL does the rest.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { errnoCode } from './errors.js';
import { NO_PROCESS, offLinux, platformBootId, platformStartTime } from './platform.js';

export interface ProcessOwner {
  kind: 'process';
  pid: number;
  /**
   * Start time: clock ticks since boot (/proc/PID/stat field 22) on Linux, Unix seconds on
   * macOS, UTC microseconds on Windows (platform.ts); null where unknown.
   */
  start: string | null;
  /** /proc/sys/kernel/random/boot_id; kern.bootsessionuuid on macOS; else null. */
  boot: string | null;
  host: string;
  /** /proc/self/ns/pid link text, like pid:[4026531836], or null. */
  pidns: string | null;
}

/** A container as owner (job containers): alive while the engine says it is running. */
export interface ContainerOwner {
  kind: 'container';
  id: string;
  host: string;
  boot: string | null;
}

export type Owner = ProcessOwner | ContainerOwner;
export type Liveness = 'alive' | 'dead' | 'unknown';

let cachedBoot: string | null | undefined;
let cachedPidns: string | null | undefined;

export function bootId(): string | null {
  if (offLinux()) return platformBootId();
  if (cachedBoot === undefined) {
    try {
      cachedBoot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      cachedBoot = null;
    }
  }
  return cachedBoot;
}

export function pidNamespace(): string | null {
  if (offLinux()) return null;
  if (cachedPidns === undefined) {
    try {
      cachedPidns = readlinkSync('/proc/self/ns/pid');
    } catch {
      cachedPidns = null;
    }
  }
  return cachedPidns;
}

/** What processStartTime says of a pid that runs no more. */
export const GONE = Symbol('gone');
export type StartTime = string | null | typeof GONE;

/**
 * The start time of `pid` from /proc (macOS, Windows: platform.ts), GONE if no such process,
 * or null where it cannot be told (/proc not mounted, or the entry hidden from this user).
 * `cache` is the caller's for one registry operation.
 *
 * "No /proc/PID" is not proof: with /proc mounted `hidepid=1|2` another user's processes
 * have no entry. kill(pid, 0) decides: ESRCH is gone; EPERM or success means it exists
 * (start time unknown). A zombie leader whose other threads still run (state `Zl`: the main
 * thread called pthread_exit) is alive; only a real zombie, one thread left, is gone.
 */
export function processStartTime(pid: number, cache?: Map<number, StartTime>): StartTime {
  if (offLinux()) {
    const start = platformStartTime(pid, cache);
    return start === NO_PROCESS ? GONE : start;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ESRCH') {
      if (!procMounted()) return null;
      return pidExists(pid) ? null : GONE;
    }
    return null;
  }
  // Field 2 (comm) is in parentheses and may hold spaces and ')': split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  const start = rest[19];
  if (rest[0] === 'Z' && threads(pid) <= 1) return GONE; // a zombie has exited: it holds nothing
  return start !== undefined && /^\d+$/.test(start) ? start : null;
}

/** Threads of `pid` (/proc/PID/status), or 2 when unknown (so a zombie counts as alive). */
function threads(pid: number): number {
  try {
    const m = /^Threads:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 2;
  } catch (err) {
    // Reaped between the two reads: gone.
    return errnoCode(err) === 'ENOENT' && !pidExists(pid) ? 0 : 2;
  }
}

let cachedProc: boolean | undefined;
function procMounted(): boolean {
  if (cachedProc === undefined) {
    try {
      readFileSync('/proc/self/stat');
      cachedProc = true;
    } catch {
      cachedProc = false;
    }
  }
  return cachedProc;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** Describe a running process as an owner, or null if `pid` is not running. */
export function describeProcess(pid: number): ProcessOwner | null {
  const start = processStartTime(pid);
  if (start === GONE) return null;
  if (start === null && !pidExists(pid)) return null;
  return { kind: 'process', pid, start, boot: bootId(), host: hostname(), pidns: pidNamespace() };
}

/** The calling process itself. */
export function self(): ProcessOwner {
  const me = describeProcess(process.pid);
  if (me === null) throw new Error('cannot describe the current process');
  return me;
}

/**
 * Is this process owner alive? `'dead'` only when provably so (see the module comment).
 * `cache` memoizes per pid within one registry operation.
 */
export function processLiveness(owner: ProcessOwner, cache?: Map<number, StartTime>): Liveness {
  const myBoot = bootId();
  const myHost = hostname();
  if (owner.boot !== null && myBoot !== null && owner.boot !== myBoot) {
    // Another kernel boot: the same host rebooted (dead), or another machine (unknown).
    return owner.host === myHost ? 'dead' : 'unknown';
  }
  if (owner.boot === null || myBoot === null) {
    if (owner.host !== myHost) return 'unknown';
  }
  const myNs = pidNamespace();
  if (owner.pidns !== null && myNs !== null && owner.pidns !== myNs) return 'unknown';
  if (owner.pidns === null && myNs !== null && owner.boot !== null) return 'unknown';

  let start = cache?.get(owner.pid);
  if (start === undefined) {
    start = processStartTime(owner.pid, cache);
    if (start === null && !procMounted()) start = pidExists(owner.pid) ? null : GONE;
    cache?.set(owner.pid, start);
  }
  if (start === GONE) return 'dead';
  if (start !== null && owner.start !== null && start !== owner.start) return 'dead'; // pid reused
  return 'alive';
}

export function describeOwner(owner: Owner | null): string {
  if (owner === null) return 'none (TTL only)';
  if (owner.kind === 'container') return `container ${owner.id.slice(0, 12)}`;
  return `pid ${owner.pid}${owner.host !== hostname() ? `@${owner.host}` : ''}`;
}
