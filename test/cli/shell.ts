/**
 * Helpers for lifetime tests: a `portlease` command on PATH (the built CLI), scripts started
 * in their own session, processes looked up in /proc, and one-port allocations as a second
 * caller would make them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import { cli, CLI, collect, NODE, tempDir, type Run } from '../helpers.js';

let binDir: string | undefined;

/** A directory holding a `portlease` executable that runs the built CLI with this Node. */
export function portleaseBin(): string {
  if (binDir === undefined) {
    binDir = join(tempDir(true), 'bin');
    mkdirSync(binDir);
    const shim = join(binDir, 'portlease');
    writeFileSync(shim, `#!/bin/sh\nexec "${NODE}" "${CLI}" "$@"\n`);
    chmodSync(shim, 0o755);
    chmodSync(binDir, 0o755);
  }
  return binDir;
}

/**
 * The environment of a user's shell: `portlease` on PATH, the registry `dir`, and none of
 * the CI variables that would make the CLI think it runs in a GitHub Actions step.
 */
export function userEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('GITHUB_') && !k.startsWith('RUNNER_') && k !== 'PORTLEASE_LEASE',
    ),
  );
  return {
    ...env,
    PATH: `${portleaseBin()}:${process.env.PATH ?? ''}`,
    PORTLEASE_REGISTRY: dir,
    ...extra,
  };
}

export interface Script {
  child: ChildProcessWithoutNullStreams;
  /** Lines the script printed so far. */
  lines: string[];
  /** The next line starting with `prefix` (rejects when the script exits first). */
  line(prefix: string): Promise<string>;
  /** Close the script's stdin (scripts here end with `read _`) and wait for it to exit. */
  finish(): Promise<Run>;
  done: Promise<Run>;
}

/** Run `script` with bash in a new session (setsid), stdin a pipe, stdout read line by line. */
export function startScript(script: string, env: NodeJS.ProcessEnv, cwd?: string): Script {
  const child = spawn('bash', ['-c', script], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
    cwd,
  });
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (l: string) => void }[] = [];
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (l) => {
    lines.push(l);
    for (const w of [...waiters]) {
      if (l.startsWith(w.prefix)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  const done = collect(child);
  const line = (prefix: string): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const hit = lines.find((l) => l.startsWith(prefix));
      if (hit !== undefined) {
        resolve(hit);
        return;
      }
      waiters.push({ prefix, resolve });
      void done.then((r) => {
        reject(
          new Error(
            `script exited (${r.code ?? r.signal}) before printing ${prefix}; stdout: ${lines.join(' | ')}; stderr: ${r.stderr}`,
          ),
        );
      });
    });
  return {
    child,
    lines,
    line,
    done,
    finish: async () => {
      child.stdin.end();
      return done;
    },
  };
}

/** A second caller's allocation of one port in `range` (TTL only, so it never outlives the test). */
export function secondAllocation(range: string, dir: string): Promise<Run> {
  return cli(
    ['allocate', 'SECOND', '--range', range, '--registry', dir, '--owner', 'none', '--ttl', '2m'],
    {
      env: userEnv(dir),
    },
  );
}

/** Expect the one-port `range` to be held by a live lease: a second caller is refused. */
export async function expectHeld(range: string, dir: string): Promise<void> {
  const r = await secondAllocation(range, dir);
  expect(r.stderr).toMatch(/has no 1 free port; held by 1 lease/);
  expect(r.code).toBe(1);
}

/** Expect the one-port `range` to be leasable again; the lease taken to show it is released. */
export async function expectFree(range: string, dir: string): Promise<void> {
  const r = await secondAllocation(range, dir);
  expect(r.stderr).toBe('');
  expect(r.stdout.trim()).toBe(`SECOND=${range.split('-')[0] ?? ''}`);
  expect(r.code).toBe(0);
  const rel = await cli(['release', '--key', await keyOf(dir, 'SECOND'), '--registry', dir]);
  expect(rel.code).toBe(0);
}

async function keyOf(dir: string, name: string): Promise<string> {
  const r = await cli(['list', '--json', '--registry', dir]);
  const leases = JSON.parse(r.stdout) as { key: string; ports: Record<string, number> }[];
  const hit = leases.find((l) => Object.hasOwn(l.ports, name));
  if (!hit) throw new Error(`no lease with ${name}`);
  return hit.key;
}

/** Is `pid` a live process (not gone, not a zombie)? */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Pids of live processes whose environment carries PORTLEASE_LEASE=`id`. */
export function cookieCarriers(id: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      if (env.includes(`PORTLEASE_LEASE=${id}`) && running(Number(name))) out.push(Number(name));
    } catch {
      // gone, or a kernel thread
    }
  }
  return out;
}

/** Poll `check` until it holds (or fail after `ms`). */
export async function until(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LeaseJson {
  lease: string;
  key: string;
  ports: Record<string, number>;
  owner: Record<string, unknown> | null;
  expires: string | null;
  liveness?: string;
}

export async function listJson(dir: string): Promise<LeaseJson[]> {
  const r = await cli(['list', '--json', '--registry', dir]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as LeaseJson[];
}
