/**
 * Reading the process table from /proc (Linux): every visible process with its parent,
 * process group, session, state and start time; the environment cookie exec puts on its
 * tree; whether /proc hides other users' processes (hidepid). Used by the owner kinds that
 * are judged by many processes at once (session, exec tree) and by `exec` to find its tree.
 *
 * Everything here answers "what can be seen from here" and says when that view is partial:
 * the callers decide that a partial view never proves anything dead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { errnoCode } from './errors.js';

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** /proc/PID/stat field 3: R, S, D, Z, T, ... */
  state: string;
  /** Start time in clock ticks since boot (field 22). */
  start: string;
  comm: string;
  /**
   * false for a process that has exited (zombie or dead) and holds nothing any more. A
   * zombie thread-group leader whose other threads still run (state Zl) is live.
   */
  live: boolean;
}

export interface ProcScan {
  procs: ProcInfo[];
  /** false when some listed process could not be read (EACCES: hidepid=1, or odd mounts). */
  complete: boolean;
  /** /proc is mounted with hidepid (other users' processes may be invisible or unreadable). */
  hidepid: boolean;
}

/** Parse /proc/PID/stat text (comm may hold spaces and parentheses: split after the last ')'). */
export function parseStat(pid: number, text: string): Omit<ProcInfo, 'live'> | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  const [state, ppid, pgid, sid] = rest;
  const start = rest[19];
  if (state === undefined || start === undefined || !/^\d+$/.test(start)) return null;
  return {
    pid,
    ppid: Number(ppid),
    pgid: Number(pgid),
    sid: Number(sid),
    state,
    start,
    comm: text.slice(open + 1, close),
  };
}

/** Does any thread of `pid` (other than an exited leader) still run? */
function anyLiveThread(pid: number): boolean {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  for (const tid of tids) {
    if (tid === String(pid)) continue;
    try {
      const st = parseStat(Number(tid), readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      if (st && st.state !== 'Z' && st.state !== 'X') return true;
    } catch {
      // thread gone meanwhile
    }
  }
  return false;
}

/** One process as /proc shows it now: null when gone, 'unreadable' when it cannot be read. */
export function readProc(pid: number): ProcInfo | null | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    return code === 'ENOENT' || code === 'ESRCH' ? null : 'unreadable';
  }
  const st = parseStat(pid, text);
  if (st === null) return 'unreadable';
  const exited = st.state === 'Z' || st.state === 'X';
  return { ...st, live: !exited || (st.state === 'Z' && anyLiveThread(pid)) };
}

/** Is /proc (as mounted here, the topmost mount on /proc) mounted with hidepid? */
export function procHidesProcesses(): boolean {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return true; // cannot tell: assume the worst (never prove anything dead on it)
  }
  let hides = false;
  let found = false;
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const point = line.slice(0, sep).split(' ')[4];
    const [fstype, , options = ''] = line.slice(sep + 3).split(' ');
    if (point !== '/proc' || fstype !== 'proc') continue;
    found = true; // a later mount on /proc covers an earlier one
    hides = /(?:^|,)hidepid=(?!0(?:,|$)|off(?:,|$))/.test(options);
  }
  return !found || hides;
}

/** Every process visible in /proc, or null when there is no usable /proc (not Linux). */
export function scanProcesses(): ProcScan | null {
  let names: string[];
  try {
    names = readdirSync('/proc');
    readFileSync('/proc/self/stat');
  } catch {
    return null;
  }
  const procs: ProcInfo[] = [];
  let complete = true;
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p === 'unreadable') complete = false;
    else if (p !== null) procs.push(p);
  }
  return { procs, complete, hidepid: procHidesProcesses() };
}

/** The environment variable `exec` puts on its command's tree (Jenkins's ProcessTreeKiller cookie). */
export const COOKIE = 'PORTLEASE_LEASE';

export interface CookieScan {
  /** lease id -> pids whose environment carries PORTLEASE_LEASE=<id>. */
  carriers: Map<string, number[]>;
  /**
   * Live processes whose environment could not be read (non-dumpable ones, even of the same
   * user or root): their real and effective uids (null when unknown) and start times.
   */
  unreadable: { pid: number; uids: number[] | null; start: string }[];
}

/** The uids (real and effective) of `pid` from /proc/PID/status, or null. */
export function processUids(pid: number): number[] | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    return m ? [Number(m[1]), Number(m[2])] : null;
  } catch {
    return null;
  }
}

/** The PORTLEASE_LEASE value in an environ block (NUL-separated), or null. */
export function cookieOf(environ: Buffer): string | null {
  const needle = Buffer.from(`${COOKIE}=`);
  let at = 0;
  while (at < environ.length) {
    let end = environ.indexOf(0, at);
    if (end < 0) end = environ.length;
    if (end - at > needle.length && environ.subarray(at, at + needle.length).equals(needle)) {
      return environ.subarray(at + needle.length, end).toString('utf8');
    }
    at = end + 1;
  }
  return null;
}

/** Read the cookie of every live process of `scan`. */
export function scanCookies(scan: ProcScan, skip: ReadonlySet<number> = new Set()): CookieScan {
  const out: CookieScan = { carriers: new Map(), unreadable: [] };
  for (const p of scan.procs) {
    if (!p.live || skip.has(p.pid)) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${p.pid}/environ`);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ESRCH') continue;
      out.unreadable.push({ pid: p.pid, uids: processUids(p.pid), start: p.start });
      continue;
    }
    const id = cookieOf(environ);
    if (id === null) continue;
    const list = out.carriers.get(id);
    if (list) list.push(p.pid);
    else out.carriers.set(id, [p.pid]);
  }
  return out;
}
