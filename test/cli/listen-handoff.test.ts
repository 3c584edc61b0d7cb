/**
 * `exec --listen` hands its listening sockets over without ever accepting on them: between
 * the bind and the moment portlease closes its own copies, its event loop does not poll, so
 * a client that connects while the command is still starting waits in the kernel's backlog
 * and is served by the command. It is never accepted by portlease and reset.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, collect, listLeases, NODE, tempDir, testRange } from '../helpers.js';

/**
 * Starts slowly (clients knock meanwhile), serves "hello" on the inherited socket and exits
 * when its stdin ends: after the test has stopped knocking, so that no connection waits in
 * the backlog when the listening socket closes (the kernel resets those, whoever closes it).
 */
const SLOW_SERVER = `
const net = require('net');
setTimeout(() => {
  const s = net.createServer((c) => c.end('hello\\n'));
  s.listen({ fd: Number(process.env.WEB_FD) }, () => console.log('ready'));
  process.stdin.on('end', () => s.close()).resume();
}, 300);`;

interface Tally {
  served: number;
  reset: number;
  refused: number;
  other: string[];
}

/** One connection: served (read "hello"), reset, refused (nothing listening), or other. */
function knock(port: number, tally: Tally): Promise<void> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let text = '';
    sock.setTimeout(10_000, () => {
      tally.other.push('timeout');
      sock.destroy();
      resolve();
    });
    sock.on('data', (d: Buffer) => (text += d.toString()));
    sock.on('end', () => {
      if (text.includes('hello')) tally.served++;
      else tally.other.push(`read ${JSON.stringify(text)}`);
      sock.destroy();
      resolve();
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') tally.reset++;
      else if (err.code === 'ECONNREFUSED') tally.refused++;
      else tally.other.push(err.code ?? err.message);
      resolve();
    });
  });
}

it('clients connecting while ten exec --listen commands start are all served or refused, never reset', async () => {
  const r = await testRange(1);
  const port = r.lo;
  const dir = join(tempDir(), 'reg');
  const tally: Tally = { served: 0, reset: 0, refused: 0, other: [] };
  for (let round = 0; round < 10; round++) {
    const child = spawn(
      NODE,
      [CLI, 'exec', 'WEB', '--listen', '--range', String(port), '--registry', dir, '--'].concat([
        NODE,
        '-e',
        SLOW_SERVER,
      ]),
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const done = collect(child);
    const seen = { ready: false };
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) seen.ready = true;
    });
    // From the moment the lease exists until a little after the command serves.
    while ((await listLeases(dir)).length === 0) await sleep(2);
    let stop = false;
    const clients = Array.from({ length: 4 }, async () => {
      while (!stop) await knock(port, tally);
    });
    while (!seen.ready) await sleep(5);
    await sleep(50);
    stop = true;
    await Promise.all(clients);
    child.stdin.end();
    const end = await done;
    expect(end.code, end.stderr).toBe(0);
  }
  expect(tally.other).toEqual([]);
  expect(tally.reset).toBe(0);
  // The clients really did knock during the start-ups: each round served some.
  expect(tally.served).toBeGreaterThanOrEqual(10);
});
