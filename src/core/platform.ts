/**
 * Process identity on macOS and Windows, where there is no /proc.
 *
 * owner.ts names a process by pid + start time + boot identity. Linux reads them from /proc;
 * here they come from the host's own tools, run without a shell:
 *
 *   macOS    start: `ps -o stat= -o lstart= -p PID` under TZ=UTC0 and LC_ALL=C (the process's
 *            wall-clock start, to the second), kept as Unix seconds.
 *            boot: `sysctl -n kern.bootsessionuuid`, a UUID the kernel draws at each boot.
 *            Not kern.boottime: XNU moves the boot time whenever the wall clock is stepped
 *            (clock_set_calendar_microtime: "Adjust the boottime based on the delta"), so an
 *            NTP step would make every live owner look rebooted.
 *   Windows  start: Win32_Process.CreationDate through Windows PowerShell's [wmisearcher]
 *            (raw CIM datetime with its UTC offset, kept as UTC microseconds). WMI reads it
 *            for every user's processes, unlike Get-Process, which needs a process handle.
 *            boot: none. LastBootUpTime is derived from the current clock and moves when it
 *            is set. Creation times are absolute, so a reboot still shows: the recorded pid
 *            is gone or belongs to a process created at another time.
 *            Cost: one PowerShell start per query (hundreds of ms). A registry operation
 *            makes at most one query, a snapshot of every process taken after the records
 *            were read; describing the caller's own process is done once per process.
 *
 * Every parser is pure and tested on recorded outputs. Whatever cannot be parsed is unknown
 * (null), never dead: NO_PROCESS comes only from the kernel saying the pid does not exist
 * (kill(pid, 0) -> ESRCH) or from a zombie's state.
 */
import type { SpawnSyncOptions } from 'node:child_process';
import { errnoCode } from './errors.js';

/** What the platform says of a pid that runs no more (owner.ts maps it to its GONE). */
export const NO_PROCESS = Symbol('no process');
/** A start time, NO_PROCESS, or null (cannot tell). */
export type PlatformStart = string | null | typeof NO_PROCESS;

export interface CommandResult {
  /** Exit status, null when the command could not run or timed out. */
  status: number | null;
  stdout: string;
}

export interface Host {
  platform: NodeJS.Platform;
  /** Run a program (never through a shell) and collect its standard output. */
  run: (
    file: string,
    args: readonly string[],
    opts: { env: NodeJS.ProcessEnv; timeoutMs: number },
  ) => CommandResult;
  /** Does a process with this pid exist? (kill(pid, 0); EPERM counts as existing.) */
  exists: (pid: number) => boolean;
  env: NodeJS.ProcessEnv;
  /** The calling process's pid (its start time is looked up once). */
  pid: number;
}

function runCommand(
  file: string,
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; timeoutMs: number },
): CommandResult {
  // Loaded only here, off Linux: node:child_process costs every command time at start-up.
  // (Node before 20.16 has no getBuiltinModule: nothing can be told there, as before.)
  if (typeof process.getBuiltinModule !== 'function') return { status: null, stdout: '' };
  const { spawnSync } = process.getBuiltinModule('node:child_process');
  const options: SpawnSyncOptions = {
    env: opts.env,
    timeout: opts.timeoutMs,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    windowsHide: true,
    maxBuffer: 4 * 1024 * 1024,
  };
  const r = spawnSync(file, [...args], options);
  if (r.error !== undefined) return { status: null, stdout: '' };
  return { status: r.status, stdout: typeof r.stdout === 'string' ? r.stdout : '' };
}

/** Does `pid` exist? kill(pid, 0): EPERM means it does (another user's). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

const realHost: Host = {
  platform: process.platform,
  run: runCommand,
  exists: pidExists,
  env: process.env,
  pid: process.pid,
};

let host: Host = realHost;
let bootCache: { value: string | null } | undefined;
let selfStart: string | undefined;

/** The host owner.ts asks (tests swap in a platform, a command runner and pid existence). */
export function currentHost(): Host {
  return host;
}

/** Is this a host whose identity comes from here rather than /proc? */
export function offLinux(): boolean {
  return host.platform === 'darwin' || host.platform === 'win32';
}

/** Replace parts of the host (tests); returns a function that restores the real one. */
export function useHost(replace: Partial<Host>): () => void {
  const before = host;
  host = { ...realHost, ...replace };
  bootCache = undefined;
  selfStart = undefined;
  return () => {
    host = before;
    bootCache = undefined;
    selfStart = undefined;
  };
}

// ---------------------------------------------------------------- macOS

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * `ps -o lstart=` in the C locale and UTC ("Mon Nov 27 17:58:03 2023", the day padded with
 * a space) -> Unix seconds as a string, or null when it is anything else.
 */
export function parseLstart(text: string): string | null {
  const m = /^([A-Z][a-z]{2}) ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/.exec(
    text.trim(),
  );
  if (!m) return null;
  const [, wd = '', mon = '', d, hh, mm, ss, y] = m;
  const month = MONTHS.indexOf(mon);
  if (month < 0 || !DAYS.includes(wd)) return null;
  const [day, hour, min, sec, year] = [d, hh, mm, ss, y].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60 || year < 1970) return null;
  const ms = Date.UTC(year, month, day, hour, min, sec);
  const back = new Date(ms);
  // Reject dates that roll over (Feb 30) and a weekday that does not match the date.
  if (back.getUTCDate() !== day || DAYS[back.getUTCDay()] !== wd) return null;
  return String(ms / 1000);
}

/** `ps -o stat= -o lstart= -p PID` -> start seconds, NO_PROCESS for a zombie, else null. */
export function parsePs(text: string): PlatformStart {
  const m = /^\s*(\S+)\s+(.+?)\s*$/.exec(text.split('\n').find((l) => l.trim() !== '') ?? '');
  if (!m) return null;
  if ((m[1] ?? '').startsWith('Z')) return NO_PROCESS; // exited; holds nothing, waits to be reaped
  return parseLstart(m[2] ?? '');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `sysctl -n kern.bootsessionuuid` -> the lower-case UUID, or null. */
export function parseBootSession(text: string): string | null {
  const t = text.trim();
  return UUID.test(t) ? t.toLowerCase() : null;
}

const DARWIN_ENV = { LC_ALL: 'C', TZ: 'UTC0', PATH: '/usr/bin:/bin:/usr/sbin:/sbin' };

function darwinStart(pid: number): PlatformStart {
  const r = host.run('/bin/ps', ['-o', 'stat=', '-o', 'lstart=', '-p', String(pid)], {
    env: DARWIN_ENV,
    timeoutMs: 5000,
  });
  return r.status === 0 ? parsePs(r.stdout) : null;
}

function darwinBoot(): string | null {
  const r = host.run('/usr/sbin/sysctl', ['-n', 'kern.bootsessionuuid'], {
    env: DARWIN_ENV,
    timeoutMs: 5000,
  });
  return r.status === 0 ? parseBootSession(r.stdout) : null;
}

// ---------------------------------------------------------------- Windows

/**
 * A CIM datetime, "20231127175803.512345+060" (local time, then the offset from UTC in
 * minutes), -> UTC microseconds since 1970 as a string, or null for anything else
 * (including the wildcard form with asterisks).
 */
export function parseCimDatetime(text: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})([+-])(\d{3})$/.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour, min, sec, micro] = m.slice(1, 8).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offset = Number(m[9]) * (m[8] === '-' ? -1 : 1);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return null;
  }
  if (year < 1970 || Math.abs(offset) > 14 * 60) return null;
  const local = Date.UTC(year, month - 1, day, hour, min, sec);
  if (new Date(local).getUTCDate() !== day) return null;
  const utcMs = local - offset * 60_000;
  return String(utcMs * 1000 + micro);
}

/**
 * Lines "PID CIMDATETIME" (what the PowerShell query prints) -> pid -> start. Lines that do
 * not parse are left out (their pids are then unknown, never gone).
 */
export function parseWinProcesses(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(\d{1,10}) (\S+)\s*$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const start = parseCimDatetime(m[2] ?? '');
    if (start !== null && pid > 0) out.set(pid, start);
  }
  return out;
}

/** The PowerShell program for one pid, or for every process. */
export function winQuery(pid: number | null): string {
  const where = pid === null ? '' : ` WHERE ProcessId=${pid}`;
  return (
    `$ErrorActionPreference='Stop';` +
    `([wmisearcher]'SELECT ProcessId,CreationDate FROM Win32_Process${where}').Get()` +
    `|ForEach-Object{[string]$_.ProcessId+' '+$_.CreationDate}`
  );
}

function powershell(script: string): CommandResult {
  const root = host.env.SystemRoot ?? host.env.windir ?? 'C:\\Windows';
  const exe = `${root}\\System32\\WindowsPowerShell\\v1.0\\powershell.exe`;
  // -EncodedCommand (UTF-16LE, base64): no quoting rules between Node, Windows and PowerShell.
  const encoded = Buffer.from(script, 'utf16le').toString('base64');
  return host.run(exe, ['-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand', encoded], {
    env: host.env,
    timeoutMs: 15_000,
  });
}

/** Caches (one registry operation each) that already hold a snapshot of every process. */
const snapshotted = new WeakSet<object>();

export interface StartCache {
  get(pid: number): unknown;
  set(pid: number, start: string): unknown;
}

function winStart(pid: number, cache?: StartCache): PlatformStart {
  let start: string | undefined;
  if (cache !== undefined) {
    if (!snapshotted.has(cache)) {
      // One query for the whole operation: every pid the operation will ask about.
      snapshotted.add(cache);
      const r = powershell(winQuery(null));
      if (r.status === 0) for (const [p, s] of parseWinProcesses(r.stdout)) cache.set(p, s);
    }
    const hit = cache.get(pid);
    start = typeof hit === 'string' ? hit : undefined;
  } else {
    const r = powershell(winQuery(pid));
    if (r.status === 0) start = parseWinProcesses(r.stdout).get(pid);
  }
  return start ?? null;
}

// ---------------------------------------------------------------- dispatch

/**
 * The start time of `pid` on macOS or Windows: a string, NO_PROCESS when the kernel says
 * there is no such process (or it is a zombie), or null when it cannot be told. `cache` is one registry operation's
 * (see winStart).
 */
export function platformStartTime(pid: number, cache?: StartCache): PlatformStart {
  if (!Number.isSafeInteger(pid) || pid < 1) return null;
  if (pid === host.pid && selfStart !== undefined) return selfStart;
  let start: PlatformStart = null;
  if (host.platform === 'darwin') start = darwinStart(pid);
  else if (host.platform === 'win32') start = winStart(pid, cache);
  if (start === null) return host.exists(pid) ? null : NO_PROCESS;
  if (pid === host.pid && start !== NO_PROCESS) selfStart = start; // this process's never changes
  return start;
}

/** The boot identity on macOS (kern.bootsessionuuid); null on Windows (see the top). */
export function platformBootId(): string | null {
  bootCache ??= { value: host.platform === 'darwin' ? darwinBoot() : null };
  return bootCache.value;
}

// ---------------------------------------------------------------- the registry directory

/** BUILTIN\Users, by SID: the group's name is translated on non-English Windows. */
export const WINDOWS_USERS_SID = '*S-1-5-32-545';

/** The icacls arguments that let every local account modify what is under `dir`. */
export function icaclsGrantArgs(dir: string): string[] {
  return [dir, '/grant', `${WINDOWS_USERS_SID}:(OI)(CI)M`, '/Q'];
}

/**
 * After creating the registry directory: on Windows, grant Users modify rights, inherited
 * by everything created below it. A directory under %ProgramData% otherwise stays writable
 * by its creator only, and a second runner account could not replace the state file.
 * Returns false when that failed (the next write then reports a permission error).
 */
export function shareDirectory(dir: string): boolean {
  if (host.platform !== 'win32') return true;
  const root = host.env.SystemRoot ?? host.env.windir ?? 'C:\\Windows';
  const r = host.run(`${root}\\System32\\icacls.exe`, icaclsGrantArgs(dir), {
    env: host.env,
    timeoutMs: 15_000,
  });
  return r.status === 0;
}

/** How to fix a registry directory this user cannot write. */
export function permissionFix(dir: string): string {
  return host.platform === 'win32'
    ? `Let every runner account modify it: icacls "${dir}" /grant ${WINDOWS_USERS_SID}:(OI)(CI)M, or use --registry`
    : 'Make it mode 0777 (no sticky bit) or use --registry';
}
