import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fnv1a } from '../../src/core/choose.js';
import {
  Registry,
  RuntimeError,
  selfOwner,
  UsageError,
  type AllocateRequest,
  type Lease,
  type PortRange,
} from '../../src/core/index.js';
import { acquireLock } from '../../src/core/lock.js';
import { bootId, describeProcess, pidNamespace, processLiveness } from '../../src/core/owner.js';
import { readState } from '../../src/core/store.js';
import { cli, collect, deadPid, fixture, tempDir, testRange } from '../helpers.js';

const noKernel = { ephemeral: null, reserved: [] };

function registry(dir = tempDir(), opts: ConstructorParameters<typeof Registry>[1] = {}): Registry {
  return new Registry(join(dir, 'reg'), { kernel: noKernel, ...opts });
}

function req(range: PortRange, extra: Partial<AllocateRequest> = {}): AllocateRequest {
  return {
    names: ['A'],
    range,
    owner: selfOwner(),
    ttlMs: 60_000,
    strategy: 'sequential',
    ...extra,
  };
}

function listen(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ port, host, ipv6Only: host.includes(':') }, () => {
      resolve(s);
    });
  });
}

const close = (s: Server): Promise<void> =>
  new Promise((r) =>
    s.close(() => {
      r();
    }),
  );

describe('choosing ports', () => {
  it('skips ports bound outside the registry, on each of 0.0.0.0, 127.0.0.1 and ::', async () => {
    const range = await testRange(8);
    const servers = [
      await listen(range.lo, '127.0.0.1'),
      await listen(range.lo + 1, '0.0.0.0'),
      await listen(range.lo + 2, '::1'),
    ];
    try {
      const { lease } = await registry().allocate(req(range, { names: ['A', 'B'] }));
      expect(Object.values(lease.ports)).toEqual([range.lo + 3, range.lo + 4]);
    } finally {
      await Promise.all(servers.map(close));
    }
  });

  it('avoids the kernel ephemeral and reserved ranges', async () => {
    const range = await testRange(10);
    const reg = registry(tempDir(), {
      kernel: {
        ephemeral: { lo: range.lo, hi: range.lo + 4 },
        reserved: [{ lo: range.lo + 5, hi: range.lo + 6 }],
      },
    });
    const { lease } = await reg.allocate(req(range, { names: ['A', 'B', 'C'] }));
    expect(Object.values(lease.ports)).toEqual([range.lo + 7, range.lo + 8, range.lo + 9]);
    await expect(reg.allocate(req(range, { names: ['D'] }))).rejects.toThrow(RuntimeError);
    // With the ephemeral range allowed, its ports are usable again (reserved ones never).
    const { lease: l2 } = await reg.allocate(req(range, { names: ['D'], allowEphemeral: true }));
    expect(l2.ports.D).toBe(range.lo);
  });

  it('refuses a range wholly inside the ephemeral range, before touching the registry', async () => {
    const range = await testRange(4);
    const dir = tempDir();
    const reg = new Registry(join(dir, 'reg'), {
      kernel: { ephemeral: { lo: range.lo, hi: range.hi }, reserved: [] },
    });
    await expect(reg.allocate(req(range))).rejects.toThrow(
      /lies wholly inside the kernel's ephemeral/,
    );
    expect(existsSync(join(dir, 'reg'))).toBe(false);
  });

  it('places a key at the same ports in an empty registry (hash), and spreads keys', async () => {
    const range = await testRange(200);
    const a1 = await registry().allocate(
      req(range, { key: 'job-a', strategy: 'hash', names: ['X', 'Y'] }),
    );
    const a2 = await registry().allocate(
      req(range, { key: 'job-a', strategy: 'hash', names: ['X', 'Y'] }),
    );
    expect(a1.lease.ports).toEqual(a2.lease.ports);
    const expected = range.lo + (fnv1a('job-a') % (range.hi - range.lo + 1));
    expect(a1.lease.ports.X).toBe(expected);
    const starts = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const { lease } = await registry().allocate(req(range, { key: `k${i}`, strategy: 'hash' }));
      starts.add(lease.ports.A ?? 0);
    }
    expect(starts.size).toBeGreaterThan(10);
  });

  it('takes contiguous blocks around ports in use', async () => {
    const range = await testRange(12);
    const reg = registry();
    await reg.allocate(req(range, { names: ['A'], key: 'one' })); // lo
    const s = await listen(range.lo + 3, '127.0.0.1'); // breaks lo+1..lo+3
    try {
      const { lease } = await reg.allocate(
        req(range, { names: ['P', 'Q', 'R', 'S'], contiguous: true, key: 'block' }),
      );
      expect(Object.values(lease.ports)).toEqual([4, 5, 6, 7].map((i) => range.lo + i));
      expect(lease.contiguous).toBe(true);
    } finally {
      await close(s);
    }
    await expect(
      reg.allocate(req(range, { names: ['A', 'B', 'C', 'D', 'E'], contiguous: true })),
    ).rejects.toThrow(/in a row/);
  });

  it('strategies random and sequential stay inside the range', async () => {
    const range = await testRange(40);
    const reg = registry();
    const seen = new Set<number>();
    for (const strategy of ['random', 'sequential', 'hash'] as const) {
      for (let i = 0; i < 6; i++) {
        const { lease } = await reg.allocate(req(range, { strategy, names: ['A', 'B'] }));
        for (const p of Object.values(lease.ports)) {
          expect(p).toBeGreaterThanOrEqual(range.lo);
          expect(p).toBeLessThanOrEqual(range.hi);
          expect(seen.has(p)).toBe(false);
          seen.add(p);
        }
      }
    }
    expect(seen.size).toBe(36);
  });
});

describe('leases', () => {
  it('gives the same lease back for the same key while it lives', async () => {
    const range = await testRange(10);
    const reg = registry();
    const a = await reg.allocate(req(range, { key: 'k', names: ['A', 'B'] }));
    const b = await reg.allocate(req(range, { key: 'k', names: ['B', 'A'] }));
    expect(b.reused).toBe(true);
    expect(b.lease.id).toBe(a.lease.id);
    expect(b.lease.ports).toEqual(a.lease.ports);
    // More names grow it: the old ports stay, the record keeps its id.
    const c = await reg.allocate(req(range, { key: 'k', names: ['C'] }));
    expect(c.reused).toBe(true);
    expect(c.lease.id).toBe(a.lease.id);
    expect(c.lease.ports).toMatchObject(a.lease.ports);
    expect(Object.keys(c.lease.ports)).toEqual(['A', 'B', 'C']);
    expect((await reg.release({ key: 'k' }))?.id).toBe(a.lease.id);
    expect(await reg.release({ key: 'k' })).toBeNull();
    expect(await reg.list()).toEqual([]);
  });

  it('reclaims a lease whose TTL has passed, and only then', async () => {
    const range = await testRange(1);
    const reg = registry();
    await reg.allocate(req(range, { ttlMs: 1500, key: 'short' }));
    await expect(reg.allocate(req(range, { key: 'next' }))).rejects.toThrow(/held by 1 lease/);
    await new Promise((r) => setTimeout(r, 1600));
    const { lease } = await reg.allocate(req(range, { key: 'next' }));
    expect(lease.ports.A).toBe(range.lo);
    expect((await reg.list()).map((s) => s.lease.key)).toEqual(['next']);
  });

  it('reclaims a lease whose owner died or whose pid was reused, never a live one', async () => {
    const range = await testRange(3);
    const dir = tempDir();
    const reg = registry(dir);
    const gone = await deadPid();
    const me = selfOwner();
    await reg.allocate(req(range, { key: 'live', owner: me, ttlMs: null }));
    // Each in a range above the last: an allocation that scans over a dead lease reclaims it.
    const above = (n: number): PortRange => ({ lo: range.lo + n, hi: range.hi });
    await reg.allocate(req(above(1), { key: 'dead', owner: { ...me, pid: gone }, ttlMs: null }));
    // Same pid as a running process but another start time: the pid was reused.
    const reused = { ...me, start: '1' };
    await reg.allocate(req(above(2), { key: 'reused', owner: reused, ttlMs: null }));
    expect(processLiveness({ ...me, start: '1' })).toBe('dead');
    expect((await reg.list()).map((s) => s.lease.key)).toEqual(['live']);
    const dry = await reg.gc({ dryRun: true });
    expect(dry.removed.map((e) => e.lease.key).sort()).toEqual(['dead', 'reused']);
    expect(readState(join(dir, 'reg'), { quarantine: false }).leases).toHaveLength(3);
    const report = await reg.gc();
    expect(report.removed.map((e) => e.lease.key).sort()).toEqual(['dead', 'reused']);
    expect(report.live.map((l) => l.key)).toEqual(['live']);
  });

  it('treats owners it cannot check (other host, other pid namespace) as alive until TTL', async () => {
    const range = await testRange(3);
    const reg = registry();
    const me = selfOwner();
    const gone = await deadPid();
    await reg.allocate(
      req(range, { key: 'host', owner: { ...me, pid: gone, host: 'elsewhere', boot: 'other' } }),
    );
    await reg.allocate(req(range, { key: 'ns', owner: { ...me, pid: gone, pidns: 'pid:[1]' } }));
    const rebooted = { ...me, pid: gone, boot: 'another-boot', host: hostname() };
    await reg.allocate(req(range, { key: 'reboot', owner: rebooted }));
    const status = await reg.list();
    expect(status.map((s) => [s.lease.key, s.liveness])).toEqual([
      ['host', 'unknown'],
      ['ns', pidNamespace() === null ? 'dead' : 'unknown'],
    ]);
    expect(bootId()).not.toBeNull();
  });

  it('waits for a release when the range is full, and returns as soon as one comes', async () => {
    const range = await testRange(1);
    const reg = registry();
    await reg.allocate(req(range, { key: 'holder' }));
    let done = false;
    const waiter = reg
      .allocate(req(range, { key: 'waiter', waitMs: 60_000 }))
      .finally(() => (done = true));
    await new Promise((r) => setTimeout(r, 700));
    expect(done).toBe(false);
    await reg.release({ key: 'holder' });
    const { lease } = await waiter;
    expect(lease.ports.A).toBe(range.lo);
  });

  it('names the holders when the range stays full', async () => {
    const range = await testRange(2);
    const reg = registry();
    await reg.allocate(req(range, { key: 'first', names: ['A', 'B'] }));
    const err = await reg.allocate(req(range, { key: 'x', waitMs: 300 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect(String(err)).toMatch(/after waiting 300ms; held by 1 lease: pl_\w+ key "first"/);
  });

  it('rejects bad requests before creating anything', async () => {
    const dir = tempDir();
    const reg = registry(dir);
    const range = { lo: 20000, hi: 20010 };
    await expect(reg.allocate(req(range, { names: ['1BAD'] }))).rejects.toThrow(UsageError);
    await expect(reg.allocate(req(range, { names: ['A', 'A'] }))).rejects.toThrow(/named twice/);
    await expect(reg.allocate(req(range, { owner: null, ttlMs: null }))).rejects.toThrow(
      /needs a TTL/,
    );
    await expect(
      reg.allocate(req({ lo: 20000, hi: 20001 }, { names: ['A', 'B', 'C'] })),
    ).rejects.toThrow(/fewer than the 3/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('what is on disk', () => {
  it('skips and quarantines malformed and hostile records, keeps the good ones', async () => {
    const range = await testRange(6);
    const dir = join(tempDir(), 'reg');
    const reg = new Registry(dir, { kernel: noKernel });
    const { lease } = await reg.allocate(req(range, { key: 'good' }));
    const good = JSON.parse(readFileSync(join(dir, 'leases.json'), 'utf8')) as { leases: Lease[] };
    const hostile: unknown[] = [
      'a string',
      {
        ...lease,
        id: 'pl_other1',
        key: 'proto',
        ports: JSON.parse(`{"__proto__":${range.lo + 1}}`) as unknown,
      },
      { ...lease, id: '../../etc', key: 'x' },
      { ...lease, id: 'pl_other2', ports: { B: 70000 } },
      { ...lease, id: 'pl_other3', owner: { kind: 'process', pid: '1; rm -rf /' } },
      { ...lease, id: 'pl_other4', ports: { C: lease.ports.A } }, // steals a port
      { ...lease, id: 'pl_other5', key: 'x'.repeat(100_000) },
      { ...lease, id: 'pl_other6', key: 'other6', owner: null, expires: null },
      { ...lease, id: 'pl_other7', ports: { D: range.lo + 2 } }, // the key "good" again
    ];
    writeFileSync(
      join(dir, 'leases.json'),
      JSON.stringify({ version: 1, leases: [...good.leases, ...hostile] }),
    );
    const warnings: string[] = [];
    const reg2 = new Registry(dir, { kernel: noKernel, warn: (m) => warnings.push(m) });
    // pl_other4 (good's port) and pl_other7 (good's key) are valid records whose owner lives;
    // the registry resolves the conflict, not the reader: the port stays with the record
    // written first, so pl_other4, which claims nothing else, is left out; pl_other7 stays.
    expect((await reg2.list()).map((s) => s.lease.id)).toEqual([
      lease.id,
      'pl_other1',
      'pl_other7',
    ]);
    expect(warnings.some((w) => /pl_other4 .* claims C=\d+, held by /.test(w))).toBe(true);
    // pl_other1 is valid: the name __proto__ is an ordinary own key, not a prototype.
    const proto = (await reg2.list())[1]?.lease;
    expect(Object.getPrototypeOf(proto?.ports)).toBe(Object.prototype);
    expect(Object.keys(proto?.ports ?? {})).toEqual(['__proto__']);
    // Two list() calls above, six bad records each: 3 named, then one line for the rest;
    // and each time one line for the port pl_other4 loses.
    expect(warnings).toHaveLength(10);
    expect(warnings[3]).toMatch(/: 3 more damaged lines skipped; kept the 4 intact records$/);
    const after = await reg2.allocate(req(range, { key: 'after' }));
    expect(after.lease.ports.A).toBe(range.lo + 3); // lo, lo+1 (__proto__), lo+2 held
    // One quarantine file for the one read that found the damage under the lock.
    const q = readdirSync(join(dir, 'quarantine'));
    expect(q).toHaveLength(1);
    const state = readState(dir, { quarantine: false });
    expect(state.rejected).toBe(0);
    expect(state.leases.map((l) => l.key)).toEqual(['good', 'proto', 'good', 'after']);
  });

  it('sets aside a state file that does not parse, and carries on', async () => {
    const range = await testRange(2);
    const dir = join(tempDir(), 'reg');
    mkdirSync(dir);
    writeFileSync(join(dir, 'leases.json'), '{"version":1,"leases":[{"id":');
    const warnings: string[] = [];
    const reg = new Registry(dir, { kernel: noKernel, warn: (m) => warnings.push(m) });
    const { lease } = await reg.allocate(req(range));
    expect(lease.ports.A).toBe(range.lo);
    expect(warnings[0]).toMatch(
      /does not parse as a portlease registry; ignoring it; the damage is kept in .*quarantine/,
    );
    expect(readdirSync(join(dir, 'quarantine'))).toHaveLength(1);
  });
});

describe('the lock', () => {
  it('takes over at once from a holder that died', async () => {
    const dir = join(tempDir(), 'reg');
    mkdirSync(join(dir, 'lock'), { recursive: true });
    const gone = await deadPid();
    const holder = { ...selfOwner(), pid: gone, acquired: Date.now() };
    writeFileSync(join(dir, 'lock', 'g000000000007'), JSON.stringify(holder));
    const lock = await acquireLock(dir, { timeoutMs: 2000 });
    expect(lock.generation).toBe(8);
    lock.release();
    expect(readdirSync(join(dir, 'lock')).sort()).toEqual(['g000000000008', 'g000000000008.done']);
  });

  it('waits for a live holder, and never takes an unverifiable one over on age', async () => {
    const dir = join(tempDir(), 'reg');
    mkdirSync(join(dir, 'lock'), { recursive: true });
    const sleeper = spawn('sleep', ['30']);
    try {
      const live = describeProcess(sleeper.pid ?? 0);
      writeFileSync(
        join(dir, 'lock', 'g000000000001'),
        JSON.stringify({ ...live, acquired: Date.now() }),
      );
      await expect(acquireLock(dir, { timeoutMs: 400 })).rejects.toThrow(/held by pid/);
      // Another pid namespace, no liveness socket, acquired an hour ago: still waited for.
      const other = { ...selfOwner(), pidns: 'pid:[42]', acquired: Date.now() - 3_600_000 };
      writeFileSync(join(dir, 'lock', 'g000000000002'), JSON.stringify(other));
      const err = await acquireLock(dir, { timeoutMs: 600 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RuntimeError);
      expect(String(err)).toMatch(
        /cannot be checked from here .*never taken over on age: if no portlease process runs on this host, remove .*g000000000002 to recover$/,
      );
      expect(readdirSync(join(dir, 'lock')).sort()).toEqual(['g000000000001', 'g000000000002']);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('serializes acquisitions inside one process', async () => {
    const dir = join(tempDir(), 'reg');
    mkdirSync(dir);
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const lock = await acquireLock(dir);
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 2));
        inside--;
        lock.release();
      }),
    );
    expect(most).toBe(1);
  });

  it('a worker thread terminated while it holds the lock is taken over at once (its socket refuses)', async () => {
    const dir = join(tempDir(), 'reg');
    mkdirSync(dir);
    const r = await collect(fixture('lock-thread', [dir]));
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { ok: boolean; ms?: number; error?: string };
    expect(out.error).toBeUndefined();
    expect(out.ok).toBe(true);
    // Not the 5 s lock timeout the fixture allows: proof, not a wait.
    expect(out.ms).toBeLessThan(2500);
  });

  it('serializes acquisitions of one lock directory however its path is spelled', async () => {
    const parent = tempDir();
    mkdirSync(join(parent, 'reg'));
    const spellings = [
      join(parent, 'reg'),
      join(parent, 'reg') + '/',
      join(parent, '.', 'reg', '.') + '/',
      join(parent, 'reg', '..', 'reg'),
    ];
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const lock = await acquireLock(spellings[i % 4] ?? '', { timeoutMs: 10_000 });
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 2));
        lock.assertHeld();
        inside--;
        lock.release();
      }),
    );
    expect(most).toBe(1);
  });
});

describe('labels', () => {
  it('keeps labels that fit the record format and cleans the rest', async () => {
    const range = await testRange(2);
    const dir = join(tempDir(), 'reg');
    const reg = new Registry(dir, { kernel: noKernel });
    const { lease } = await reg.allocate(
      req(range, {
        labels: { job: 'build\nand test', 'bad key!': 'x', run: '1'.repeat(600) },
      }),
    );
    expect(lease.labels).toEqual({ job: 'build and test', run: '1'.repeat(512) });
    expect(readState(dir, { quarantine: false }).leases[0]?.labels).toEqual(lease.labels);
  });
});

describe('the state this process saw last', () => {
  it('is never reused once another process has written the registry', async () => {
    const range = await testRange(3);
    const dir = join(tempDir(), 'reg');
    const reg = new Registry(dir, { kernel: noKernel });
    const first = await reg.allocate(req(range, { key: 'mine-1' }));
    expect(first.lease.ports.A).toBe(range.lo);
    // Another process takes the next port; it writes under a later lock generation.
    const other = await cli([
      'allocate',
      'B',
      '--range',
      `${range.lo}-${range.hi}`,
      '--strategy',
      'sequential',
      '--registry',
      dir,
    ]);
    expect(other.stdout.trim()).toBe(`B=${range.lo + 1}`);
    const second = await reg.allocate(req(range, { key: 'mine-2' }));
    expect(second.lease.ports.A).toBe(range.lo + 2);
  });

  it('is never reused once the file was replaced by hand, even between two of its own operations', async () => {
    const range = await testRange(3);
    const dir = join(tempDir(), 'reg');
    const reg = new Registry(dir, { kernel: noKernel });
    const { lease } = await reg.allocate(req(range, { key: 'mine-1' }));
    const doc = JSON.parse(readFileSync(join(dir, 'leases.json'), 'utf8')) as { leases: Lease[] };
    const manual = { ...lease, id: 'pl_byhand001', key: 'by-hand', ports: { M: range.lo + 1 } };
    writeFileSync(
      join(dir, 'leases.json'),
      JSON.stringify({ version: 1, leases: [...doc.leases, manual] }),
    );
    const next = await reg.allocate(req(range, { key: 'mine-2' }));
    expect(next.lease.ports.A).toBe(range.lo + 2);
    expect(Object.isFrozen(next.lease)).toBe(true);
  });
});

describe('the one-record-per-line layout', () => {
  it('checks every line that differs from what this process validated, and rejects what is not one record', async () => {
    const range = await testRange(6);
    const dir = join(tempDir(), 'reg');
    const reg = new Registry(dir, { kernel: noKernel });
    await reg.allocate(req(range, { key: 'a' }));
    await reg.allocate(req(range, { key: 'b' }));
    const path = join(dir, 'leases.json');
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines[0]).toBe('{"version":1,"leases":[');
    expect(lines).toHaveLength(5); // head, 2 records, tail, ''
    // Tamper with a record this process has validated (a port out of bounds), and add a line
    // holding two records at once.
    const tampered = (lines[1] ?? '').replace(/"ports":\{"A":\d+\}/, '"ports":{"A":70000}');
    const two = `${(lines[2] ?? '').replace(/,$/, '')},{"id":"pl_sneaky0001"}`;
    writeFileSync(
      path,
      [
        lines[0],
        tampered,
        `${two},`,
        (lines[2] ?? '')
          .replace(/,$/, '')
          .replace('"key":"b"', '"key":"c"')
          .replace(/"id":"pl_\w+"/, '"id":"pl_copyof0001"'),
        ']}',
        '',
      ].join('\n'),
    );
    const warnings: string[] = [];
    const again = new Registry(dir, { kernel: noKernel, warn: (m) => warnings.push(m) });
    const live = (await again.list()).map((s) => s.lease.key);
    // "a" now has a bad port and the two-record line is no record: both out. "c" (b's port
    // under another id and key) is then the only record holding that port, and valid.
    expect(live).toEqual(['c']);
    expect(warnings).toHaveLength(3); // two damaged lines, then the summary
    expect(warnings.join('\n')).toMatch(/bad port A/);
    expect(warnings[2]).toMatch(/kept the 1 intact record$/);
  });
});
