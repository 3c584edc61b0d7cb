/**
 * Who owns a lease or the lock, and whether that owner is provably dead. Every entry point
 * (CLI, action, container step, library) takes its owner kinds and its default owner from
 * here, so lifetimes are decided in one place (docs/lifetimes.md).
 *
 * Kinds: `process` (below), `container` (a job container, judged by the engine), `session`
 * (a Unix session: alive while any process is in it), `dir` (alive while a directory
 * exists), `tree` (what `portlease exec` supervises: its own process, its command's
 * session, and every process carrying PORTLEASE_LEASE=<lease id>); no owner at all (null)
 * means TTL only.
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
import { readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fnv1a } from './choose.js';
import { errnoCode, UsageError } from './errors.js';
import { NO_PROCESS, offLinux, pidExists, platformBootId, platformStartTime } from './platform.js';
import { CONTROL_CHARS, parsePid } from './parse.js';
import { readProc, scanCookies, scanProcesses, type CookieScan, type ProcScan } from './proc.js';

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

/**
 * A Unix session (the default owner of the CLI outside GitHub Actions): alive while any
 * process is in it. Session ids are pids; a pid is not reused while any process still has
 * it as its session id, so a reused sid can only make a lease live longer, never shorter.
 */
export interface SessionOwner {
  kind: 'session';
  sid: number;
  /** Start time of the session leader (pid = sid) when it could be read, else null. */
  start: string | null;
  /** Real uid of the session's creator: whose processes hidepid would still show us. */
  uid: number | null;
  boot: string | null;
  host: string;
  pidns: string | null;
}

/** A directory (a worktree): alive while `path` is a directory on `host`. Reboots don't end it. */
export interface DirOwner {
  kind: 'dir';
  /** Canonical (realpath) absolute path. */
  path: string;
  host: string;
}

/**
 * What `portlease exec` supervises: exec itself (pid ... pidns), its command's session
 * (`sid`, null until the command is spawned) and every process whose environment carries
 * PORTLEASE_LEASE=<lease id>. Alive while any of the three is.
 */
export interface TreeOwner {
  kind: 'tree';
  pid: number;
  start: string | null;
  boot: string | null;
  host: string;
  pidns: string | null;
  sid: number | null;
  uid: number | null;
}

export type Owner = ProcessOwner | ContainerOwner | SessionOwner | DirOwner | TreeOwner;
export type OwnerKind = Owner['kind'];
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

/** The comm (process name) of `pid` if it still is the process started at `start`. */
function nameOf(pid: number, start: string | null): string | null {
  const p = readProc(pid);
  if (p === null || p === 'unreadable' || !p.live) return null;
  if (start !== null && p.start !== start) return null;
  return p.comm;
}

/**
 * One short line for an owner: `pid 77`, `session 4242`, `dir /src/wt1`, `exec tree 991`,
 * `none (TTL only)`. With `names`, the process names that are still running are added
 * (`pid 77 (Runner.Worker)`, `session 4242 (bash)`), as `portlease list` shows them.
 */
export function describeOwner(owner: Owner | null, opts: { names?: boolean } = {}): string {
  if (owner === null) return 'none (TTL only)';
  const at = 'host' in owner && owner.host !== hostname() ? `@${owner.host}` : '';
  const named = (pid: number, start: string | null): string => {
    if (!opts.names || at !== '') return '';
    const name = nameOf(pid, start);
    return name === null ? '' : ` (${name})`;
  };
  switch (owner.kind) {
    case 'container':
      return `container ${owner.id.slice(0, 12)}`;
    case 'dir':
      return `dir ${owner.path}${at}`;
    case 'session':
      return `session ${owner.sid}${at}${named(owner.sid, owner.start)}`;
    case 'tree':
      return `exec tree ${owner.pid}${at}${owner.sid !== null && opts.names ? ` (session ${owner.sid})` : ''}`;
    case 'process':
      return `pid ${owner.pid}${at}${named(owner.pid, owner.start)}`;
  }
}

/**
 * Are two owner records the same owner? Field by field (records read back from the registry
 * and records made here may list their fields in another order); null (TTL only) equals
 * only null.
 */
export function sameOwner(a: Owner | null, b: Owner | null): boolean {
  if (a === null || b === null) return a === b;
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  const keys = Object.keys(x);
  return (
    keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && x[k] === y[k])
  );
}

/**
 * Per-operation cache of what owners were judged by: start times per pid (processLiveness)
 * and, read at most once per operation, the process table and the environment cookies.
 */
export class OwnerCache extends Map<number, StartTime> {
  private scanned: ProcScan | null | undefined;
  private cookieScan: CookieScan | undefined;

  scan(): ProcScan | null {
    if (this.scanned === undefined) this.scanned = scanProcesses();
    return this.scanned;
  }

  cookies(): CookieScan | null {
    const scan = this.scan();
    if (scan === null) return null;
    this.cookieScan ??= scanCookies(scan);
    return this.cookieScan;
  }
}

/** Same boot, host and pid namespace as here? 'dead' (rebooted), 'unknown' or 'same'. */
function sameMachine(o: {
  boot: string | null;
  host: string;
  pidns: string | null;
}): 'same' | Liveness {
  const myBoot = bootId();
  if (o.host !== hostname()) return 'unknown';
  if (o.boot !== null && myBoot !== null && o.boot !== myBoot) return 'dead'; // rebooted
  if (o.boot === null || myBoot === null) return 'unknown';
  const myNs = pidNamespace();
  if (o.pidns === null || myNs === null || o.pidns !== myNs) return 'unknown';
  return 'same';
}

function myUid(): number | null {
  return typeof process.getuid === 'function' ? process.getuid() : null;
}

/**
 * Can a process table scan from here see every process of user `uid`? Without hidepid,
 * yes; with it, only as root or as that same user.
 */
function seesAll(scan: ProcScan, uid: number | null): boolean {
  if (!scan.complete) return false;
  if (!scan.hidepid) return true;
  const me = typeof process.geteuid === 'function' ? process.geteuid() : null;
  return me === 0 || (uid !== null && me === uid);
}

/** Is any process in session `sid` (judged from here, see SessionOwner)? */
function sessionLiveness(
  o: { sid: number; start: string | null; uid: number | null },
  cache: OwnerCache,
): Liveness {
  const scan = cache.scan();
  if (scan === null) return 'unknown';
  // The leader's pid now runs a process started at another time: that pid was freed, which
  // the kernel does only once no process has it as its session id any more. Any process
  // with this sid now is in a new session with the same number.
  const leader = scan.procs.find((p) => p.pid === o.sid);
  if (o.start !== null && leader !== undefined && leader.start !== o.start) return 'dead';
  if (scan.procs.some((p) => p.live && p.sid === o.sid)) return 'alive';
  return seesAll(scan, o.uid) ? 'dead' : 'unknown';
}

/** Is `path` a directory on this host? */
function dirLiveness(o: DirOwner): Liveness {
  if (o.host !== hostname()) return 'unknown';
  try {
    return statSync(o.path).isDirectory() ? 'alive' : 'dead';
  } catch (err) {
    const code = errnoCode(err);
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'dead' : 'unknown';
  }
}

/** exec's tree: supervisor, then its command's session, then the environment cookie. */
function treeLiveness(o: TreeOwner, cache: OwnerCache, leaseId: string | undefined): Liveness {
  const machine = sameMachine(o);
  if (machine !== 'same') return machine;
  const supervisor = processLiveness({ ...o, kind: 'process' }, cache);
  if (supervisor !== 'dead') return supervisor;
  if (o.sid !== null) {
    const session = sessionLiveness({ sid: o.sid, start: null, uid: o.uid }, cache);
    if (session !== 'dead') return session;
  } else {
    const scan = cache.scan();
    if (scan === null || !seesAll(scan, o.uid)) return 'unknown';
  }
  if (leaseId === undefined) return 'unknown';
  const cookies = cache.cookies();
  if (cookies === null) return 'unknown';
  if ((cookies.carriers.get(leaseId)?.length ?? 0) > 0) return 'alive';
  // A process of the same user whose environment cannot be read might carry the cookie,
  // unless it started before exec did (the lease id did not exist yet: start times are
  // clock ticks since boot, one clock for all). Other users' processes are not looked at:
  // a stray that changed its uid is not seen.
  const mine = (uids: number[] | null): boolean =>
    uids === null || o.uid === null || uids.includes(o.uid);
  const older = (start: string): boolean => o.start !== null && Number(start) < Number(o.start);
  if (cookies.unreadable.some((u) => mine(u.uids) && !older(u.start))) return 'unknown';
  return 'dead';
}

/**
 * Is this owner alive? 'dead' only when provably so. Containers are judged by the engine
 * (the registry's containerLiveness hook), not here: 'unknown'. `leaseId` is the lease the
 * owner holds (exec trees look for it in environments).
 */
export function ownerLiveness(owner: Owner, cache: OwnerCache, leaseId?: string): Liveness {
  switch (owner.kind) {
    case 'process':
      return processLiveness(owner, cache);
    case 'container':
      return 'unknown';
    case 'dir':
      return dirLiveness(owner);
    case 'tree':
      return treeLiveness(owner, cache, leaseId);
    case 'session': {
      const machine = sameMachine(owner);
      return machine === 'same' ? sessionLiveness(owner, cache) : machine;
    }
  }
}

/** The session id of `pid` (/proc/PID/stat field 6), or null. */
export function sessionOf(pid: number): number | null {
  const p = readProc(pid);
  return p === null || p === 'unreadable' ? null : p.sid;
}

/** Describe session `sid` as an owner, or null when no process is in it (or no /proc). */
export function describeSession(sid: number, uid: number | null = myUid()): SessionOwner | null {
  if (!(sid > 0)) return null;
  const scan = scanProcesses();
  if (scan === null) return null;
  const members = scan.procs.filter((p) => p.live && p.sid === sid);
  if (members.length === 0) return null;
  const leader = members.find((p) => p.pid === sid);
  return {
    kind: 'session',
    sid,
    start: leader?.start ?? null,
    uid,
    boot: bootId(),
    host: hostname(),
    pidns: pidNamespace(),
  };
}

/** The nearest ancestor of `from` (itself included) whose comm is `name`, or null. */
export function findAncestor(name: string, from: number = process.ppid): number | null {
  let pid = from;
  for (let depth = 0; depth < 64 && pid > 0; depth++) {
    const p = readProc(pid);
    if (p === null || p === 'unreadable') return null;
    if (p.comm === name && p.live) return pid;
    if (p.ppid === pid) return null;
    pid = p.ppid;
  }
  return null;
}

/** The process name of GitHub's runner worker: the job's process, alive for the whole job. */
export const RUNNER_WORKER = 'Runner.Worker';

export interface OwnerChoice {
  owner: Owner | null;
  /** One line: who owns the lease and why (for debug output and the action's log). */
  describe: string;
}

/**
 * The owner of a lease when the caller names none (docs/lifetimes.md): in a GitHub Actions
 * step, the job's Runner.Worker (found by walking the parent chain; TTL only when it cannot
 * be seen, as in a container job); elsewhere on Linux the caller's session, which outlives
 * pipelines, subshells, `$(...)`, `sh -c`, make, npx and git hooks; off Linux nobody (TTL).
 * It errs long (bounded by TTL and release), never short.
 */
export function defaultOwner(env: NodeJS.ProcessEnv = process.env): OwnerChoice {
  if (env.GITHUB_ACTIONS === 'true') {
    const worker = findAncestor(RUNNER_WORKER);
    const owner = worker === null ? null : describeProcess(worker);
    if (owner !== null) {
      return { owner, describe: `GitHub Actions step: owner is the runner worker, pid ${worker}` };
    }
    return {
      owner: null,
      describe:
        'GitHub Actions step, but no Runner.Worker among the ancestors (a container job?): TTL only',
    };
  }
  let sid = sessionOf(process.pid);
  // Started with setsid: this session ends with us; the caller's session is the one that lasts.
  if (sid === process.pid) sid = sessionOf(process.ppid);
  const owner = sid === null ? null : describeSession(sid);
  if (owner !== null) {
    return { owner, describe: `owner is the caller's session ${owner.sid}` };
  }
  return {
    owner: null,
    describe:
      sid === null
        ? "no /proc to find the caller's session: TTL only"
        : `the caller's session (${sid}) lies outside this pid namespace: TTL only`,
  };
}

/** exec's own tree owner: this process as supervisor, no command session yet. */
export function treeOwner(): TreeOwner {
  const me = self();
  return { ...me, kind: 'tree', sid: null, uid: myUid() };
}

/** What `--owner` (or the library's `owner` option) asks for, before it is resolved. */
export type OwnerSpec =
  | { kind: 'pid'; pid: number }
  | { kind: 'dir'; path: string }
  | { kind: 'none' }
  | { kind: 'session'; sid: number | null }
  | { kind: 'job' };

const OWNER_FORMS = 'pid:N, dir:PATH, none, session, session:SID or job';

/** Parse `--owner` text. Throws UsageError naming `label`. */
export function parseOwnerSpec(text: string, label: string): OwnerSpec {
  const t = text.trim();
  const show = JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text);
  if (t === 'none') return { kind: 'none' };
  if (t === 'job') return { kind: 'job' };
  if (t === 'session') return { kind: 'session', sid: null };
  const colon = t.indexOf(':');
  const kind = colon < 0 ? t : t.slice(0, colon);
  const arg = colon < 0 ? '' : t.slice(colon + 1);
  if (kind === 'pid') return { kind: 'pid', pid: parsePid(arg, `${label} pid`) };
  if (kind === 'session') return { kind: 'session', sid: parsePid(arg, `${label} session`) };
  if (kind === 'dir') {
    if (arg === '') throw new UsageError(`${label}: dir: needs a path, like dir:$PWD`);
    if (CONTROL_CHARS.test(arg)) {
      throw new UsageError(`${label}: ${show} contains control characters; name a directory`);
    }
    return { kind: 'dir', path: text.slice(text.indexOf(':') + 1) };
  }
  throw new UsageError(`${label}: ${show} is not an owner; use ${OWNER_FORMS}`);
}

/** The canonical path of an existing directory, for a dir owner. Throws UsageError. */
export function canonicalDir(path: string, label: string): string {
  const abs = isAbsolute(path) ? path : resolve(path);
  let real: string;
  try {
    real = realpathSync(abs);
    if (!statSync(real).isDirectory()) {
      throw new UsageError(`${label}: ${abs} is not a directory; dir: needs a directory`);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = errnoCode(err);
    throw new UsageError(
      `${label}: dir:${abs} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}; name an existing directory`,
    );
  }
  if (real.length > 4096 || CONTROL_CHARS.test(real)) {
    throw new UsageError(`${label}: ${JSON.stringify(real.slice(0, 60))} is not a usable path`);
  }
  return real;
}

/** The key of a directory's bundle: `dir:<canonical path>` (hashed when too long for a key). */
export function dirKey(path: string): string {
  const key = `dir:${path}`;
  if (key.length <= 200) return key;
  return `dir:…${path.slice(-170)}#${fnv1a(path).toString(16).padStart(8, '0')}`;
}

/**
 * The key and TTL a lease gets when the caller names none, by its owner: a directory's
 * bundle has the directory's key (every caller there gets the same lease) and no TTL (it
 * lives as long as the directory); any other owner, no key (a fresh one) and `ttlMs`.
 */
export function ownerDefaults(
  owner: Owner | null | undefined,
  ttlMs: number,
): { key: string | undefined; ttlMs: number | null } {
  return owner?.kind === 'dir'
    ? { key: dirKey(owner.path), ttlMs: null }
    : { key: undefined, ttlMs };
}

/** Resolve an owner spec into an owner record (reads /proc and the file system). */
export function resolveOwner(spec: OwnerSpec, label: string): OwnerChoice {
  switch (spec.kind) {
    case 'none':
      return { owner: null, describe: 'no owner: TTL only' };
    case 'pid': {
      const owner = describeProcess(spec.pid);
      if (owner === null) throw new UsageError(`${label}: no process ${spec.pid} is running`);
      return { owner, describe: `owner is pid ${spec.pid}` };
    }
    case 'dir': {
      const path = canonicalDir(spec.path, label);
      return { owner: { kind: 'dir', path, host: hostname() }, describe: `owner is dir ${path}` };
    }
    case 'session': {
      const sid = spec.sid ?? sessionOf(process.pid);
      if (sid === null) throw new UsageError(`${label}: no /proc here to find sessions`);
      // getsid() reads 0 when the session's leader lies outside our pid namespace (a process
      // started by `unshare -p`, or by a container runtime that gave it no session): the
      // processes that read 0 are not one session, so none of them can own a lease.
      if (sid === 0) {
        throw new UsageError(
          `${label}: session: this process's session lies outside this pid namespace (its session id reads 0); use pid:N, dir:PATH or none`,
        );
      }
      const uid = spec.sid === null ? myUid() : sessionUid(sid);
      const owner = describeSession(sid, uid);
      if (owner === null) throw new UsageError(`${label}: no process is in session ${sid}`);
      return { owner, describe: `owner is session ${sid}` };
    }
    case 'job': {
      const worker = findAncestor(RUNNER_WORKER);
      const owner = worker === null ? null : describeProcess(worker);
      if (owner === null) {
        throw new UsageError(
          `${label}: job: no ${RUNNER_WORKER} process among this process's ancestors (not in a GitHub Actions step on this host)`,
        );
      }
      return { owner, describe: `owner is the runner worker, pid ${worker}` };
    }
  }
}

/** The real uid of session `sid`'s leader, else of any of its processes, else ours. */
function sessionUid(sid: number): number | null {
  const scan = scanProcesses();
  const members = (scan?.procs ?? []).filter((p) => p.live && p.sid === sid);
  members.sort((a, b) => (a.pid === sid ? -1 : b.pid === sid ? 1 : 0));
  for (const m of members) {
    try {
      const st = readFileSync(`/proc/${m.pid}/status`, 'utf8');
      const uid = /^Uid:\s+(\d+)/m.exec(st);
      if (uid) return Number(uid[1]);
    } catch {
      // gone meanwhile
    }
  }
  return myUid();
}
