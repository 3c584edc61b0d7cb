/**
 * `portlease exec`'s supervision of its command's whole process tree.
 *
 * The command is spawned detached: its own session, so also its own process group. A
 * Ctrl-C typed at the terminal reaches only exec (the terminal's foreground group), which
 * passes it on once. "The tree" is every process in that group or session, plus every
 * process whose environment carries PORTLEASE_LEASE=<lease id> (strays that called setsid,
 * like a daemonizing server or `pg_ctl start`; Jenkins's ProcessTreeKiller finds a build's
 * strays by such a cookie).
 *
 * When the command exits, or exec gets SIGINT, SIGTERM or SIGHUP: the signal (SIGTERM when
 * the command exited by itself) goes to the whole tree, then after the grace period SIGKILL
 * to what is left (a second signal skips the rest of the grace period), then exec waits
 * until the tree is gone. Only then may the lease be released.
 */
import { constants as osConstants } from 'node:os';
import { scanCookies, scanProcesses } from '../core/proc.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Passed on to the command's process group; none of them ends exec (SIGUSR1: signals.ts). */
const PASSED_SIGNALS = ['SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

/** How long to wait for the tree to vanish after SIGKILL before giving up on it. */
const KILL_WAIT_MS = 10_000;
const POLL_MS = 50;

export interface SuperviseOptions {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  graceMs: number;
  /** Descriptors the command inherits as 3, 4, ... (exec --listen). */
  fds?: readonly number[];
  /** Hunt strays carrying PORTLEASE_LEASE=<cookie> (only for a lease exec created). */
  cookie: string | null;
  /** Called once the command runs, with its pid (= its session and process-group id). */
  onSpawn: (pid: number) => Promise<void>;
  err: (line: string) => void;
}

export interface SuperviseResult {
  /** The command's exit status (128+N when it died of signal N; 127/126 when it could not run). */
  status: number;
  /** Processes of the tree still there after SIGKILL and KILL_WAIT_MS (the lease must stay). */
  leftovers: number[];
}

interface Member {
  pid: number;
  pgid: number;
}

/** Live processes of the tree rooted at session/group `sid` (exec itself excluded). */
export function treeMembers(sid: number, cookie: string | null): Member[] {
  const scan = scanProcesses();
  if (scan === null) return [];
  const out = new Map<number, Member>();
  for (const p of scan.procs) {
    if (p.live && p.pid !== process.pid && (p.sid === sid || p.pgid === sid)) out.set(p.pid, p);
  }
  if (cookie !== null) {
    const carriers = scanCookies(scan, new Set([process.pid])).carriers.get(cookie) ?? [];
    for (const pid of carriers) {
      const p = scan.procs.find((q) => q.pid === pid);
      if (p) out.set(pid, p);
    }
  }
  return [...out.values()].map((p) => ({ pid: p.pid, pgid: p.pgid }));
}

/**
 * Send `sig` to `pids`, and to the process group `sid` while the command (its leader) is
 * not yet reaped: until then that group id cannot belong to anyone else.
 */
function signalAll(sid: number, members: Member[], sig: NodeJS.Signals, reaped: boolean): void {
  const send = (pid: number): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already, or not ours to signal (EPERM): it keeps the lease alive instead
    }
  };
  if (!reaped) send(-sid); // the group, including members /proc may not show
  // Each process gets the signal once: the group's members got it above.
  for (const m of members) if (reaped || m.pgid !== sid) send(m.pid);
}

export async function supervise(o: SuperviseOptions): Promise<SuperviseResult> {
  const { spawn } = await import('node:child_process'); // only exec needs it: load it here
  const signals: StopSignal[] = [];
  let wake: (() => void) | undefined;
  const handlers = STOP_SIGNALS.map((sig) => {
    const h = (): void => {
      signals.push(sig);
      wake?.();
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  const group: { sid: number | null } = { sid: null };
  const passers = PASSED_SIGNALS.map((sig) => {
    const h = (): void => {
      if (group.sid === null) return;
      try {
        process.kill(-group.sid, sig);
      } catch {
        // the group is gone already
      }
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  /** Resolves after `ms`, or at once when a signal arrives. */
  const nap = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  try {
    const child = spawn(o.file, o.args, {
      stdio: ['inherit', 'inherit', 'inherit', ...(o.fds ?? [])],
      env: o.env,
      detached: true,
    });
    const started = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      child.once('spawn', () => {
        resolve(null);
      });
      child.once('error', resolve);
    });
    if (started !== null || child.pid === undefined) {
      const code = started?.code;
      o.err(
        `portlease: exec: cannot run ${JSON.stringify(o.file)}: ${code === 'ENOENT' ? 'command not found' : (started?.message ?? 'no process')}`,
      );
      return { status: code === 'ENOENT' ? 127 : 126, leftovers: [] };
    }
    const sid = child.pid;
    group.sid = sid;
    let status: number | undefined;
    child.once('exit', (code, signal) => {
      status = signal !== null ? 128 + osConstants.signals[signal] : (code ?? 1);
      group.sid = null; // reaped: the group id may be anyone's now
      wake?.();
    });
    await o.onSpawn(sid);

    // 1. Until the command exits or exec is told to stop.
    while (status === undefined && signals.length === 0) await nap(60_000);
    const first = signals[0];
    // 2. The stop signal (or SIGTERM for what the command left behind) to the whole tree.
    let members = treeMembers(sid, o.cookie);
    if (members.length > 0 || status === undefined) {
      signalAll(sid, members, first ?? 'SIGTERM', status !== undefined);
      const deadline = Date.now() + o.graceMs;
      const seen = signals.length;
      while (Date.now() < deadline && signals.length === seen) {
        members = treeMembers(sid, o.cookie);
        if (members.length === 0 && status !== undefined) break;
        await nap(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
      }
    }
    // 3. SIGKILL to what is left, and wait until it is gone.
    members = treeMembers(sid, o.cookie);
    const killDeadline = Date.now() + KILL_WAIT_MS;
    while ((members.length > 0 || status === undefined) && Date.now() < killDeadline) {
      signalAll(sid, members, 'SIGKILL', status !== undefined);
      await nap(POLL_MS);
      members = treeMembers(sid, o.cookie);
    }
    const leftovers = members.map((m) => m.pid);
    if (status === undefined) leftovers.push(sid); // not even the command itself went away
    return { status: status ?? 128 + osConstants.signals.SIGKILL, leftovers };
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    for (const [sig, h] of passers) process.off(sig, h);
  }
}
