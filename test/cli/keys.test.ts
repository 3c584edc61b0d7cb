/**
 * A key whose lease lives: the same ports back; an explicit new --ttl or owner renews it;
 * more names grow it (old ports kept); a range or --contiguous it does not satisfy is an
 * error that names the difference, with the registry unchanged; a second caller without
 * an explicit owner never takes it over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, collect, parsePorts, tempDir, testRange } from '../helpers.js';
import { listJson, userEnv } from './shell.js';

const sleepers: [ChildProcess, Promise<unknown>][] = [];
function sleeper(): number {
  const s = spawn('sleep', ['120']);
  sleepers.push([s, collect(s)]);
  return s.pid ?? 0;
}
afterEach(async () => {
  for (const [s, done] of sleepers.splice(0)) {
    s.kill();
    await done;
  }
});

function allocate(dir: string, args: string[]): ReturnType<typeof cli> {
  return cli(['allocate', '--registry', dir, ...args], { env: userEnv(dir) });
}

function state(dir: string): string {
  return readFileSync(join(dir, 'leases.json'), 'utf8');
}

describe('renew', () => {
  it('a new --ttl sets a new expiry and keeps the ports; without --ttl the expiry stays', async () => {
    const r = await testRange(4);
    const range = `${r.lo}-${r.hi}`;
    const dir = join(tempDir(), 'reg');
    const pid = String(sleeper());
    const a = await allocate(dir, [
      'A',
      'B',
      '--key',
      'k',
      '--range',
      range,
      '--ttl',
      '1h',
      '--owner-pid',
      pid,
      '--json',
    ]);
    const first = JSON.parse(a.stdout) as { ports: object; expires: string; lease: string };
    const same = await allocate(dir, ['A', 'B', '--key', 'k', '--json']);
    expect((JSON.parse(same.stdout) as { expires: string }).expires).toBe(first.expires);
    const b = await allocate(dir, ['A', 'B', '--key', 'k', '--ttl', '3h', '--json']);
    const second = JSON.parse(b.stdout) as {
      ports: object;
      expires: string;
      lease: string;
      reused: boolean;
    };
    expect(second.ports).toEqual(first.ports);
    expect(second.lease).toBe(first.lease);
    expect(second.reused).toBe(true);
    expect(Date.parse(second.expires) - Date.parse(first.expires)).toBeGreaterThan(110 * 60_000);
    const [listed] = await listJson(dir);
    expect(listed?.expires).toBe(second.expires);
  });

  it('an explicit owner takes the lease over; without one a second caller leaves it alone', async () => {
    const r = await testRange(4);
    const range = `${r.lo}-${r.hi}`;
    const dir = join(tempDir(), 'reg');
    const s1 = sleeper();
    const s2 = sleeper();
    const a = await allocate(dir, ['A', '--key', 'k', '--range', range, '--owner-pid', String(s1)]);
    // A second caller, default owner: same ports, owner unchanged.
    const b = await allocate(dir, ['A', '--key', 'k']);
    expect(b.stdout).toBe(a.stdout);
    expect((await listJson(dir))[0]?.owner).toMatchObject({ kind: 'process', pid: s1 });
    // An explicit owner renews: the lease now lives with s2, not s1.
    const c = await allocate(dir, ['A', '--key', 'k', '--owner', `pid:${s2}`]);
    expect(c.stdout).toBe(a.stdout);
    expect((await listJson(dir))[0]?.owner).toMatchObject({ kind: 'process', pid: s2 });
    process.kill(s1, 'SIGKILL');
    await new Promise((res) => setTimeout(res, 200));
    expect((await listJson(dir)).map((l) => l.key)).toEqual(['k']);
    process.kill(s2, 'SIGKILL');
    await new Promise((res) => setTimeout(res, 200));
    expect(await listJson(dir)).toEqual([]);
  });
});

describe('grow', () => {
  it('more names keep the old ports and add new ones; the output lists the names asked for', async () => {
    const r = await testRange(6);
    const range = `${r.lo}-${r.hi}`;
    const dir = join(tempDir(), 'reg');
    const pid = String(sleeper());
    const a = await allocate(dir, ['WEB', '--key', 'k', '--range', range, '--owner-pid', pid]);
    const web = parsePorts(a.stdout).WEB;
    const b = await allocate(dir, ['WEB', 'DB', 'CACHE', '--key', 'k']);
    expect(b.code).toBe(0);
    const grown = parsePorts(b.stdout);
    expect(Object.keys(grown)).toEqual(['WEB', 'DB', 'CACHE']);
    expect(grown.WEB).toBe(web);
    expect(new Set(Object.values(grown)).size).toBe(3);
    for (const p of Object.values(grown)) {
      expect(p).toBeGreaterThanOrEqual(r.lo);
      expect(p).toBeLessThanOrEqual(r.hi);
    }
    const c = await allocate(dir, ['DB', '--key', 'k']);
    expect(c.stdout).toBe(`DB=${grown.DB}\n`);
    const [lease] = await listJson(dir);
    expect(lease?.ports).toEqual({ WEB: web, DB: grown.DB, CACHE: grown.CACHE });
  });

  it('with --contiguous the bundle grows into one block', async () => {
    const r = await testRange(6);
    const range = `${r.lo}-${r.hi}`;
    const dir = join(tempDir(), 'reg');
    const pid = String(sleeper());
    const a = await allocate(dir, [
      'A',
      'B',
      '--key',
      'k',
      '--range',
      range,
      '--contiguous',
      '--owner-pid',
      pid,
    ]);
    const first = parsePorts(a.stdout);
    const b = await allocate(dir, ['A', 'B', 'C', '--key', 'k', '--contiguous']);
    expect(b.code).toBe(0);
    const all = Object.values(parsePorts(b.stdout)).sort((x, y) => x - y);
    expect((all[2] ?? 0) - (all[0] ?? 0)).toBe(2);
    expect(parsePorts(b.stdout).A).toBe(first.A);
  });
});

describe('conflicts are errors, and the registry is unchanged', () => {
  it('a range the live lease does not satisfy', async () => {
    const r1 = await testRange(2);
    const r2 = await testRange(2);
    const dir = join(tempDir(), 'reg');
    const pid = String(sleeper());
    await allocate(dir, ['A', '--key', 'k', '--range', `${r1.lo}-${r1.hi}`, '--owner-pid', pid]);
    const before = state(dir);
    const port = (await listJson(dir))[0]?.ports.A;
    const b = await allocate(dir, ['A', '--key', 'k', '--range', `${r2.lo}-${r2.hi}`]);
    expect(b.code).toBe(1);
    expect(b.stdout).toBe('');
    expect(b.stderr.trim()).toMatch(
      new RegExp(
        `^portlease: key "k" is held by lease pl_\\w+, whose A=${port} lies outside the requested range ${r2.lo}-${r2.hi}; release it first \\(portlease release --key "k"\\) or use another key$`,
      ),
    );
    expect(state(dir)).toBe(before);
    expect(existsSync(join(dir, 'quarantine'))).toBe(false);
    // The same range, or none at all, is fine.
    expect((await allocate(dir, ['A', '--key', 'k', '--range', `${r1.lo}-${r1.hi}`])).code).toBe(0);
    expect((await allocate(dir, ['A', '--key', 'k'])).code).toBe(0);
  });

  it('--contiguous when the live lease is not one block', async () => {
    const r = await testRange(3);
    const range = `${r.lo}-${r.hi}`;
    const dir = join(tempDir(), 'reg');
    // Something listens on the middle port: a sequential bundle of two is lo and lo+2.
    const busy: Server = await new Promise((res) => {
      const s = createServer().listen(r.lo + 1, '0.0.0.0', () => {
        res(s);
      });
    });
    try {
      const pid = String(sleeper());
      const a = await allocate(dir, [
        'A',
        'B',
        '--key',
        'k',
        '--range',
        range,
        '--strategy',
        'sequential',
        '--owner-pid',
        pid,
      ]);
      expect(parsePorts(a.stdout)).toEqual({ A: r.lo, B: r.lo + 2 });
      const before = state(dir);
      const b = await allocate(dir, ['A', 'B', '--key', 'k', '--contiguous']);
      expect(b.code).toBe(1);
      expect(b.stderr.trim()).toMatch(
        new RegExp(
          `^portlease: key "k" is held by lease pl_\\w+, whose ports \\(A=${r.lo}, B=${r.lo + 2}\\) are not one block of consecutive ports as --contiguous asks;`,
        ),
      );
      expect(state(dir)).toBe(before);
    } finally {
      await new Promise((res) => busy.close(res));
    }
  });

  it('a bundle that cannot grow', async () => {
    const r = await testRange(1);
    const range = `${r.lo}-${r.hi}`;
    const dir = join(tempDir(), 'reg');
    const pid = String(sleeper());
    await allocate(dir, ['A', '--key', 'k', '--range', range, '--owner-pid', pid]);
    const before = state(dir);
    const b = await allocate(dir, ['A', 'B', '--key', 'k']);
    expect(b.code).toBe(1);
    expect(b.stderr.trim()).toMatch(
      /^portlease: key "k" is held by lease pl_\w+; it cannot grow by B: range \d+ has no 1 free port;/,
    );
    expect(state(dir)).toBe(before);
  });
});
