/**
 * The engine under real concurrency: many processes at once, processes SIGKILLed at random
 * moments, a lock holder killed while it holds the lock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry, selfOwner, type PortRange } from '../../src/core/index.js';
import { cli, CLI, collect, fixture, NODE, tempDir, testRange } from '../helpers.js';

interface RawLease {
  id: string;
  ports: Record<string, number>;
}

/** Read leases.json exactly as it is on disk (no validation) and fail on any port twice. */
function rawCheck(dir: string, range: PortRange): RawLease[] {
  let text: string;
  try {
    text = readFileSync(join(dir, 'leases.json'), 'utf8');
  } catch {
    return [];
  }
  const doc = JSON.parse(text) as { leases: RawLease[] }; // throws if ever torn
  const seen = new Map<number, string>();
  for (const l of doc.leases) {
    for (const p of Object.values(l.ports)) {
      expect(p).toBeGreaterThanOrEqual(range.lo);
      expect(p).toBeLessThanOrEqual(range.hi);
      if (seen.has(p)) throw new Error(`port ${p} in ${seen.get(p) ?? ''} and ${l.id}`);
      seen.set(p, l.id);
    }
  }
  return doc.leases;
}

function listenAll(ports: number[]): Promise<Server[]> {
  return Promise.all(
    ports.map(
      (port) =>
        new Promise<Server>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen({ port, host: '0.0.0.0' }, () => {
            resolve(s);
          });
        }),
    ),
  );
}

describe('many processes at once', () => {
  it('40 CLI processes allocating from a small range never get a port twice, and all bind', async () => {
    const range = await testRange(90);
    const dir = join(tempDir(), 'reg');
    const runs = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        cli([
          'allocate',
          'WEB',
          'DB',
          '--range',
          `${range.lo}-${range.hi}`,
          '--registry',
          dir,
          '--json',
          '--key',
          `leg-${i}`,
          '--strategy',
          i % 2 === 0 ? 'hash' : 'sequential',
        ]),
      ),
    );
    const ports: number[] = [];
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { ports: Record<string, number> };
      ports.push(...Object.values(out.ports));
    }
    expect(new Set(ports).size).toBe(80);
    expect(rawCheck(dir, range)).toHaveLength(40);
    // Every leased port bound by a real server at the same time: no EADDRINUSE.
    const servers = await listenAll(ports);
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it('allocators SIGKILLed at random moments never leave a port twice or a torn registry', async () => {
    const range = await testRange(24);
    const dir = join(tempDir(), 'reg');
    const kills = 240;
    const live = new Set<ChildProcess>();
    const failures: string[] = [];
    const start = (): void => {
      const child = fixture('churn', [dir, String(range.lo), String(range.hi)]);
      live.add(child);
      void collect(child).then((r) => {
        live.delete(child);
        if (r.signal !== 'SIGKILL') failures.push(`churn exited ${r.code}: ${r.stderr}`);
      });
    };
    for (let i = 0; i < 4; i++) start();
    for (let k = 0; k < kills; k++) {
      await new Promise((r) => setTimeout(r, 30 + Math.random() * 120));
      const victims = [...live];
      const victim = victims[Math.floor(Math.random() * victims.length)];
      victim?.kill('SIGKILL');
      live.delete(victim as ChildProcess);
      rawCheck(dir, range);
      start();
    }
    for (const c of live) c.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    expect(failures).toEqual([]);
    const before = rawCheck(dir, range);
    expect(before.length).toBeGreaterThan(0);
    // Every owner is dead now: the next allocation neither waits for a dead lock holder
    // (lock timeout 5 s, far below the default) nor finds the range full.
    const reg = new Registry(dir, {
      lockTimeoutMs: 5000,
      kernel: { ephemeral: null, reserved: [] },
    });
    const { lease } = await reg.allocate({
      names: Array.from({ length: 24 }, (_, i) => `P${i}`),
      range,
      owner: selfOwner(),
      ttlMs: 60_000,
    });
    expect(Object.keys(lease.ports)).toHaveLength(24);
    expect(rawCheck(dir, range)).toHaveLength(1);
  }, 180_000);

  it('the CLI, the library and the lease server interleaved on one registry, churners and the server SIGKILLed at random: no port twice', async () => {
    const range = await testRange(24);
    const dir = join(tempDir(), 'reg');
    const socket = join(tempDir(), 'serve.sock');
    const args = [String(range.lo), String(range.hi)];
    const failures: string[] = [];
    const live = new Set<ChildProcess>();
    let server: ChildProcess | undefined;
    const startServer = async (): Promise<void> => {
      const child = spawn(NODE, [CLI, 'serve', '--registry', dir, '--socket', socket], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      server = child;
      await new Promise((res) => child.stdout.once('data', res));
    };
    /** Each kind of user of the registry: core, built library, lease-server client. */
    const kinds: [string, string][] = [
      ['churn', dir],
      ['lib-churn', dir],
      ['serve-churn', socket],
    ];
    const kindOf = new Map<ChildProcess, string>();
    const start = (k: number): void => {
      const [name, where] = kinds[k % kinds.length] ?? ['churn', dir];
      const child = fixture(name, [where, ...args]);
      live.add(child);
      kindOf.set(child, name);
      void collect(child).then((r) => {
        live.delete(child);
        cycles.set(name, (cycles.get(name) ?? 0) + r.stdout.split('+').length - 1);
        if (r.signal !== 'SIGKILL') failures.push(`churner ${k} exited ${r.code}: ${r.stderr}`);
      });
    };
    /** Leases bound and released, per kind of churner that says so. */
    const cycles = new Map<string, number>();
    await startServer();
    for (let k = 0; k < 6; k++) start(k);
    // And the CLI, allocating and releasing alongside.
    const cliState = { done: false };
    const cliLoop = (async () => {
      while (!cliState.done) {
        const a = await cli([
          'allocate',
          'C',
          '--range',
          `${range.lo}-${range.hi}`,
          '--registry',
          dir,
          '--json',
          '--wait',
          '5s',
        ]);
        if (a.code !== 0) {
          if (!a.stderr.includes('has no 1 free port')) failures.push(`cli: ${a.stderr}`);
          continue;
        }
        const { lease } = JSON.parse(a.stdout) as { lease: string };
        const r = await cli(['release', '--lease', lease, '--registry', dir]);
        if (r.code !== 0) failures.push(`cli release: ${r.stderr}`);
      }
    })();
    for (let round = 0; round < 60; round++) {
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 150));
      if (round % 10 === 9) {
        server?.kill('SIGKILL');
        await startServer();
      } else {
        // The library's churners start slowest (a Node process loading the bundle): they
        // are killed in one round of five, the others in any.
        const victims = [...live].filter((c) => round % 5 === 0 || kindOf.get(c) !== 'lib-churn');
        const victim = victims[Math.floor(Math.random() * victims.length)];
        victim?.kill('SIGKILL');
        start(kinds.findIndex(([name]) => name === (victim ? kindOf.get(victim) : 'churn')));
      }
      rawCheck(dir, range);
    }
    cliState.done = true;
    await cliLoop;
    for (const c of live) c.kill('SIGKILL');
    server?.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    expect(failures).toEqual([]);
    rawCheck(dir, range);
    // Each kind did real work: the library's and the server's clients bound leased ports.
    expect(cycles.get('lib-churn')).toBeGreaterThan(10);
    expect(cycles.get('serve-churn')).toBeGreaterThan(10);
  }, 180_000);

  it('a lock holder killed while holding the lock is taken over at once', async () => {
    const range = await testRange(2);
    const dir = join(tempDir(), 'reg');
    const holder = fixture('hold-lock', [dir]);
    const out = await new Promise<string>((resolve, reject) => {
      holder.stdout?.once('data', (d: Buffer) => {
        resolve(d.toString());
      });
      holder.once('exit', (code) => {
        reject(new Error(`hold-lock exited ${code}`));
      });
    });
    expect(out).toMatch(/^held \d+/);
    const blocked = await cli(
      ['allocate', 'A', '--registry', dir, '--range', `${range.lo}-${range.hi}`],
      {
        env: { ...process.env, PORTLEASE_DEBUG: '1' },
        timeout: 1500,
      },
    );
    expect(blocked.signal).toBe('SIGTERM'); // still waiting for the live holder after 1.5 s
    holder.kill('SIGKILL');
    await collect(holder);
    const r = await cli(
      ['allocate', 'A', '--registry', dir, '--range', `${range.lo}-${range.hi}`],
      {
        env: { ...process.env, PORTLEASE_DEBUG: '1' },
      },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/lock: holder pid \d+ is dead; taking over/);
  });

  it('a second process with the same key gets the same lease', async () => {
    const range = await testRange(10);
    const dir = join(tempDir(), 'reg');
    const args = [
      'allocate',
      'A',
      'B',
      '--key',
      'worktree-1',
      '--registry',
      dir,
      '--range',
      `${range.lo}-${range.hi}`,
    ];
    const sleeper = spawn('sleep', ['60']);
    try {
      const first = await cli([...args, '--owner-pid', String(sleeper.pid)]);
      const second = await cli(args);
      expect(first.code).toBe(0);
      expect(second.stdout).toBe(first.stdout);
    } finally {
      sleeper.kill();
    }
  });
});
