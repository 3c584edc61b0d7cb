// One leg of the collision comparison: a separate process, as a CI matrix leg would be.
// 1. get 3 ports with METHOD, 2. report them and wait for the barrier (every leg has its
// ports), 3. bind all three and hold them, 4. report, 5. close when told.
//
//   fork('bench/leg.ts', [METHOD, LO, HI, REGISTRY, RUN_ID, CLI], { execArgv: ['--import', LOADER] })
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { NAMES } from './options.js';

/** What a leg tells the collision round. */
export type LegMessage =
  | { type: 'ports'; ports: number[]; error?: string }
  | { type: 'bound'; results: { port: number; code: string | null }[] };
/** What the collision round tells a leg. */
export type RoundMessage = { type: 'bind'; ports: number[] } | { type: 'close' };

const [method = '', loText = '', hiText = '', registry = '', runId = '', cli = ''] =
  process.argv.slice(2);
const lo = Number(loText);
const hi = Number(hiText);

function send(msg: LegMessage): void {
  if (process.send === undefined) throw new Error('leg needs an IPC channel (fork)');
  process.send(msg);
}

function listen(port: number): Promise<{ server: Server | null; code: string | null }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      resolve({ server: null, code: err.code ?? 'EUNKNOWN' });
    });
    server.listen({ port, exclusive: true }, () => {
      resolve({ server, code: null });
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else {
        const lines = err.trim().split('\n');
        const why = lines.find((l) => /Error|portlease:/.test(l)) ?? lines[0] ?? '';
        reject(new Error(`exit ${String(code)}: ${why}`));
      }
    });
  });
}

async function getPorts(): Promise<number[]> {
  switch (method) {
    case 'portlease': {
      // The CLI, as a job step would run it; owned by this leg.
      const out = await run(process.execPath, [
        cli,
        'allocate',
        ...NAMES,
        '--registry',
        registry,
        '--range',
        `${lo}-${hi}`,
        '--owner-pid',
        String(process.pid),
        '--json',
      ]);
      const doc = JSON.parse(out) as { ports: Record<string, number> };
      return NAMES.map((n) => doc.ports[n] ?? NaN);
    }
    case 'get-port-range': {
      const { default: getPort, portNumbers } = await import('get-port');
      const got: number[] = [];
      for (let i = 0; i < 3; i++) got.push(await getPort({ port: portNumbers(lo, hi) }));
      return got;
    }
    case 'get-port': {
      const { default: getPort } = await import('get-port');
      const got: number[] = [];
      for (let i = 0; i < 3; i++) got.push(await getPort());
      return got;
    }
    case 'portfinder': {
      const { default: portfinder } = await import('portfinder');
      return portfinder.getPortsPromise(3, { port: lo, stopPort: hi });
    }
    case 'detect-port': {
      const { detectPort } = await import('detect-port');
      const got: number[] = [];
      let next = lo;
      for (let i = 0; i < 3; i++) {
        const p = await detectPort(next);
        got.push(p);
        next = p + 1;
      }
      return got;
    }
    case 'hash-offset': {
      // base + (hash(run id) % 90) * 10: ten ports per slot, 90 slots.
      const h = createHash('sha256').update(runId).digest().readUInt32BE(0);
      const base = lo + (h % 90) * 10;
      return [base, base + 1, base + 2];
    }
    case 'bind0': {
      // bind(0) three times, all three held at once, then closed and handed on.
      const held: Server[] = [];
      for (let i = 0; i < 3; i++) {
        const { server, code } = await listen(0);
        if (server === null) throw new Error(`bind(0): ${String(code)}`);
        held.push(server);
      }
      const got = held.map((s) => (s.address() as AddressInfo).port);
      await Promise.all(held.map(close));
      return got;
    }
    default:
      throw new Error(`unknown method ${method}`);
  }
}

let servers: Server[] = [];
process.on('message', (msg: RoundMessage) => {
  if (msg.type === 'bind') {
    void (async () => {
      const results: { port: number; code: string | null }[] = [];
      for (const port of msg.ports) {
        const { server, code } = await listen(port);
        if (server) servers.push(server);
        results.push({ port, code });
      }
      send({ type: 'bound', results });
    })();
  } else {
    void Promise.all(servers.map(close)).then(() => {
      servers = [];
      process.disconnect();
    });
  }
});

try {
  send({ type: 'ports', ports: await getPorts() });
} catch (err) {
  send({
    type: 'ports',
    ports: [],
    error: String(err instanceof Error ? err.message : err).slice(0, 300),
  });
}
