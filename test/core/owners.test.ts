/**
 * The owner kinds (src/core/owner.ts) on a real host: sessions, directories and exec
 * trees judged from another user and under hidepid (unknown = alive, never dead on a
 * partial view), records of the previous release honoured after an upgrade, records of
 * every kind validated, and the runner worker found by walking the parent chain.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runnerOwner } from '../../src/job/job.js';
import { Registry, describeProcess, type Lease } from '../../src/core/index.js';
import { bootId, pidNamespace } from '../../src/core/owner.js';
import { validateLease } from '../../src/core/schema.js';
import { cli, CLI, collect, NODE, tempDir, testRange } from '../helpers.js';
import { listJson, running, until, userEnv } from '../cli/shell.js';
import { hidepid, run } from './host-tools.js';

const USER = 'portlease-t9';
const root = process.getuid?.() === 0;

function ensureUser(): number {
  if (spawnSync('id', ['-u', USER]).status !== 0) {
    execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
  }
  return Number(execFileSync('id', ['-u', USER]).toString().trim());
}

/** Run the CLI as the second user; with `hidepid`, in a mount namespace whose /proc has hidepid=2. */
function asUser(
  args: string[],
  opts: { hidepid?: boolean; env?: NodeJS.ProcessEnv } = {},
): ReturnType<typeof collect> {
  const cmd = ['runuser', '-u', USER, '--', NODE, CLI, ...args];
  const argv = opts.hidepid === true ? hidepid(cmd) : cmd;
  return collect(
    spawn(argv[0] ?? '', argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env }),
  );
}

/** gc as root under hidepid=2 (root sees everything anyway). */
function rootHidepid(args: string[]): ReturnType<typeof collect> {
  return run(hidepid([NODE, CLI, ...args]));
}

const children: [ChildProcess, Promise<unknown>][] = [];
function detachedSleep(): number {
  const c = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  children.push([c, collect(c)]);
  return c.pid ?? 0;
}
afterAll(async () => {
  for (const [c, done] of children) {
    try {
      process.kill(-(c.pid ?? 0), 'SIGKILL'); // detached ones: the whole group
    } catch {
      c.kill('SIGKILL');
    }
    await done;
  }
});

/** An open registry directory the second user can write in. */
function sharedRegistry(): string {
  const dir = join(tempDir(true), 'reg');
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  return dir;
}

describe.runIf(root)('judged from another user and under hidepid', () => {
  it('a session lease of root is kept by another user under hidepid=2 (unknown), freed only where provable', async () => {
    ensureUser();
    const r = await testRange(2);
    const dir = sharedRegistry();
    const sid = detachedSleep();
    const a = await cli([
      'allocate',
      'A',
      '--range',
      `${r.lo}-${r.hi}`,
      '--registry',
      dir,
      '--owner',
      `session:${sid}`,
    ]);
    expect(a.code).toBe(0);
    // Another user who cannot see root's processes must not call the session dead.
    const gc = await asUser(['gc', '--registry', dir], { hidepid: true });
    expect(gc.stdout).toContain('0 leases removed, 1 live');
    const list = await asUser(['list', '--registry', dir], { hidepid: true });
    expect(list.stdout).toContain(`session ${sid} (unverifiable)`);
    // Without hidepid it sees the session's process: alive, not merely unknown.
    expect((await asUser(['list', '--registry', dir])).stdout).not.toContain('unverifiable');
    // The session ends: root sees every process even under hidepid, and frees it.
    process.kill(sid, 'SIGKILL');
    await until(() => !running(sid));
    expect((await asUser(['gc', '--registry', dir], { hidepid: true })).stdout).toContain(
      '0 leases removed, 1 live',
    );
    const rootGc = await rootHidepid(['gc', '--registry', dir]);
    expect(rootGc.stdout).toMatch(
      /removed pl_\w+ key "anon-\w+" \(\d+\): owner session \d+ is gone/,
    );
  });

  it('a directory another user cannot look into is unknown to it (kept), gone for root once removed', async () => {
    ensureUser();
    const r = await testRange(2);
    const dir = sharedRegistry();
    const secret = join(tempDir(), 'private');
    mkdirSync(join(secret, 'wt'), { recursive: true });
    chmodSync(secret, 0o700);
    const a = await cli([
      'allocate',
      'A',
      '--range',
      `${r.lo}-${r.hi}`,
      '--registry',
      dir,
      '--owner',
      `dir:${join(secret, 'wt')}`,
    ]);
    expect(a.code).toBe(0);
    expect((await asUser(['gc', '--registry', dir])).stdout).toContain('0 leases removed, 1 live');
    expect((await asUser(['list', '--registry', dir])).stdout).toContain('(unverifiable)');
    rmSync(join(secret, 'wt'), { recursive: true });
    expect((await asUser(['gc', '--registry', dir])).stdout).toContain('0 leases removed, 1 live');
    expect((await cli(['gc', '--registry', dir])).stdout).toContain('1 lease removed, 0 live');
  });

  it("an exec tree's stray whose environment its own user cannot read keeps the lease", async () => {
    const uid = ensureUser();
    const r = await testRange(1);
    const range = `${r.lo}-${r.hi}`;
    const dir = sharedRegistry();
    // As the second user: exec whose command leaves a non-dumpable stray in a session of its
    // own (its /proc/PID/environ is unreadable even to that user), then exec is SIGKILLed.
    const stray = `import ctypes, time; ctypes.CDLL(None).prctl(4, 0, 0, 0, 0); print("stray", flush=True); time.sleep(300)`;
    const ex = spawn(
      'runuser',
      [
        '-u',
        USER,
        '--',
        NODE,
        CLI,
        'exec',
        'A',
        '--range',
        range,
        '--registry',
        dir,
        '--',
        'sh',
        '-c',
        `setsid /usr/bin/python3 -c '${stray}' & sleep 300`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: userEnv(dir) },
    );
    const exDone = collect(ex);
    let out = '';
    ex.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('stray'));
    await until(async () => (await listJson(dir))[0]?.owner?.sid != null);
    const [lease] = await listJson(dir);
    const owner = lease?.owner as { pid: number; sid: number; uid: number };
    expect(owner.uid).toBe(uid);
    process.kill(owner.pid, 'SIGKILL'); // exec itself
    process.kill(-owner.sid, 'SIGKILL'); // the command's session: only the stray is left
    await until(() => !running(owner.sid));
    const strayPid = Number(
      execFileSync('pgrep', ['-u', USER, '-f', 'prctl']).toString().trim().split('\n')[0],
    );
    expect(() => readFileSync(`/proc/${strayPid}/environ`)).not.toThrow(); // root can read it
    const gc = await asUser(['gc', '--registry', dir]);
    expect(gc.stdout).toContain('0 leases removed, 1 live');
    expect((await asUser(['list', '--registry', dir])).stdout).toContain('(unverifiable)');
    process.kill(strayPid, 'SIGKILL');
    await until(() => !running(strayPid));
    expect((await asUser(['gc', '--registry', dir])).stdout).toContain('1 lease removed, 0 live');
    await exDone;
  });
});

describe('sessions', () => {
  it('a session lives while any process is in it, after its leader exited; then it is dead', async () => {
    const r = await testRange(1);
    const dir = join(tempDir(), 'reg');
    // The leader allocates for its session, leaves a process behind and exits.
    const leader = spawn(
      'sh',
      [
        '-c',
        `"${NODE}" "${CLI}" allocate A --range ${r.lo} --registry "${dir}"; sleep 300 >/dev/null 2>&1 & echo "bg $!"`,
      ],
      {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: userEnv(dir),
      },
    );
    const out = await collect(leader);
    const bg = Number(/bg (\d+)/.exec(out.stdout)?.[1]);
    const [lease] = await listJson(dir);
    expect(lease?.owner).toMatchObject({ kind: 'session', sid: leader.pid });
    expect(running(leader.pid ?? 0)).toBe(false);
    expect((await cli(['gc', '--registry', dir])).stdout).toContain('0 leases removed, 1 live');
    process.kill(bg, 'SIGKILL');
    await until(() => !running(bg));
    expect((await cli(['gc', '--registry', dir])).stdout).toMatch(/1 lease removed, 0 live/);
  });
  it("a session whose leader's pid now runs a process started at another time is over", async () => {
    const r = await testRange(2);
    const reg = new Registry(join(tempDir(), 'reg'));
    const sid = detachedSleep(); // a live session leader: sid = its pid
    const now = describeProcess(sid);
    const session = (start: string | null) => ({
      kind: 'session' as const,
      sid,
      start,
      uid: 0,
      boot: bootId(),
      host: hostname(),
      pidns: pidNamespace(),
    });
    await reg.allocate({
      names: ['A'],
      range: { lo: r.lo, hi: r.lo },
      owner: session(now?.start ?? null),
      ttlMs: 60_000,
      key: 'same',
    });
    // The recorded leader started at tick 1: pid `sid` was freed and reused since, so every
    // process with this session id belongs to a new session.
    await reg.allocate({
      names: ['A'],
      range: { lo: r.hi, hi: r.hi },
      owner: session('1'),
      ttlMs: 60_000,
      key: 'reused',
    });
    const gc = await reg.gc();
    expect(gc.removed.map((e) => [e.lease.key, e.reason])).toEqual([
      ['reused', `owner session ${sid} is gone`],
    ]);
    expect(gc.live.map((l) => l.key)).toEqual(['same']);
  });
});

describe('upgrades: records written by the previous release', () => {
  it('keep validating and are honoured, with their owners', async () => {
    const r = await testRange(4);
    const dir = join(tempDir(), 'reg');
    mkdirSync(dir, { mode: 0o777 });
    const live = spawn('sleep', ['300']);
    const dead = spawn('true');
    await collect(dead);
    children.push([live, collect(live)]);
    const proc = (pid: number, start: string): object => ({
      kind: 'process',
      pid,
      start,
      boot: bootId(),
      host: hostname(),
      pidns: pidNamespace(),
    });
    const liveOwner = describeProcess(live.pid ?? 0);
    const now = Date.now();
    // Exactly as 1.0 wrote them: field order, one record per line, the version-1 envelope.
    const record = (id: string, key: string, port: number, owner: object): string =>
      JSON.stringify({
        id,
        key,
        ports: { A: port },
        range: { lo: r.lo, hi: r.hi },
        contiguous: false,
        owner,
        created: new Date(now - 60_000).toISOString(),
        expires: new Date(now + 3_600_000).toISOString(),
        labels: { run_id: '42' },
      });
    const lines = [
      record('pl_live000001', 'old-live', r.lo, proc(live.pid ?? 0, liveOwner?.start ?? '')),
      record('pl_dead000001', 'old-dead', r.lo + 1, proc(dead.pid ?? 0, '1')),
      record('pl_ctr0000001', 'old-container', r.lo + 2, {
        kind: 'container',
        id: 'ab'.repeat(32),
        host: 'another-runner-host',
        boot: 'f'.repeat(8) + '-0000-0000-0000-' + '0'.repeat(12),
      }),
    ];
    writeFileSync(join(dir, 'leases.json'), `{"version":1,"leases":[\n${lines.join(',\n')}\n]}\n`, {
      mode: 0o666,
    });
    for (const l of lines) expect(typeof validateLease(JSON.parse(l))).toBe('object');

    const listed = await listJson(dir);
    expect(listed.map((l) => l.key)).toEqual(['old-live', 'old-container']);
    expect(listed[0]?.owner).toEqual((JSON.parse(lines[0] ?? '') as { owner: unknown }).owner);
    expect((await cli(['list', '--registry', dir])).stdout).toContain(`pid ${live.pid} (sleep)`);
    // Its port is not handed out; the dead one's is; nothing is quarantined.
    const a = await cli([
      'allocate',
      'B',
      '--range',
      `${r.lo}-${r.lo + 1}`,
      '--registry',
      dir,
      '--owner',
      'none',
      '--ttl',
      '1m',
    ]);
    expect(a.stdout).toBe(`B=${r.lo + 1}\n`);
    const text = readFileSync(join(dir, 'leases.json'), 'utf8');
    expect(text).toContain(`${lines[0] ?? ''},\n`); // the old record, byte for byte
    expect(text).toContain(lines[2] ?? '');
    expect(text).not.toContain('pl_dead000001');
    // The same key gives it back unchanged; release works.
    const same = await cli(['allocate', 'A', '--key', 'old-live', '--registry', dir]);
    expect(same.stdout).toBe(`A=${r.lo}\n`);
    expect(readFileSync(join(dir, 'leases.json'), 'utf8')).toContain(lines[0] ?? '');
    expect((await cli(['release', '--key', 'old-live', '--registry', dir])).code).toBe(0);
    expect((await listJson(dir)).map((l) => l.key)).toEqual([
      'old-container',
      expect.stringMatching(/^anon-/) as unknown,
    ]);
  });
});

describe('records of every owner kind', () => {
  const base = {
    id: 'pl_abcdefgh12',
    key: 'k',
    ports: { A: 20001 },
    range: { lo: 20000, hi: 20010 },
    contiguous: false,
    created: new Date().toISOString(),
    expires: null,
    labels: {},
  };
  const good = [
    { kind: 'session', sid: 4242, start: '123', uid: 1000, boot: 'b', host: 'h', pidns: 'pid:[1]' },
    { kind: 'session', sid: 4242, start: null, uid: null, boot: null, host: 'h', pidns: null },
    { kind: 'dir', path: '/src/wt1', host: 'h' },
    {
      kind: 'tree',
      pid: 991,
      start: '5',
      boot: 'b',
      host: 'h',
      pidns: 'pid:[1]',
      sid: 992,
      uid: 0,
    },
    {
      kind: 'tree',
      pid: 991,
      start: null,
      boot: null,
      host: 'h',
      pidns: null,
      sid: null,
      uid: null,
    },
  ];
  it.each(good)('accepts %j', (owner) => {
    const v = validateLease({ ...base, owner }) as Lease;
    expect(typeof v).toBe('object');
    expect(v.owner).toEqual(owner);
  });
  const bad = [
    { kind: 'session', sid: 0, start: null, uid: null, boot: null, host: 'h', pidns: null },
    { kind: 'session', sid: 1, start: null, uid: -1, boot: null, host: 'h', pidns: null },
    { kind: 'dir', path: 'relative/wt1', host: 'h' },
    { kind: 'dir', path: '/a\nb', host: 'h' },
    {
      kind: 'tree',
      pid: 991,
      start: null,
      boot: null,
      host: 'h',
      pidns: null,
      sid: 'x',
      uid: null,
    },
    { kind: 'group', pid: 1 },
  ];
  it.each(bad)('rejects %j', (owner) => {
    expect(validateLease({ ...base, owner })).toBe('bad owner');
  });

  it('a session or exec tree of another pid namespace, boot or host is never dead', async () => {
    const reg = new Registry(join(tempDir(), 'reg'));
    const r = await testRange(3);
    const owners = [
      {
        kind: 'session' as const,
        sid: 999999,
        start: null,
        uid: 0,
        boot: bootId(),
        host: hostname(),
        pidns: 'pid:[1]',
      },
      {
        kind: 'tree' as const,
        pid: 999999,
        start: null,
        boot: bootId(),
        host: 'elsewhere',
        pidns: pidNamespace(),
        sid: 999998,
        uid: 0,
      },
      { kind: 'dir' as const, path: '/no/such/dir', host: 'elsewhere' },
    ];
    for (const [i, owner] of owners.entries()) {
      await reg.allocate({
        names: ['A'],
        range: { lo: r.lo + i, hi: r.lo + i },
        owner,
        ttlMs: 60_000,
      });
    }
    const gc = await reg.gc();
    expect(gc.removed).toEqual([]);
    expect((await reg.list()).map((s) => s.liveness)).toEqual(['unknown', 'unknown', 'unknown']);
  });
});

describe('the runner worker is found by walking the parent chain', () => {
  it("for a `run:` step's grandchild, and for a `uses:` step whose parent is the worker", async () => {
    const bin = tempDir();
    const worker = join(bin, 'Runner.Worker');
    writeFileSync(worker, '#!/bin/bash\nbash -c \'sleep 300 & echo "child $!"; wait\'\n');
    chmodSync(worker, 0o755);
    const w = spawn(worker, [], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    children.push([w, collect(w)]);
    let out = '';
    w.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('child '));
    const grandchild = Number(/child (\d+)/.exec(out)?.[1]);
    const probe = { exists: () => false, read: () => null, hostname: () => hostname() };
    const deep = runnerOwner('/tmp/unused', { ppid: grandchild, env: {}, probe });
    expect(deep.owner).toEqual(describeProcess(w.pid ?? 0));
    const direct = runnerOwner('/tmp/unused', { ppid: w.pid ?? 0, env: {}, probe });
    expect(direct.owner).toEqual(describeProcess(w.pid ?? 0));
    // No Runner.Worker above: the parent, as before.
    const none = runnerOwner('/tmp/unused', { ppid: process.pid, env: {}, probe });
    expect(none.owner).toEqual(describeProcess(process.pid));
  });
});
