/**
 * `portlease serve`, the warm lease server: its protocol, its errors (registry untouched),
 * who owns what it leases (the asking client, never the server), a server SIGKILLed under
 * live leases, and a second Unix user leasing through the first user's server but never
 * ending the first user's lease.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, CLI, listLeases, NODE, snapshot, tempDir, testRange } from '../helpers.js';
import { describeWith, root } from '../prerequisites.js';
import { ensureUser, kill, sharedParent, sleeperAs } from '../core/host-tools.js';

type Reply = Record<string, unknown> & { ok: boolean };

/** A protocol client: one connection, requests answered in order. */
class Client {
  private readonly replies: ((r: Reply) => void)[] = [];
  private constructor(private readonly socket: Socket) {
    createInterface({ input: socket }).on('line', (line) => {
      this.replies.shift()?.(JSON.parse(line) as Reply);
    });
  }

  static open(path: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = connect({ path });
      s.once('connect', () => {
        resolve(new Client(s));
      });
      s.once('error', reject);
    });
  }

  request(req: Record<string, unknown>): Promise<Reply> {
    return this.send(JSON.stringify(req));
  }

  send(line: string): Promise<Reply> {
    return new Promise((resolve) => {
      this.replies.push(resolve);
      this.socket.write(line + '\n');
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

const servers: ChildProcess[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.kill('SIGKILL');
});

/** Start `serve` (as `user`, when given) and wait for its ready line. */
async function serve(
  args: string[],
  user?: string,
): Promise<{ child: ChildProcess; socket: string; pid: number }> {
  const argv = [NODE, CLI, 'serve', ...args];
  const child = user
    ? spawn('runuser', ['-u', user, '--', ...argv], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(argv[0] ?? '', argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  servers.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => {
      reject(new Error(`serve exited ${String(code)}: ${err}`));
    });
  });
  const ready = JSON.parse(line) as { socket: string; pid: number };
  return { child, ...ready };
}

describe('portlease serve', () => {
  it('allocates, lists, renews and releases through the same registry as the CLI', async () => {
    const r = await testRange(8);
    const dir = join(tempDir(), 'reg');
    const { socket } = await serve(['--registry', dir]);
    expect(socket).toBe(join(dir, 'serve.sock'));
    const c = await Client.open(socket);
    const range = `${r.lo}-${r.hi}`;
    const a = await c.request({
      id: 7,
      op: 'allocate',
      pid: process.pid,
      names: ['WEB', 'DB'],
      range,
      key: 'k1',
      ttl: '10m',
    });
    expect(a).toMatchObject({ id: 7, ok: true, key: 'k1', reused: false });
    const ports = a.ports as Record<string, number>;
    expect(Object.keys(ports)).toEqual(['WEB', 'DB']);
    expect(typeof a.token).toBe('string');
    // The CLI sees it, owned by this process (the client), not by the server.
    const listed = await listLeases(dir);
    expect(listed).toHaveLength(1);
    expect(listed[0]?.owner).toMatchObject({ kind: 'process', pid: process.pid });
    expect(listed[0]?.ports).toEqual(ports);
    // The CLI's allocate never gets those ports; the same key through the CLI is that lease.
    const fromCli = await cli(['allocate', 'X', 'Y', '--range', range, '--registry', dir]);
    expect(fromCli.code).toBe(0);
    expect(fromCli.stdout).not.toMatch(new RegExp(`=(${Object.values(ports).join('|')})$`, 'm'));
    const list = await c.request({ op: 'list' });
    expect((list.leases as unknown[]).length).toBe(2);
    // Same key again through the server: the same lease, no token (it is not a new one),
    // and a guess with the lease id alone ends nothing.
    const again = await c.request({ op: 'allocate', pid: process.pid, names: ['WEB'], key: 'k1' });
    expect(again).toMatchObject({
      ok: true,
      lease: a.lease,
      reused: true,
      ports: { WEB: ports.WEB },
      token: null,
    });
    const other = await Client.open(socket);
    const grab = await other.request({
      op: 'allocate',
      pid: process.pid,
      names: ['WEB'],
      key: 'k1',
    });
    expect(grab).toMatchObject({ ok: true, lease: a.lease, reused: true, token: null });
    const steal = await other.request({ op: 'release', lease: a.lease, token: null });
    expect(steal).toMatchObject({ ok: false, code: 2 });
    other.close();

    const renewed = await c.request({ op: 'renew', lease: a.lease, token: a.token, ttl: '2h' });
    expect(renewed.ok).toBe(true);
    expect(Date.parse(String(renewed.expires)) - Date.now()).toBeGreaterThan(3_500_000);
    const released = await c.request({ op: 'release', lease: a.lease, token: a.token });
    expect(released).toEqual({ ok: true, released: true });
    expect((await listLeases(dir)).map((l) => l.key)).not.toContain('k1');
    c.close();
  });

  it('bad requests get one line naming the field, code 2, and leave the registry untouched', async () => {
    const r = await testRange(2);
    const dir = join(tempDir(), 'reg');
    // The socket outside the registry: snapshot() reads every file there.
    const { socket } = await serve(['--registry', dir, '--socket', join(tempDir(), 's.sock')]);
    const c = await Client.open(socket);
    const ok = await c.request({
      op: 'allocate',
      pid: process.pid,
      names: ['A'],
      range: `${r.lo}-${r.hi}`,
    });
    expect(ok.ok).toBe(true);
    const before = snapshot(dir);
    const cases: [string, RegExp][] = [
      ['not json', /^request: not JSON/],
      ['[1,2]', /^request: not a JSON object/],
      ['{"op":"steal"}', /^op: "steal" is not an operation; use allocate, release, renew or list$/],
      ['{"op":"allocate","names":["A"]}', /^pid: null is not a process id/],
      ['{"op":"allocate","pid":1.5,"names":["A"]}', /^pid: 1.5 is not a process id/],
      [
        '{"op":"allocate","pid":99999999,"names":["A"]}',
        /^pid: 99999999 is not a running process$/,
      ],
      [
        `{"op":"allocate","pid":${process.pid},"names":["A"],"rang":"1-2"}`,
        /^allocate: unknown field "rang"; use pid, names, count/,
      ],
      [
        `{"op":"allocate","pid":${process.pid},"names":["A"],"range":"abc"}`,
        /^--range: "abc" is not a port range/,
      ],
      [`{"op":"allocate","pid":${process.pid},"names":["1A"]}`, /NAME: "1A"/],
      [`{"op":"allocate","pid":${process.pid},"names":"A"}`, /^names: give an array of port names/],
      [`{"op":"allocate","pid":${process.pid},"names":["A"],"ttl":5}`, /^ttl: 5 is not a string$/],
      [
        `{"op":"allocate","pid":${process.pid},"names":["A"],"owner":"session"}`,
        /^owner: "session" would name the server's session/,
      ],
      [
        `{"op":"release","lease":"${String(ok.lease)}"}`,
        /^token: lease pl_\w+ was not leased through this server with that token/,
      ],
      [`{"op":"release","lease":"${String(ok.lease)}","token":"guess"}`, /^token: lease/],
      [`{"op":"renew","lease":"${String(ok.lease)}","token":"guess","ttl":"1h"}`, /^token: lease/],
      ['{"op":"release","lease":"nope","token":"x"}', /^lease: "nope"/],
    ];
    for (const [line, said] of cases) {
      const reply = await c.send(line);
      expect(reply.ok, line).toBe(false);
      expect(reply.code, line).toBe(2);
      expect(String(reply.error), line).toMatch(said);
      expect(String(reply.error)).not.toMatch(/\n|at .*\.js/);
    }
    expect(snapshot(dir)).toEqual(before);
    // An over-long line: one error reply, then the connection closes; the server serves on.
    const long = await c.send(`{"op":"list","pad":"${'x'.repeat(70_000)}"}`);
    expect(long).toMatchObject({ ok: false, code: 2 });
    expect(String(long.error)).toMatch(/a line over 65536 bytes/);
    const d = await Client.open(socket);
    expect((await d.request({ op: 'list' })).ok).toBe(true);
    d.close();
    expect(snapshot(dir)).toEqual(before);
  });

  it('a server SIGKILLed mid-session leaves its clients their leases; they end with the clients', async () => {
    const r = await testRange(4);
    const dir = join(tempDir(), 'reg');
    const { child, socket } = await serve(['--registry', dir]);
    const client = spawn('sleep', ['60']);
    const c = await Client.open(socket);
    const a = await c.request({
      op: 'allocate',
      pid: client.pid,
      names: ['A'],
      range: `${r.lo}-${r.hi}`,
    });
    expect(a.ok).toBe(true);
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    // The lease lives with its client, not with the server.
    expect((await cli(['gc', '--registry', dir])).code).toBe(0);
    expect((await listLeases(dir)).map((l) => l.lease)).toEqual([a.lease]);
    // A new server on the same (stale) socket path takes over the address.
    const again = await serve(['--registry', dir]);
    expect(again.socket).toBe(socket);
    client.kill('SIGKILL');
    await new Promise((res) => client.once('exit', res));
    await cli(['gc', '--registry', dir]);
    expect(await listLeases(dir)).toEqual([]);
  });

  it('refuses a socket another server answers on, exits on stdin EOF and --idle, and removes its socket', async () => {
    const dir = join(tempDir(), 'reg');
    const first = await serve(['--registry', dir, '--exit-on-eof']);
    const second = await cli(['serve', '--registry', dir]);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe(
      `portlease: --socket: a server already answers on ${first.socket}`,
    );
    first.child.stdin?.end();
    const code = await new Promise((res) => first.child.once('exit', res));
    expect(code).toBe(0);
    expect(existsSync(first.socket)).toBe(false);
    const idle = await serve(['--registry', dir, '--idle', '1s']);
    const idleCode = await new Promise((res) => idle.child.once('exit', res));
    expect(idleCode).toBe(0);
    expect(existsSync(idle.socket)).toBe(false);
    // Not a socket, too long, bad --idle: one line, exit 2.
    mkdirSync(join(dir, 'x'));
    writeFileSync(join(dir, 'x', 'file'), '');
    const notSock = await cli(['serve', '--registry', dir, '--socket', join(dir, 'x', 'file')]);
    expect(notSock.code).toBe(2);
    expect(notSock.stderr).toMatch(/^portlease: --socket: .* exists and is not a socket/);
    const tooLong = await cli(['serve', '--socket', join(dir, 'y'.repeat(120))]);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/too long for a Unix socket/);
    const badIdle = await cli(['serve', '--registry', dir, '--idle', 'soon']);
    expect(badIdle.code).toBe(2);
    expect(badIdle.stderr).toMatch(/^portlease: --idle: /);
  });
});

describeWith(root(), 'portlease serve between two Unix users', () => {
  it("a second user leases through the first user's server, and cannot release or renew the first user's lease", async () => {
    const UA = 'portlease-ua';
    const UB = 'portlease-ub';
    ensureUser(UA);
    ensureUser(UB);
    const r = await testRange(4);
    const dir = join(sharedParent(), 'reg');
    const pa = sleeperAs(UA);
    const pb = sleeperAs(UB);
    try {
      const { socket } = await serve(['--registry', dir], UA);
      const mine = await Client.open(socket);
      const a = await mine.request({
        op: 'allocate',
        pid: pa,
        names: ['A'],
        range: `${r.lo}-${r.hi}`,
      });
      expect(a.ok).toBe(true);
      // User B's client, on the same socket (0666), leasing for its own process.
      const script = `
        const net = require('node:net');
        const s = net.connect(${JSON.stringify(socket)});
        const reqs = ${JSON.stringify([
          { op: 'allocate', pid: pb, names: ['B'], range: `${r.lo}-${r.hi}` },
          { op: 'release', lease: a.lease, token: 'x'.repeat(24) },
          { op: 'renew', lease: a.lease, token: 'x'.repeat(24), ttl: '1h' },
        ])};
        let out = '';
        s.on('connect', () => { for (const q of reqs) s.write(JSON.stringify(q) + '\\n'); });
        s.on('data', (d) => { out += d; if (out.split('\\n').length > reqs.length) { process.stdout.write(out); s.end(); } });
        s.on('error', (e) => { process.stderr.write(String(e)); process.exit(3); });`;
      const b = spawn('runuser', ['-u', UB, '--', NODE, '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      b.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise((res) => b.once('exit', res));
      expect(code).toBe(0);
      const [leased, released, renewed] = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Reply);
      expect(leased?.ok).toBe(true);
      expect(released).toMatchObject({ ok: false, code: 2 });
      expect(renewed).toMatchObject({ ok: false, code: 2 });
      const live = await listLeases(dir);
      expect(live.map((l) => l.owner?.pid).sort()).toEqual([pa, pb].sort());
      const aLease = live.find((l) => l.lease === a.lease);
      expect(aLease?.ports).toEqual(a.ports);
      mine.close();
    } finally {
      kill(pa);
      kill(pb);
    }
  });
});
