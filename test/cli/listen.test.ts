/**
 * `exec --listen`: the leased ports bound by portlease while it holds the lease, handed to
 * the command as fds 3, 4, ... with systemd's protocol. Real servers (Node on
 * `listen({ fd })`, Python on `socket.socket(fileno=3)`), the protocol's variables, a
 * hostile binder outside the registry, and cleanup.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { tryListen } from '../../src/core/probe.js';
import {
  CLI,
  cli,
  collect,
  foreignAddress,
  listLeases,
  NODE,
  snapshot,
  tempDir,
  testRange,
} from '../helpers.js';

/** A Node server on the inherited WEB socket: answers with what it inherited, then exits. */
const NODE_SERVER = `
const http = require('http');
const s = http.createServer((q, r) => {
  r.end(JSON.stringify({ pid: process.pid, env: process.env }));
  if (++served >= Number(process.env.REQUESTS ?? 1)) s.close();
});
let served = 0;
s.listen({ fd: Number(process.env.WEB_FD) }, () => console.log('ready'));`;

function startExec(args: string[], command: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(NODE, [CLI, 'exec', ...args, '--', ...command], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
  });
  return { child, ready, done: collect(child) };
}

it('a Node server gets its sockets as fds 3, 4 with LISTEN_PID, LISTEN_FDNAMES and NAME_FD; all closed and released after', async () => {
  const r = await testRange(4);
  const dir = join(tempDir(), 'reg');
  const run = startExec(
    ['WEB', 'API', '--listen', '--range', `${r.lo}-${r.hi}`, '--registry', dir],
    [NODE, '-e', NODE_SERVER],
  );
  await run.ready;
  const [held] = await listLeases(dir);
  const web = held?.ports.WEB ?? 0;
  const res = await fetch(`http://127.0.0.1:${web}/`);
  const body = (await res.json()) as { pid: number; env: Record<string, string> };
  expect(body.env.LISTEN_PID).toBe(String(body.pid));
  expect(body.env.LISTEN_FDS).toBe('2');
  expect(body.env.LISTEN_FDNAMES).toBe('WEB:API');
  expect([body.env.WEB_FD, body.env.API_FD]).toEqual(['3', '4']);
  const end = await run.done;
  expect(end.code, end.stderr).toBe(0);
  // Nothing stays bound, and the lease is gone.
  expect(await tryListen(web, '127.0.0.1')).toBeNull();
  expect(await tryListen(held?.ports.API ?? 0, '127.0.0.1')).toBeNull();
  expect(await listLeases(dir)).toEqual([]);
});

it('a Python server serves on the inherited socket (socket.socket(fileno=3))', async () => {
  const r = await testRange(2);
  const dir = join(tempDir(), 'reg');
  const py = `
import os, socket, sys
s = socket.socket(fileno=int(os.environ["WEB_FD"]))
s.setblocking(True)  # inherited as Node's event loop left it: non-blocking
print("ready", flush=True)
c, _ = s.accept()
c.sendall(("python " + os.environ["LISTEN_PID"] + " " + str(os.getpid())).encode())
c.close()`;
  const run = startExec(
    ['WEB', '--listen', '--range', `${r.lo}-${r.hi}`, '--registry', dir],
    ['/usr/bin/python3', '-c', py],
  );
  await run.ready;
  const [held] = await listLeases(dir);
  const got = await new Promise<string>((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port: held?.ports.WEB ?? 0 });
    let text = '';
    sock.on('data', (d: Buffer) => {
      text += d.toString();
    });
    sock.on('end', () => {
      resolve(text);
    });
    sock.on('error', reject);
  });
  const [word, listenPid, pid] = got.split(' ');
  expect(word).toBe('python');
  expect(listenPid).toBe(pid);
  expect((await run.done).code).toBe(0);
  expect(await listLeases(dir)).toEqual([]);
});

/** A process outside the registry: once the lease shows in `list`, try to bind its port for `ms`. */
async function hostile(dir: string, ms: number): Promise<number> {
  let port = 0;
  while (port === 0) {
    port = (await listLeases(dir))[0]?.ports.WEB ?? 0;
  }
  let wins = 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await tryListen(port, '127.0.0.1')) === null) wins++;
  }
  return wins;
}

it('a hostile binder never gets the port with --listen; without it, it wins the window', async () => {
  const r = await testRange(2);
  const range = `${r.lo}-${r.hi}`;
  // With --listen: the server starts late (0.5 s), yet the port was bound all along.
  const dir = join(tempDir(), 'reg');
  const run = startExec(
    ['WEB', '--listen', '--range', range, '--registry', dir],
    ['sh', '-c', `sleep 0.5; exec "$0" -e "$1"`, NODE, NODE_SERVER],
    { REQUESTS: '5' },
  );
  const wins = await hostile(dir, 1500);
  await run.ready;
  const [held] = await listLeases(dir);
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`http://127.0.0.1:${held?.ports.WEB ?? 0}/`);
    expect(res.status).toBe(200);
  }
  expect((await run.done).code).toBe(0);
  expect(wins).toBe(0);

  // Without --listen: the same late server; the hostile process binds in the gap.
  const dir2 = join(tempDir(), 'reg');
  const plain = spawn(
    NODE,
    [CLI, 'exec', 'WEB', '--range', range, '--registry', dir2, '--', 'sleep', '1'],
    { stdio: 'ignore' },
  );
  const plainWins = await hostile(dir2, 500);
  await new Promise((resolve) => plain.once('exit', resolve));
  console.log(`hostile binder without --listen: bound the leased port ${plainWins} times in 0.5 s`);
  expect(plainWins).toBeGreaterThan(0);
});

it('--listen-host takes an IP address of this host (checked before any lease), and only with --listen', async () => {
  const r = await testRange(2);
  const dir = join(tempDir(), 'reg');
  const keep = await cli(['allocate', 'KEEP', '--range', `${r.lo}-${r.hi}`, '--registry', dir]);
  expect(keep.code, keep.stderr).toBe(0);
  const before = snapshot(dir);
  const hosts = 'use 127.0.0.1 (the default), 0.0.0.0, ::, ::1 or another IP address of this host';
  const foreign = foreignAddress();
  for (const [host, message] of [
    ['example.com', `--listen-host: "example.com" is not an IP address; ${hosts}`],
    [
      foreign,
      `--listen-host: cannot listen on ${foreign} (EADDRNOTAVAIL: not an address of this host); ${hosts}`,
    ],
  ]) {
    const bad = await cli([
      'exec',
      'WEB',
      '--listen',
      '--listen-host',
      host ?? '',
      '--registry',
      dir,
      '--',
      'true',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(`portlease: ${message ?? ''}`);
  }
  expect(snapshot(dir)).toEqual(before);
  // Another address of this host (all of 127/8 is loopback on Linux).
  const other = await cli([
    'exec',
    'WEB',
    '--listen',
    '--listen-host',
    '127.0.0.2',
    '--range',
    `${r.lo}-${r.hi}`,
    '--registry',
    dir,
    '--',
    NODE,
    '-e',
    `require('net').createServer().listen({ fd: 3 }, function () { console.log(this.address().address); this.close(); })`,
  ]);
  expect(other.code, other.stderr).toBe(0);
  expect(other.stdout.trim()).toBe('127.0.0.2');
  const alone = await cli(['exec', 'WEB', '--listen-host', '::', '--registry', dir, '--', 'true']);
  expect(alone.code).toBe(2);
  expect(alone.stderr.trim()).toBe('portlease: --listen-host: only with --listen');
});
