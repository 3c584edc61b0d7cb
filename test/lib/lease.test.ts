/**
 * lease(): the CLI's allocate as a function. Options through the core's parsers (the CLI's
 * messages), the owner (the calling process by default), `await using`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lease, RuntimeError, UsageError, type LeaseOptions } from '../../src/lib/index.js';
import { Registry } from '../../src/core/index.js';
import { cli, collect, NODE, ROOT, snapshot, tempDir, testRange } from '../helpers.js';
import { requireTool } from '../core/host-tools.js';

const LIB = join(ROOT, 'dist/lib/index.js');

async function listed(
  dir: string,
): Promise<{ id: string; owner: unknown; ports: Record<string, number> }[]> {
  return (await new Registry(dir).list()).map(({ lease: l }) => ({
    id: l.id,
    owner: l.owner,
    ports: { ...l.ports },
  }));
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('lease()', () => {
  it('leases the named ports; `await using` releases them at the end of the block', async () => {
    const range = await testRange(8);
    const registry = join(tempDir(), 'reg');
    let id: string;
    {
      await using l = await lease({
        names: ['WEB_PORT', 'DB_PORT'],
        range: `${range.lo}-${range.hi}`,
        contiguous: true,
        registry,
      });
      id = l.id;
      expect(l.id).toMatch(/^pl_/);
      expect(Object.keys(l.ports)).toEqual(['WEB_PORT', 'DB_PORT']);
      expect(l.ports.DB_PORT).toBe((l.ports.WEB_PORT ?? 0) + 1);
      expect(l.expires).toBeInstanceOf(Date);
      // Default TTL: the CLI's 24h.
      expect(Math.abs((l.expires?.getTime() ?? 0) - Date.now() - 24 * 3_600_000)).toBeLessThan(
        60_000,
      );
      expect(l.registry).toBe(registry);
      expect((await listed(registry)).map((x) => x.id)).toEqual([id]);
    }
    expect(await listed(registry)).toEqual([]);
  });

  it('takes every allocate option: count, range forms, key (same lease back), strategy, ttl, wait', async () => {
    const range = await testRange(6);
    const registry = join(tempDir(), 'reg');
    const a = await lease({
      count: 2,
      range: [range.lo, range.hi],
      key: 'k',
      strategy: 'sequential',
      ttl: 90_000,
      registry,
    });
    expect(a.ports).toEqual({ PORT_1: range.lo, PORT_2: range.lo + 1 });
    expect(Math.abs((a.expires?.getTime() ?? 0) - Date.now() - 90_000)).toBeLessThan(10_000);
    const same = await lease({
      count: 2,
      range: { lo: range.lo, hi: range.hi },
      key: 'k',
      registry,
    });
    expect(same.id).toBe(a.id);
    const b = await lease({
      names: ['X'],
      range: { lo: range.lo, hi: range.hi },
      strategy: 'sequential',
      ttl: '1h30m',
      registry,
    });
    expect(b.ports).toEqual({ X: range.lo + 2 });
    // A full range waits for a release.
    const rest = await lease({ count: 3, range: `${range.lo}-${range.hi}`, registry });
    const waiting = lease({
      names: ['Y'],
      range: `${range.lo}-${range.hi}`,
      wait: '20s',
      registry,
    });
    await new Promise((r) => setTimeout(r, 300));
    await b.release();
    await b.release(); // idempotent
    expect((await waiting).ports).toEqual({ Y: range.lo + 2 });
    // ...and without wait, a full range is a RuntimeError with the CLI's message.
    const err = await lease({ names: ['Z'], range: `${range.lo}-${range.hi}`, registry }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toMatch(
      new RegExp(`^range ${range.lo}-${range.hi} has no 1 free port; held by 3 leases: `),
    );
    await Promise.all([a.release(), rest.release(), (await waiting).release()]);
  });

  it('calls in one process share one Registry per directory: concurrent ones never share a port, and each sees what other processes wrote in between', async () => {
    const r = await testRange(40);
    const registry = join(tempDir(), 'reg');
    const range = `${r.lo}-${r.hi}`;
    const mine = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        lease({ names: [`P${i}`], range, registry, strategy: 'random' }),
      ),
    );
    // Turn about with another process, both taking the lowest free port: a call that trusted
    // what its Registry saw last, instead of the state file, would take the other's port.
    const theirs: number[] = [];
    for (let i = 0; i < 5; i++) {
      mine.push(await lease({ names: ['Q'], range, registry, strategy: 'sequential' }));
      const other = await cli(
        ['allocate', 'Q', '--range', range, '--strategy', 'sequential'].concat([
          '--owner',
          'none',
          '--ttl',
          '1m',
          '--registry',
          registry,
        ]),
      );
      expect(other.code, other.stderr).toBe(0);
      theirs.push(Number(/Q=(\d+)/.exec(other.stdout)?.[1]));
    }
    const ports = [...mine.map((l) => Object.values(l.ports)[0]), ...theirs];
    expect(new Set(ports).size).toBe(30);
    expect(await new Registry(registry).list()).toHaveLength(30);
    await Promise.all(mine.map((l) => l.release()));
    expect(await new Registry(registry).list()).toHaveLength(5);
  });

  it('the owner is the calling process by default: its lease dies with it (kill -9)', async () => {
    const range = await testRange(4);
    const registry = join(tempDir(), 'reg');
    const code = `import { lease } from ${JSON.stringify(LIB)};
      const l = await lease({ names: ['A'], range: '${range.lo}-${range.hi}', registry: ${JSON.stringify(registry)} });
      console.log(l.id); setInterval(() => {}, 1000);`;
    const child = spawn(NODE, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const id = await new Promise<string>((resolve) =>
        child.stdout.once('data', (d: Buffer) => {
          resolve(d.toString().trim());
        }),
      );
      const [held] = await listed(registry);
      expect(held?.id).toBe(id);
      expect(held?.owner).toMatchObject({ kind: 'process', pid: child.pid });
      child.kill('SIGKILL');
      await waitFor(
        async () => (await listed(registry)).length === 0,
        'the lease to die with its owner',
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('the default TTL is renewed while the process holds the lease (lease(), getPort()); an explicit ttl is not', async () => {
    const range = await testRange(6);
    const registry = join(tempDir(), 'reg');
    const code = `import { lease, getPort, portNumbers } from ${JSON.stringify(LIB)};
      const opts = { range: '${range.lo}-${range.hi}', registry: ${JSON.stringify(registry)} };
      const a = await lease({ names: ['A'], ...opts });
      const b = await lease({ names: ['B'], ttl: '10m', ...opts });
      const p = await getPort({ port: portNumbers(${range.lo}, ${range.hi}) });
      console.log(JSON.stringify({ renewed: a.id, fixed: b.id, port: p }));
      setInterval(() => {}, 1000);`;
    const child = spawn(NODE, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORTLEASE_HEARTBEAT_MS: '1000', PORTLEASE_REGISTRY: registry },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const out = await new Promise<string>((resolve) =>
        child.stdout.once('data', (d: Buffer) => {
          resolve(d.toString().trim());
        }),
      );
      const ids = JSON.parse(out) as { renewed: string; fixed: string; port: number };
      const expiry = async (): Promise<{ renewed: number; fixed: number; port: number }> => {
        const all = (await new Registry(registry).list()).map((x) => x.lease);
        const at = (l: (typeof all)[number] | undefined): number => Date.parse(l?.expires ?? '');
        return {
          renewed: at(all.find((l) => l.id === ids.renewed)),
          fixed: at(all.find((l) => l.id === ids.fixed)),
          port: at(all.find((l) => l.ports.PORT === ids.port)),
        };
      };
      const first = await expiry();
      expect(Object.values(first).every(Number.isFinite), JSON.stringify(first)).toBe(true);
      await waitFor(async () => {
        const now = await expiry();
        return now.renewed > first.renewed && now.port > first.port;
      }, 'a renewal of the default-TTL leases');
      await new Promise((r) => setTimeout(r, 1500)); // a heartbeat for the fixed one too
      expect((await expiry()).fixed).toBe(first.fixed);
      expect(stderr).toBe('');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("owner: { pid }, 'pid:N' and 'none'", async () => {
    const range = await testRange(4);
    const registry = join(tempDir(), 'reg');
    const sleeper = spawn('sleep', ['60']);
    try {
      const a = await lease({
        names: ['A'],
        range: `${range.lo}-${range.hi}`,
        owner: { pid: sleeper.pid ?? 0 },
        registry,
      });
      const b = await lease({
        names: ['B'],
        range: `${range.lo}-${range.hi}`,
        owner: `pid:${sleeper.pid}`,
        registry,
      });
      const c = await lease({
        names: ['C'],
        range: `${range.lo}-${range.hi}`,
        owner: 'none',
        ttl: '1m',
        registry,
      });
      const owners = Object.fromEntries((await listed(registry)).map((l) => [l.id, l.owner]));
      expect(owners[a.id]).toMatchObject({ kind: 'process', pid: sleeper.pid });
      expect(owners[b.id]).toMatchObject({ kind: 'process', pid: sleeper.pid });
      expect(owners[c.id]).toBeNull();
      sleeper.kill('SIGKILL');
      await waitFor(
        async () => (await listed(registry)).length === 1,
        'the sleeper-owned leases to die',
      );
      expect((await listed(registry)).map((l) => l.id)).toEqual([c.id]);
      await c.release();
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it("owner: 'dir:PATH' (while the directory exists; key from it, no TTL: the CLI's bundle)", async () => {
    const range = await testRange(4);
    const r = `${range.lo}-${range.hi}`;
    const registry = join(tempDir(), 'reg');
    const work = join(tempDir(), 'worktree');
    mkdirSync(work);
    const real = realpathSync(work);
    const a = await lease({ names: ['WEB'], range: r, owner: `dir:${work}`, registry });
    expect(a.key).toBe(`dir:${real}`);
    expect(a.expires).toBeNull();
    // The same directory (any spelling) gives the same bundle, to the library and the CLI.
    const b = await lease({ names: ['WEB'], range: r, owner: `dir:${work}/.`, registry });
    expect(b.id).toBe(a.id);
    const c = await cli(['allocate', 'WEB', '--owner', `dir:${work}`, '--registry', registry]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toBe(`WEB=${a.ports.WEB}\n`);
    const keep = await lease({ names: ['KEEP'], range: r, owner: 'none', ttl: '1m', registry });
    const owners = Object.fromEntries((await listed(registry)).map((l) => [l.id, l.owner]));
    expect(owners[a.id]).toEqual({ kind: 'dir', path: real, host: hostname() });
    // The lease lives while the directory does.
    rmSync(work, { recursive: true });
    await waitFor(
      async () => (await listed(registry)).every((l) => l.id !== a.id),
      'the dir-owned lease to end with its directory',
    );
    expect((await listed(registry)).map((l) => l.id)).toEqual([keep.id]);
    await keep.release();
  });

  it("owner: 'session' is the caller's session, alive while any process is in it", async () => {
    const range = await testRange(4);
    const registry = join(tempDir(), 'reg');
    // A process of its own session (spawn's detached is setsid), with a member that outlives
    // it: the lease must outlive the leaser and end with the last process of the session.
    const code = `import { lease } from ${JSON.stringify(LIB)};
      import { spawn } from 'node:child_process';
      const l = await lease({ names: ['S'], range: '${range.lo}-${range.hi}', owner: 'session', registry: ${JSON.stringify(registry)} });
      const member = spawn('sleep', ['60'], { stdio: 'ignore' });
      console.log(l.id + ' ' + member.pid); process.exit(0);`;
    const leaser = spawn(NODE, ['--input-type=module', '-e', code], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    leaser.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const status = await new Promise<number | null>((r) => leaser.once('exit', r));
    const [id, member] = out.trim().split(' ');
    expect(status, out).toBe(0);
    try {
      const [held] = await listed(registry);
      expect(held?.id).toBe(id);
      expect(held?.owner).toMatchObject({ kind: 'session', sid: leaser.pid });
      // The leaser is gone; its session lives on in the member, and so does the lease.
      expect((await new Registry(registry).gc()).removed).toEqual([]);
      expect((await listed(registry)).map((l) => l.id)).toEqual([id]);
      process.kill(Number(member), 'SIGKILL');
      await waitFor(
        async () => (await listed(registry)).length === 0,
        'the lease to end with its session',
      );
    } finally {
      try {
        if (leaser.pid !== undefined) process.kill(-leaser.pid, 'SIGKILL');
      } catch {
        // the session's processes are gone
      }
    }
  });

  it("owner: 'session' outside this pid namespace (session id 0) is a UsageError, nothing leased", async () => {
    requireTool('unshare');
    const range = await testRange(2);
    const registry = join(tempDir(), 'reg');
    const code = `import { lease } from ${JSON.stringify(LIB)};
      try { await lease({ names: ['S'], range: '${range.lo}-${range.hi}', owner: 'session', registry: ${JSON.stringify(registry)} }); console.log('leased'); }
      catch (e) { console.log(e.name + ': ' + e.message); }`;
    const r = await collect(
      spawn('unshare', ['-p', '-f', '--mount-proc', NODE, '--input-type=module', '-e', code], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(r.stdout.trim(), r.stderr).toBe(
      "UsageError: owner: session: this process's session lies outside this pid namespace (its session id reads 0); use pid:N, dir:PATH or none",
    );
    expect(existsSync(registry)).toBe(false);
  });

  it("bad options: a UsageError with the CLI's one-line message (the option's name as label), registry untouched", async () => {
    const registry = join(tempDir(), 'reg');
    const range = await testRange(2);
    const keep = await lease({ names: ['KEEP'], range: `${range.lo}-${range.hi}`, registry });
    const file = join(tempDir(), 'not-a-dir');
    const missing = join(tempDir(), 'gone');
    writeFileSync(file, '');
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    const deadPid = String(dead.pid);
    // [library options, CLI allocate arguments]
    const cases: [LeaseOptions, string[]][] = [
      [{ names: ['A'], range: 'abc' }, ['A', '--range', 'abc']],
      [{ names: ['A'], range: '30000-20000' }, ['A', '--range', '30000-20000']],
      [{ names: ['A'], range: [0, 5] }, ['A', '--range', '0-5']],
      [{ names: ['A'], range: { lo: 20000, hi: 70000 } }, ['A', '--range', '20000-70000']],
      [{ names: ['A'], range: '40000-40010' }, ['A', '--range', '40000-40010']],
      [{ names: ['A'], ttl: 'soon' }, ['A', '--ttl', 'soon']],
      [{ names: ['A'], ttl: '0' }, ['A', '--ttl', '0']],
      [{ names: ['A'], ttl: '400d' }, ['A', '--ttl', '400d']],
      [{ names: ['A'], wait: '5x' }, ['A', '--wait', '5x']],
      [{ names: ['A'], strategy: 'best' as never }, ['A', '--strategy', 'best']],
      [{ names: ['A'], key: '' }, ['A', '--key', '']],
      [{ names: ['A'], key: 'a\nb' }, ['A', '--key', 'a\nb']],
      [{ names: ['1BAD'] }, ['1BAD']],
      [{ names: ['A', 'A'] }, ['A', 'A']],
      [{ count: 0 }, ['--count', '0']],
      [{ count: 300 }, ['--count', '300']],
      [{ names: ['A'], owner: 'pid:abc' }, ['A', '--owner', 'pid:abc']],
      [{ names: ['A'], owner: `pid:${deadPid}` }, ['A', '--owner', `pid:${deadPid}`]],
      [{ names: ['A'], owner: { pid: Number(deadPid) } }, ['A', '--owner-pid', deadPid]],
      [{ names: ['A'], owner: 'dir:' }, ['A', '--owner', 'dir:']],
      [{ names: ['A'], owner: `dir:${missing}` }, ['A', '--owner', `dir:${missing}`]],
      [{ names: ['A'], owner: `dir:${file}` }, ['A', '--owner', `dir:${file}`]],
      [{ names: ['A'], owner: 'session:abc' }, ['A', '--owner', 'session:abc']],
      [{ names: ['A'], owner: 'session:none' }, ['A', '--owner', 'session:none']],
      [{ names: ['A'], registry: '' }, ['A', '--registry', '']],
      [{ names: ['A'], registry: file }, ['A', '--registry', file]],
    ];
    const before = snapshot(registry);
    for (const [options, args] of cases) {
      const r = await cli([
        'allocate',
        ...args,
        ...(args.includes('--registry') ? [] : ['--registry', registry]),
      ]);
      expect(r.code).toBe(2);
      const line = r.stderr.trim();
      expect(line.split('\n')).toHaveLength(1);
      const expected = line
        .replace(/^portlease: /, '')
        .replace(/^--owner-pid:/, 'owner:')
        .replace(/^--owner([: ])/, 'owner$1')
        .replace(/^NAME:/, 'names:')
        .replace(/^--([a-z-]+):/, '$1:');
      const err = await lease({ registry, ...options }).catch((e: unknown) => e);
      expect(err, JSON.stringify(options)).toBeInstanceOf(UsageError);
      expect((err as Error).message).toBe(expected);
    }
    // Options the CLI spells differently, or has no flag for.
    const own: [unknown, string][] = [
      [{ names: ['A'], count: 2 }, 'count: give either names or count, not both'],
      [{}, "lease: no port names given; give names (like ['WEB_PORT']) or count"],
      [{ names: 'A' }, 'names: "A" is not an array of strings, like [\'WEB_PORT\']'],
      [
        { names: ['A'], nmes: ['B'] },
        'lease: unknown option "nmes"; use names, count, range, contiguous, key, strategy, ttl, owner, wait, registry, allowEphemeral',
      ],
      [
        { names: ['A'], range: { lo: 1 } },
        "range: object is not a port range; use 'LO-HI', { lo, hi } or [lo, hi] with 1 <= LO <= HI <= 65535",
      ],
      [
        { names: ['A'], ttl: 1.5 },
        'ttl: 1.5 is not a duration; give whole milliseconds or a string like 90s, 15m, 6h',
      ],
      [
        { names: ['A'], ttl: 0 },
        'ttl: "0ms" is zero; use a duration like 90s, 15m, 6h, 2d or 1h30m',
      ],
      [
        { names: ['A'], ttl: null, owner: 'none' },
        'ttl: a lease without an owner needs a TTL; give --ttl or an owner',
      ],
      [
        { names: ['A'], owner: 'bogus' },
        "owner: \"bogus\" is not an owner; use 'self' (the calling process), 'none' (TTL only), 'pid:N' or { pid: N }, 'dir:PATH', 'session', 'session:SID' or 'job'",
      ],
      [
        { names: ['A'], owner: 'none:x' },
        "owner: \"none:x\" is not an owner; use 'self' (the calling process), 'none' (TTL only), 'pid:N' or { pid: N }, 'dir:PATH', 'session', 'session:SID' or 'job'",
      ],
      [
        { names: ['A'], contiguous: 'yes' },
        'contiguous: "yes" is not a boolean; use true or false',
      ],
      [null, "lease: options must be an object, like { names: ['WEB_PORT'] }"],
    ];
    for (const [options, message] of own) {
      const err = await lease(options as LeaseOptions).catch((e: unknown) => e);
      expect(err, JSON.stringify(options)).toBeInstanceOf(UsageError);
      expect((err as Error).message).toBe(message);
    }
    expect(snapshot(registry)).toEqual(before);
    await keep.release();
  });
});
