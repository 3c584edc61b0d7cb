// 6. `portlease serve`: one lease + release of one port through the warm lease server (a
// client on its socket, as the pytest plugin talks to it), against the same lease + release
// made in-process on a core Registry (no socket, no engine query): the floor the server can
// approach. Interleaved request by request; on the bench's registry directory (this host's
// /tmp) and, where the host has one, on a tmpfs (/dev/shm), because a state write on ext4
// pays for the flush its replace-by-rename starts (docs/adr/0004-durability.md).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Registry, selfOwner } from '../src/core/index.js';
import { baseEnv, log, type Context } from './context.js';
import { ALLOC_RANGE } from './options.js';
import type { ServeResult, ServeRow } from './results.js';
import { median, quantile, round } from './stats.js';

const TMPFS_MAGIC = 0x01021994;

function startServe(cli: string, dir: string): Promise<{ child: ChildProcess; socket: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--registry', dir, '--exit-on-eof'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: baseEnv(),
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => {
      resolve({ child, socket: (JSON.parse(line) as { socket: string }).socket });
    });
    child.once('exit', (code) => {
      reject(new Error(`portlease serve exited ${String(code)} before it listened`));
    });
  });
}

function client(path: string): Promise<(req: object) => Promise<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect({ path });
    const waiting: ((r: Record<string, unknown>) => void)[] = [];
    createInterface({ input: s }).on('line', (l) => {
      waiting.shift()?.(JSON.parse(l) as Record<string, unknown>);
    });
    s.once('error', reject);
    s.once('connect', () => {
      s.unref();
      resolve(
        (req) =>
          new Promise((res) => {
            waiting.push(res);
            s.write(JSON.stringify(req) + '\n');
          }),
      );
    });
  });
}

async function measureAt(cli: string, parent: string, where: string, n: number): Promise<ServeRow> {
  const dir = mkdtempSync(join(parent, 'portlease-bench-serve-'));
  const floorDir = mkdtempSync(join(parent, 'portlease-bench-floor-'));
  const { child, socket } = await startServe(cli, dir);
  const range = `${String(ALLOC_RANGE.lo)}-${String(ALLOC_RANGE.hi)}`;
  const floor = new Registry(floorDir, { kernel: { ephemeral: null, reserved: [] } });
  const owner = selfOwner();
  const serveMs: number[] = [];
  const floorMs: number[] = [];
  try {
    const ask = await client(socket);
    for (let i = 0; i < n + 20; i++) {
      let t = performance.now();
      const a = await ask({ op: 'allocate', pid: process.pid, names: ['P'], range });
      if (a.ok !== true) throw new Error(`serve: ${String(a.error)}`);
      await ask({ op: 'release', lease: a.lease, token: a.token });
      const s = performance.now() - t;
      t = performance.now();
      const { lease } = await floor.allocate({
        names: ['P'],
        range: ALLOC_RANGE,
        owner,
        ttlMs: 600_000,
      });
      await floor.release({ lease: lease.id });
      const f = performance.now() - t;
      if (i < 20) continue; // warm-up
      serveMs.push(s);
      floorMs.push(f);
    }
  } finally {
    child.stdin?.end();
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
    rmSync(floorDir, { recursive: true, force: true });
  }
  const row: ServeRow = {
    where,
    requests: n,
    serveP50: round(median(serveMs)),
    serveP99: round(quantile(serveMs, 0.99)),
    floorP50: round(median(floorMs)),
    ratio: round(median(serveMs) / median(floorMs)),
  };
  log(
    `serve (${where}): lease+release p50 ${row.serveP50} ms, in-process core ${row.floorP50} ms (${row.ratio}x)`,
  );
  return row;
}

export async function serve(ctx: Context): Promise<ServeResult> {
  const cli = ctx.cli;
  if (cli === null) throw new Error('dist/cli/index.js is not built: npm run build');
  const n = ctx.config.serveRequests;
  const rows = [
    await measureAt(
      cli,
      ctx.work,
      `${ctx.work.split('/').slice(0, 2).join('/')} (the bench's registry)`,
      n,
    ),
  ];
  if (existsSync('/dev/shm') && statfsSync('/dev/shm').type === TMPFS_MAGIC) {
    rows.push(await measureAt(cli, '/dev/shm', '/dev/shm (tmpfs)', n));
  }
  return { rows };
}
