/**
 * getPort / portNumbers / releasePort / clearLockedPorts: get-port 7's API, every port
 * leased host-wide. Workers and examples run the built library (dist/lib/index.js); the
 * in-process tests run the source.
 */
import { type ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import realGetPort, { portNumbers as realPortNumbers } from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clearLockedPorts,
  getPort,
  lease,
  portNumbers,
  releasePort,
  UsageError,
} from '../../src/lib/index.js';
import { Registry } from '../../src/core/index.js';
import { collect, fixture, NODE, ROOT, tempDir, testRange } from '../helpers.js';

const LIB = join(ROOT, 'dist/lib/index.js');
let registry: string;

beforeAll(() => {
  registry = join(tempDir(), 'reg');
  // getPort takes get-port's options only: the registry comes from the environment.
  process.env.PORTLEASE_REGISTRY = registry;
});
afterAll(() => {
  delete process.env.PORTLEASE_REGISTRY;
});

async function livePorts(dir: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const { lease: l } of await new Registry(dir).list()) {
    for (const p of Object.values(l.ports)) out.set(p, l.id);
  }
  return out;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => {
      resolve(false);
    });
    s.listen(port, () => {
      s.close(() => {
        resolve(true);
      });
    });
  });
}

interface WorkerReport {
  pid: number;
  ports: number[];
  errors: string[];
}

function firstLine(child: ChildProcess): Promise<string> {
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  return new Promise((resolve, reject) => {
    rl.once('line', (line) => {
      rl.close();
      resolve(line);
    });
    child.once('exit', (code) => {
      reject(new Error(`worker exited (${code}) before printing a line`));
    });
  });
}

describe('getPort across processes', () => {
  it('16 workers x 3 getPort({port: portNumbers(...)}) at once: 0 duplicates, 0 EADDRINUSE; leasable again once they exit', async () => {
    const range = await testRange(64);
    const env = { ...process.env, PORTLEASE_REGISTRY: registry };
    const workers = Array.from({ length: 16 }, () =>
      fixture('get-port-worker', [LIB, String(range.lo), String(range.hi), '3'], {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    const done = workers.map((w) => collect(w));
    try {
      expect(await Promise.all(workers.map(firstLine))).toEqual(workers.map(() => 'ready'));
      for (const w of workers) w.stdin?.write('go\n'); // all at once
      const reports = (await Promise.all(workers.map(firstLine))).map(
        (l) => JSON.parse(l) as WorkerReport,
      );
      const all = reports.flatMap((r) => r.ports);
      expect(all).toHaveLength(48);
      expect(new Set(all).size).toBe(48); // 0 duplicates
      expect(reports.flatMap((r) => r.errors)).toEqual([]); // 0 EADDRINUSE
      for (const p of all) expect(p >= range.lo && p <= range.hi).toBe(true);
      // Host-wide: the registry holds each port for the worker that got it.
      const live = await livePorts(registry);
      for (const p of all) expect(live.has(p)).toBe(true);
      // While they live, only the 16 other ports of the range can be leased.
      await expect(lease({ count: 17, range: [range.lo, range.hi], registry })).rejects.toThrow(
        /has no 17 free ports/,
      );
    } finally {
      for (const w of workers) w.stdin?.end();
    }
    const runs = await Promise.all(done);
    expect(runs.map((r) => r.code)).toEqual(workers.map(() => 0));
    // The workers exited without releasing: their leases die with them.
    const again = await lease({
      count: 64,
      range: { lo: range.lo, hi: range.hi },
      contiguous: true,
      registry,
    });
    expect(Object.values(again.ports)).toEqual([...portNumbers(range.lo, range.hi)]);
    await again.release();
  });
});

describe('get-port compatibility', () => {
  it("get-port's README examples run unchanged with the import swapped", async () => {
    const project = tempDir();
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(ROOT, join(project, 'node_modules/portlease')); // resolved through package.json exports
    const readme = readFileSync(join(ROOT, 'node_modules/get-port/readme.md'), 'utf8');
    const examples = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(examples).toHaveLength(6);
    const free = {
      3000: await bindable(3000),
      3001: await bindable(3001),
      3002: await bindable(3002),
    };
    const outputs: number[][] = [];
    for (const [i, code] of examples.entries()) {
      expect(code).toMatch(/from 'get-port';\n/);
      const file = join(project, `example-${i}.mjs`);
      writeFileSync(file, code.replace(/from 'get-port';\n/, "from 'portlease';\n"));
      const r = await collect(
        spawn(NODE, [file], {
          cwd: project,
          env: { ...process.env, PORTLEASE_REGISTRY: registry },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      outputs.push(r.stdout.trim().split('\n').map(Number));
    }
    const fallback = (p: number | undefined): boolean =>
      p !== undefined && p >= 20000 && p <= 29999;
    const [plain, one, list, numbers, numbersAgain, clear] = outputs;
    expect(plain).toHaveLength(1);
    expect(fallback(plain?.[0])).toBe(true);
    expect(one).toEqual(free[3000] ? [3000] : [expect.any(Number)]);
    if (free[3000]) expect(list).toEqual([3000]);
    for (const n of [numbers, numbersAgain]) {
      expect(n).toHaveLength(1);
      expect((n?.[0] ?? 0) >= 3000 && (n?.[0] ?? 0) <= 3100).toBe(free[3000] || free[3001]);
    }
    // Second call: 3000 is held (leased); after clearLockedPorts() it is free again.
    if (free[3000] && free[3001]) expect(clear).toEqual([3000, 3001, 3000]);
    else expect(clear).toHaveLength(3);
    // Every example process has exited: none of its ports is held any more.
    expect(await livePorts(registry)).toEqual(new Map());
  });

  it('portNumbers is a generator with the same checks and errors as get-port', () => {
    expect([...portNumbers(3000, 3003)]).toEqual([...realPortNumbers(3000, 3003)]);
    const g = portNumbers(1024, 65535);
    expect(g[Symbol.iterator]()).toBe(g); // an iterator, consumed lazily
    const bad: [number, number][] = [
      [1023, 2000],
      [2000, 70000],
      [3001, 3000],
      [1.5, 2000],
      [Number.NaN, 2000],
      [2000, 65536],
    ];
    for (const [from, to] of bad) {
      const mine = (): unknown => portNumbers(from, to);
      const theirs = (): unknown => realPortNumbers(from, to);
      let expected: Error | undefined;
      try {
        theirs();
      } catch (err) {
        expected = err as Error;
      }
      expect(expected).toBeInstanceOf(Error);
      expect(mine).toThrow(expected?.constructor);
      expect(mine).toThrow(expected?.message ?? '');
    }
  });

  it('takes preferred ports in order, skips excluded and held ones, falls back to 20000-29999', async () => {
    const range = await testRange(6);
    const [a, b, c, d] = [range.lo, range.lo + 1, range.lo + 2, range.lo + 3];
    expect(await getPort({ port: [c, a], exclude: [c] })).toBe(a);
    expect(await getPort({ port: [a, b] })).toBe(b); // a is leased to this process
    // A port bound by someone else is skipped, as get-port does.
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(c, resolve));
    try {
      expect(await getPort({ port: portNumbers(c, d) })).toBe(d);
    } finally {
      blocker.close();
    }
    // get-port's own view agrees that the ports are taken only while leased: it still finds
    // them bindable (the lease lives in the registry, not in a socket).
    expect(await realGetPort({ port: a })).toBe(a);
    const fb = await getPort({ port: [a, b, d] });
    expect(fb >= 20000 && fb <= 29999).toBe(true);
    expect([...(await livePorts(registry)).keys()].sort()).toEqual([a, b, d, fb].sort());
    await releasePort(a);
    expect((await livePorts(registry)).has(a)).toBe(false);
    expect(await getPort({ port: a })).toBe(a);
    void clearLockedPorts(); // as get-port's README calls it: not awaited
    expect(await getPort({ port: [b, a] })).toBe(b); // waited for the clear
    await clearLockedPorts();
    expect(await livePorts(registry)).toEqual(new Map());
  });

  it('with host, also probes that host; an address that is not this host is a UsageError', async () => {
    const range = await testRange(3);
    const blocker = createServer();
    // Bound on 127.0.0.2 only: 0.0.0.0/127.0.0.1/:: probes cannot see it, the host probe does.
    await new Promise<void>((resolve) => blocker.listen(range.lo, '127.0.0.2', resolve));
    try {
      expect(await getPort({ port: portNumbers(range.lo, range.hi), host: '127.0.0.2' })).toBe(
        range.lo + 1,
      );
    } finally {
      blocker.close();
    }
    // The port passed over on the way is given back.
    expect((await livePorts(registry)).has(range.lo)).toBe(false);
    const err = await getPort({ port: range.hi, host: '192.0.2.1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      'host: cannot listen on "192.0.2.1" (EADDRNOTAVAIL); give an address of this host',
    );
    expect((await livePorts(registry)).has(range.hi)).toBe(false);
    await clearLockedPorts();
  });

  it('bad options are UsageErrors naming the option, and lease nothing', async () => {
    const cases: [unknown, string][] = [
      [{ port: 70000 }, 'port: 70000 is not a port; give whole numbers 1-65535'],
      [{ port: ['3000'] }, 'port: string is not a port; give whole numbers 1-65535'],
      [
        { port: {} },
        'port: must be a number or an iterable of numbers, like portNumbers(3000, 3100)',
      ],
      [
        { exclude: 5 },
        'exclude: must be a number or an iterable of numbers, like portNumbers(3000, 3100)',
      ],
      [{ exclude: [1.5] }, 'exclude: 1.5 is not a port; give whole numbers 1-65535'],
      [{ host: '' }, 'host: give an IPv4 or IPv6 address of this host, like 127.0.0.1'],
      ['3000', 'getPort: options must be an object, like { port: 3000 }'],
    ];
    for (const [options, message] of cases) {
      const err = await getPort(options as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toBe(message);
    }
    expect(await livePorts(registry)).toEqual(new Map());
  });
});
