/**
 * Real hosts for the edge tests: Unix users, strace, mount and pid namespaces. Everything
 * here needs root (as CI has); a missing tool fails the test loudly, never skips it
 * (.ci/run installs strace and python3 with apt-get).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selfOwner } from '../../src/core/index.js';
import { CLI, collect, deadPid, NODE, tempDir, type Run } from '../helpers.js';

export const isRoot = process.getuid?.() === 0;

/** A Unix user with no home (useradd -M), made once. */
export function ensureUser(name: string): void {
  if (spawnSync('id', ['-u', name]).status !== 0) {
    execFileSync('useradd', ['-M', '--shell', '/usr/sbin/nologin', name]);
  }
}

/** Fail loudly when a tool the test needs is missing. */
export function requireTool(name: string): void {
  if (spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0) {
    throw new Error(`${name} is not installed: .ci/run installs it (apt-get install ${name})`);
  }
}

/** A directory like /tmp: sticky and open to every user, for a registry two users share. */
export function sharedParent(): string {
  const parent = tempDir();
  chmodSync(parent, 0o1777);
  return parent;
}

/** A long-lived process of `user` (the owner of that user's leases); kill it with killAs. */
export function sleeperAs(user: string): number {
  const out = execFileSync('runuser', [
    '-u',
    user,
    '--',
    'sh',
    '-c',
    'sleep 300 >/dev/null 2>&1 & echo $!',
  ]);
  return Number(out.toString().trim());
}

export function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Run the built CLI as `user` under `umask`. */
export function cliAs(user: string, umask: string, args: string[]): Promise<Run> {
  const cmd = `umask ${umask}; exec "$0" "$@"`;
  return collect(
    spawn('runuser', ['-u', user, '--', 'sh', '-c', cmd, NODE, CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/**
 * The built CLI with every rename(2) of its process tree delayed by `delayMs` (strace
 * inject): a lock holder slowed inside its write window. `prefix` runs first (e.g. unshare).
 */
export function slowedCli(args: string[], opts: SlowOptions): ChildProcess {
  return slowed([NODE, CLI, ...args], opts);
}

export interface SlowOptions {
  delayMs: number;
  user?: string;
  umask?: string;
  prefix?: string[];
  /** strace's when= (which renames: '1', '2+', ...); every one by default. */
  when?: string;
  /** Delay the syscall's return (after the rename landed) instead of its entry. */
  exit?: boolean;
}

/** `argv` (a Node command line) with every rename(2) of its process tree delayed: see slowedCli. */
export function slowed(argv: readonly string[], opts: SlowOptions): ChildProcess {
  const inject = `rename:${opts.exit ? 'delay_exit' : 'delay_enter'}=${opts.delayMs * 1000}${opts.when ? `:when=${opts.when}` : ''}`;
  const strace = [
    'strace',
    ...(opts.user ? ['-u', opts.user] : []),
    '-f',
    '-qq',
    '-o',
    '/dev/null',
    '-e',
    'trace=rename',
    '-e',
    `inject=${inject}`,
  ];
  const inner = opts.umask ? ['sh', '-c', `umask ${opts.umask}; exec "$0" "$@"`, ...argv] : argv;
  const all = [...(opts.prefix ?? []), ...strace, ...inner];
  return spawn(all[0] ?? '', all.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `argv` run in a private mount namespace where /proc is mounted hidepid=2. */
export function hidepid(argv: readonly string[]): string[] {
  return [
    ...['unshare', '-m', '--propagation', 'private', 'sh', '-c'],
    'mount -t proc -o hidepid=2 proc /proc && exec "$@"',
    'sh',
    ...argv,
  ];
}

/** `argv` run as `user` under hidepid=2 (see hidepid). */
export function hidepidArgv(user: string, argv: readonly string[]): string[] {
  return hidepid(['runuser', '-u', user, '--', ...argv]);
}

export function run(argv: string[]): Promise<Run> {
  return collect(spawn(argv[0] ?? '', argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Resolves once `path` exists (polling), or rejects after `ms`. */
export async function waitFor(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The live leases of a registry, as `list --json` prints them. */
export async function listed(
  dir: string,
): Promise<{ lease: string; ports: Record<string, number> }[]> {
  const r = await collect(
    spawn(NODE, [CLI, 'list', '--json', '--registry', dir], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  return JSON.parse(r.stdout) as { lease: string; ports: Record<string, number> }[];
}

/** Every port that appears in more than one lease record on disk (no validation). */
export function portsTwice(dir: string): number[] {
  const path = join(dir, 'leases.json');
  if (!existsSync(path)) return [];
  const seen = new Set<number>();
  const twice: number[] = [];
  for (const m of readFileSync(path, 'utf8').matchAll(/"ports":\{([^}]*)\}/g)) {
    for (const p of (m[1] ?? '').matchAll(/:(\d+)/g)) {
      const n = Number(p[1]);
      if (seen.has(n)) twice.push(n);
      seen.add(n);
    }
  }
  return twice;
}

/** Link lock generation max+1 as a dead impostor's: the writer's lock has moved on. */
export async function forgeTakeover(dir: string): Promise<void> {
  const lockDir = join(dir, 'lock');
  const max = Math.max(
    ...readdirSync(lockDir)
      .filter((n) => /^g\d{12}$/.test(n))
      .map((n) => Number(n.slice(1))),
  );
  const impostor = { ...selfOwner(), pid: await deadPid(), acquired: Date.now(), sock: null };
  writeFileSync(join(lockDir, `g${String(max + 1).padStart(12, '0')}`), JSON.stringify(impostor));
}
