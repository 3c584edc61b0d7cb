/**
 * listen(): leased ports bound while the lease is held. Real servers (an http handler, a
 * raw net.Server), a hostile binder outside the registry, release on close (all at once or
 * server by server), a SIGKILLed owner, a port taken between lease and bind (strace delays
 * the bind), bad input, and the docs' example run as written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  lease,
  listen,
  ListenError,
  UsageError,
  type ListeningServer,
  type ListenOptions,
} from '../../src/lib/index.js';
import { Registry } from '../../src/core/index.js';
import { tryListen } from '../../src/core/probe.js';
import { collect, foreignAddress, NODE, ROOT, snapshot, tempDir, testRange } from '../helpers.js';

const LIB = join(ROOT, 'dist/lib/index.js');

async function listed(
  dir: string,
): Promise<
  { id: string; owner: { kind: string; pid?: number } | null; ports: Record<string, number> }[]
> {
  return (await new Registry(dir).list()).map(({ lease: l }) => ({
    id: l.id,
    owner: l.owner,
    ports: { ...l.ports },
  }));
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** The first stdout line of a child that is JSON (or contains `word`). */
function line(child: ChildProcess, word = '{'): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      text += d.toString();
      const found = text.split('\n').find((l) => l.includes(word));
      if (found !== undefined) resolve(found);
    });
    child.once('exit', (code) => {
      reject(new Error(`child exited (${String(code)}) before "${word}": ${text}${err}`));
    });
  });
}

function get(port: number, host = '127.0.0.1'): Promise<string> {
  return fetch(`http://${host.includes(':') ? `[${host}]` : host}:${port}/`).then((r) => r.text());
}

describe('listen()', () => {
  it('binds the leased ports while the lease is held; an http.createServer handler answers; a new net.Server keeps early connections for its first handler', async () => {
    const r = await testRange(6);
    const registry = join(tempDir(), 'reg');
    // Node's net.Server is what the public ListeningServer type describes (tsc checks this).
    const shape: ListeningServer = createServer();
    expect(shape.listening).toBe(false);
    const web = createHttpServer((_q, res) => res.end('hello\n'));
    let id: string;
    let ports: Record<string, number>;
    {
      await using l = await listen({
        names: ['WEB', 'RAW'],
        range: `${r.lo}-${r.hi}`,
        registry,
        servers: { WEB: web },
      });
      ({ id, ports } = l);
      // The caller's own server comes back, typed as theirs.
      const same: HttpServer = l.servers.WEB;
      expect(same).toBe(web);
      expect(l.servers.RAW).toBeInstanceOf(Server);
      expect(l.host).toBe('127.0.0.1');
      expect(Object.keys(l.ports)).toEqual(['WEB', 'RAW']);
      for (const p of Object.values(l.ports)) {
        expect(p >= r.lo && p <= r.hi).toBe(true);
        expect(await tryListen(p, '127.0.0.1')).toBe('EADDRINUSE');
      }
      expect(web.address()).toMatchObject({ address: '127.0.0.1', port: l.ports.WEB });
      expect(await get(l.ports.WEB ?? 0)).toBe('hello\n');
      // The lease: owned by this process, holding the two ports.
      expect(await listed(registry)).toMatchObject([
        { id, owner: { kind: 'process', pid: process.pid }, ports },
      ]);

      // A client that connects before RAW has a handler is kept, then served by the first one.
      const client = connect({ host: '127.0.0.1', port: l.ports.RAW ?? 0 });
      let got = '';
      client.on('data', (d: Buffer) => (got += d.toString()));
      const ended = new Promise((resolve) => client.once('close', resolve));
      await waitFor(
        () =>
          new Promise<boolean>((resolve) => {
            l.servers.RAW?.getConnections((_e, n) => {
              resolve(n === 1);
            });
          }),
        'the early connection to be accepted',
      );
      // ...and one that resets before there is a handler ends quietly (no uncaught ECONNRESET).
      const rude = connect({ host: '127.0.0.1', port: l.ports.RAW ?? 0 });
      await new Promise((resolve) => rude.once('connect', resolve));
      rude.resetAndDestroy();
      await new Promise((resolve) => setTimeout(resolve, 200));
      l.servers.RAW?.on('connection', (socket: import('node:net').Socket) => {
        socket.end('raw\n');
      });
      await ended;
      expect(got).toBe('raw\n');
    }
    // `await using`: closed and released.
    expect(web.listening).toBe(false);
    expect(await listed(registry)).toEqual([]);
    for (const p of Object.values(ports)) expect(await tryListen(p, '127.0.0.1')).toBeNull();
  });

  it("host: '0.0.0.0', '::' (dual-stack, as Node), '::1', another local address (127.0.0.2); ipv6Only", async () => {
    const r = await testRange(4);
    const registry = join(tempDir(), 'reg');
    const cases: [ListenOptions, string[]][] = [
      [{ host: '0.0.0.0' }, ['127.0.0.1']],
      [{ host: '::' }, ['127.0.0.1', '::1']],
      [{ host: '::', ipv6Only: true }, ['::1']],
      [{ host: '::1' }, ['::1']],
      [{ host: '127.0.0.2' }, ['127.0.0.2']],
    ];
    for (const [options, clients] of cases) {
      const l = await listen({
        names: ['WEB'],
        range: `${r.lo}-${r.hi}`,
        registry,
        servers: { WEB: createHttpServer((_q, res) => res.end('ok')) },
        ...options,
      });
      expect(l.host).toBe(options.host);
      for (const c of clients) expect(await get(l.ports.WEB ?? 0, c), c).toBe('ok');
      if (options.ipv6Only === true) {
        // IPv6 only: the IPv4 side of the port is not held.
        expect(await tryListen(l.ports.WEB ?? 0, '127.0.0.1')).toBeNull();
      }
      await l.close();
    }
    expect(await listed(registry)).toEqual([]);
  });

  it('close() releases the lease and unbinds; closing the servers one by one releases after the last', async () => {
    const r = await testRange(6);
    const registry = join(tempDir(), 'reg');
    const a = await listen({ names: ['WEB', 'API'], range: `${r.lo}-${r.hi}`, registry });
    expect((await listed(registry)).map((x) => x.id)).toEqual([a.id]);
    // A connection no handler took does not keep close() waiting.
    const client = connect({ host: '127.0.0.1', port: a.ports.WEB ?? 0 });
    client.on('error', () => undefined);
    const gone = new Promise((resolve) => client.once('close', resolve));
    await new Promise((resolve) => client.once('connect', resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await a.close();
    await gone;
    await a.close(); // idempotent
    expect(await listed(registry)).toEqual([]);
    for (const p of Object.values(a.ports)) expect(await tryListen(p, '127.0.0.1')).toBeNull();

    const b = await listen({ names: ['WEB', 'API'], range: `${r.lo}-${r.hi}`, registry });
    await new Promise((resolve) => b.servers.WEB?.close(resolve));
    // WEB is free again, but API still listens: the lease stays.
    expect(await tryListen(b.ports.WEB ?? 0, '127.0.0.1')).toBeNull();
    expect(await tryListen(b.ports.API ?? 0, '127.0.0.1')).toBe('EADDRINUSE');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await listed(registry)).map((x) => x.id)).toEqual([b.id]);
    await new Promise((resolve) => b.servers.API?.close(resolve));
    await waitFor(
      async () => (await listed(registry)).length === 0,
      'the release after the last close',
    );
    expect(await tryListen(b.ports.API ?? 0, '127.0.0.1')).toBeNull();
  });

  it("a key whose lease lives (someone else's): its ports are bound, and that lease is left as it is on close", async () => {
    const r = await testRange(4);
    const registry = join(tempDir(), 'reg');
    const held = await lease({ names: ['WEB'], range: `${r.lo}-${r.hi}`, key: 'shared', registry });
    const l = await listen({ names: ['WEB'], range: `${r.lo}-${r.hi}`, key: 'shared', registry });
    expect(l.id).toBe(held.id);
    expect(l.ports).toEqual(held.ports);
    await l.close();
    expect((await listed(registry)).map((x) => x.id)).toEqual([held.id]);
    await held.release();
  });

  it('a lease with the default TTL is renewed while its servers listen; an explicit ttl is not', async () => {
    const r = await testRange(4);
    const registry = join(tempDir(), 'reg');
    const opts = `range: '${r.lo}-${r.hi}', registry: ${JSON.stringify(registry)}`;
    const code = `import { listen } from ${JSON.stringify(LIB)};
      const a = await listen({ names: ['WEB'], ${opts} });
      const b = await listen({ names: ['API'], ttl: '10m', ${opts} });
      console.log(JSON.stringify({ renewed: a.id, fixed: b.id }));`;
    const child = spawn(NODE, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORTLEASE_HEARTBEAT_MS: '1000' },
    });
    try {
      const ids = JSON.parse(await line(child)) as { renewed: string; fixed: string };
      const expires = async (id: string): Promise<number> => {
        const found = (await new Registry(registry).list()).find((x) => x.lease.id === id);
        return Date.parse(found?.lease.expires ?? '');
      };
      const first = { renewed: await expires(ids.renewed), fixed: await expires(ids.fixed) };
      await waitFor(async () => (await expires(ids.renewed)) > first.renewed, 'a renewal');
      await new Promise((res) => setTimeout(res, 1500)); // a heartbeat for the fixed one too
      expect(await expires(ids.fixed)).toBe(first.fixed);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a process that called listen() and is SIGKILLed: its lease is reclaimed and the port is free', async () => {
    const r = await testRange(4);
    const registry = join(tempDir(), 'reg');
    const code = `import { listen } from ${JSON.stringify(LIB)};
      const l = await listen({ names: ['WEB'], range: '${r.lo}-${r.hi}', registry: ${JSON.stringify(registry)} });
      console.log(JSON.stringify({ id: l.id, port: l.ports.WEB }));`;
    const child = spawn(NODE, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const { id, port } = JSON.parse(await line(child)) as { id: string; port: number };
      expect(await listed(registry)).toMatchObject([
        { id, owner: { kind: 'process', pid: child.pid }, ports: { WEB: port } },
      ]);
      // The server keeps the process alive, and holds the port.
      expect(await tryListen(port, '127.0.0.1')).toBe('EADDRINUSE');
      child.kill('SIGKILL');
      await waitFor(async () => (await listed(registry)).length === 0, 'the lease to be reclaimed');
      expect(await tryListen(port, '127.0.0.1')).toBeNull();
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/**
 * A process outside the registry (plain Node): from the moment a lease shows in leases.json,
 * bind (and let go of) each port named `name` there, as fast as it can, until its stdin
 * closes; then print the attempts and the times it got a port.
 */
const HOSTILE = `
const fs = require('fs'), net = require('net');
const [file, name] = process.argv.slice(1);
let stop = false;
process.stdin.on('end', () => { stop = true; });
process.stdin.resume();
const now = () => performance.timeOrigin + performance.now();
const bind = (port) => new Promise((resolve) => {
  const s = net.createServer();
  s.once('error', () => resolve(null));
  s.listen({ port, host: '127.0.0.1', exclusive: true }, () => { const t = now(); s.close(() => resolve(t)); });
});
console.log('ready');
(async () => {
  let attempts = 0;
  const wins = {};
  while (!stop) {
    let text = '';
    try { text = fs.readFileSync(file, 'utf8'); } catch {}
    const ports = [...text.matchAll(new RegExp('"' + name + '":(\\\\d+)', 'g'))].map((m) => Number(m[1]));
    // Binding settles in process.nextTick: yield, or stdin's end would never be read.
    await new Promise((r) => setImmediate(r));
    for (const p of ports) {
      attempts++;
      const t = await bind(p);
      if (t !== null) (wins[p] ??= []).push(t);
    }
  }
  console.log(JSON.stringify({ attempts, wins }));
})();`;

function hostile(registry: string): {
  ready: Promise<string>;
  stop: () => Promise<{ attempts: number; wins: Record<string, number[]> }>;
} {
  const child = spawn(NODE, ['-e', HOSTILE, join(registry, 'leases.json'), 'WEB'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const ready = line(child, 'ready');
  const done = collect(child);
  return {
    ready,
    stop: async () => {
      child.stdin.end();
      const run = await done;
      const last = run.stdout.trim().split('\n').pop() ?? '';
      return JSON.parse(last) as { attempts: number; wins: Record<string, number[]> };
    },
  };
}

describe('listen() against a process outside the registry', () => {
  it('a hostile binder never gets the port while the server is up; with lease() and a late listen, it does', async () => {
    const r = await testRange(4);
    const range = `${r.lo}-${r.hi}`;
    const registry = join(tempDir(), 'reg');
    mkdirSync(registry);
    const h = hostile(registry);
    await h.ready;
    const l = await listen({
      names: ['WEB'],
      range,
      registry,
      servers: { WEB: createHttpServer((_q, res) => res.end('mine')) },
    });
    const up = now();
    for (let i = 0; i < 20; i++) {
      expect(await get(l.ports.WEB ?? 0)).toBe('mine');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { attempts, wins } = await h.stop();
    await l.close();
    console.log(`hostile binder against listen(): ${attempts} attempts`);
    expect(attempts).toBeGreaterThan(50);
    expect((wins[String(l.ports.WEB)] ?? []).filter((t) => t > up)).toEqual([]);

    // The same hostile binder against lease() and a server that listens 300 ms later.
    const registry2 = join(tempDir(), 'reg');
    mkdirSync(registry2);
    const h2 = hostile(registry2);
    await h2.ready;
    const plain = await lease({ names: ['WEB'], range, registry: registry2 });
    const leased = now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const late = await h2.stop();
    await plain.release();
    const won = (late.wins[String(plain.ports.WEB)] ?? []).filter((t) => t > leased).length;
    console.log(
      `hostile binder after lease(), before a late listen: bound the port ${won} times in 0.3 s`,
    );
    expect(won).toBeGreaterThan(0);
  });

  /**
   * A child calls listen() for WEB (its own http server) and API with every bind() delayed
   * (strace), while a process outside the registry binds and keeps the API port of the first
   * `steal` leases it sees in leases.json.
   */
  async function stolen(steal: number): Promise<{
    out: Record<string, unknown>;
    stolen: number[];
    held: { id: string; ports: Record<string, number> }[];
    after: unknown[];
    code: number | null;
  }> {
    const r = await testRange(8);
    const registry = join(tempDir(), 'reg');
    mkdirSync(registry);
    const thief = spawn(
      NODE,
      [
        '-e',
        `const fs = require('fs'), net = require('net');
        const kept = new Set(); let left = ${steal};
        console.log('ready');
        (function poll() {
          let text = '';
          try { text = fs.readFileSync(process.argv[1], 'utf8'); } catch {}
          for (const m of text.matchAll(/"API":(\\d+)/g)) {
            const p = Number(m[1]);
            if (kept.has(p) || left === 0) continue;
            kept.add(p);
            const s = net.createServer();
            s.once('error', () => kept.delete(p));
            s.listen({ port: p, host: '127.0.0.1', exclusive: true }, () => { left--; console.log('stole ' + p); });
          }
          setImmediate(poll);
        })();`,
        join(registry, 'leases.json'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const stolenPorts: number[] = [];
    let thiefOut = '';
    thief.stdout.on('data', (d: Buffer) => {
      thiefOut += d.toString();
      for (const m of thiefOut.matchAll(/stole (\d+)/g)) {
        if (!stolenPorts.includes(Number(m[1]))) stolenPorts.push(Number(m[1]));
      }
    });
    await line(thief, 'ready');
    const code = `import { createServer } from 'node:http';
      import { listen } from ${JSON.stringify(LIB)};
      const web = createServer((q, res) => res.end('web'));
      let l;
      try {
        l = await listen({ names: ['WEB', 'API'], range: '${r.lo}-${r.hi}', registry: ${JSON.stringify(registry)}, servers: { WEB: web } });
        console.log(JSON.stringify({ id: l.id, ports: l.ports }));
      } catch (e) {
        console.log(JSON.stringify({ error: e.name, code: e.code, message: e.message, webListening: web.listening }));
      }
      // Alive (the lease's owner) until told: then close, and exit whatever is left open.
      process.stdin.on('end', async () => { await l?.close(); process.exit(0); });
      process.stdin.resume();`;
    const child = spawn(
      'strace',
      [
        '-f',
        '-qq',
        '-o',
        '/dev/null',
        '-e',
        'trace=bind',
        '-e',
        'inject=bind:delay_enter=200000',
        NODE,
        '--input-type=module',
        '-e',
        code,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const done = collect(child);
    try {
      const out = JSON.parse(await line(child)) as Record<string, unknown>;
      if (typeof out.id === 'string') {
        // Served on the port it ended with, while the lease is held.
        expect(await get((out.ports as Record<string, number>).WEB ?? 0)).toBe('web');
      }
      // Read while the child (the owner) lives: a lease it failed to release would show.
      const held = (await listed(registry)).map((x) => ({ id: x.id, ports: x.ports }));
      child.stdin.end();
      const end = await done;
      return { out, stolen: stolenPorts, held, after: await listed(registry), code: end.code };
    } finally {
      child.kill('SIGKILL');
      thief.kill('SIGKILL');
    }
  }

  it('a port taken between the lease and the bind: the lease is given back and another taken', async () => {
    const { out, stolen: taken, held, after, code } = await stolen(1);
    expect(code).toBe(0);
    expect(taken).toHaveLength(1);
    const ports = out.ports as Record<string, number>;
    expect(ports.API).not.toBe(taken[0]);
    // Only the lease it ended with was held, and close() released it.
    expect(held).toEqual([{ id: out.id, ports }]);
    expect(after).toEqual([]);
  }, 120_000);

  it('three leases in a row losing a port that way: one clear line, nothing bound, nothing leased', async () => {
    const { out, stolen: taken, held } = await stolen(Infinity);
    expect(taken).toHaveLength(3);
    const [a, b, c] = taken;
    expect(out).toEqual({
      error: 'ListenError',
      code: 'EADDRINUSE',
      message: `listen: cannot listen on 127.0.0.1:${c} (EADDRINUSE: a process outside the registry holds it); 3 leases in a row lost a port that way (${a}, ${b}, ${c}), giving up`,
      webListening: false,
    });
    expect(held).toEqual([]);
  }, 120_000);
});

describe('listen() bad input', () => {
  it('one clear line (UsageError), the registry byte for byte as it was', async () => {
    const r = await testRange(2);
    const registry = join(tempDir(), 'reg');
    const keep = await lease({ names: ['KEEP'], range: `${r.lo}-${r.hi}`, registry });
    const running = createServer();
    await new Promise<void>((resolve) => running.listen(0, '127.0.0.1', resolve));
    const foreign = foreignAddress();
    const hosts =
      'use 127.0.0.1 (the default), 0.0.0.0, ::, ::1 or another IP address of this host';
    const cases: [unknown, string][] = [
      [{ host: 'nope' }, `host: "nope" is not an IP address; ${hosts}`],
      [{ host: 'localhost' }, `host: "localhost" is not an IP address; ${hosts}`],
      [
        { host: foreign },
        `host: cannot listen on ${foreign} (EADDRNOTAVAIL: not an address of this host); ${hosts}`,
      ],
      [{ host: 5 }, 'host: number is not a string; give an IP address, like 127.0.0.1'],
      [{ backlog: 0 }, 'backlog: 0 is not a backlog; give a whole number 1-65535'],
      [{ backlog: '9' }, 'backlog: "9" is not a backlog; give a whole number 1-65535'],
      [{ ipv6Only: true }, `ipv6Only: only with host '::' (host is "127.0.0.1")`],
      [{ servers: { API: createServer() } }, 'servers: "API" is not one of the names (WEB)'],
      [
        { servers: { WEB: {} } },
        'servers.WEB: object is not a net.Server; give one like http.createServer(handler) or net.createServer()',
      ],
      [
        { servers: { WEB: running } },
        'servers.WEB: the server is listening already; give one that is not listening yet',
      ],
      [
        { servers: [] },
        'servers: an array is not an object; give { NAME: server }, like { WEB_PORT: http.createServer(handler) }',
      ],
      [
        { hots: '::' },
        'listen: unknown option "hots"; use names, count, range, contiguous, key, strategy, ttl, owner, wait, registry, allowEphemeral, host, backlog, ipv6Only, servers',
      ],
      // lease()'s options, with lease()'s messages.
      [
        { range: 'abc' },
        'range: "abc" is not a port range; use LO-HI with 1 <= LO <= HI <= 65535, like 20000-29999',
      ],
    ];
    const before = snapshot(registry);
    for (const [options, message] of cases) {
      const err = await listen({
        names: ['WEB'],
        registry,
        ...(options as object),
      }).catch((e: unknown) => e);
      expect(err, JSON.stringify(options)).toBeInstanceOf(UsageError);
      expect((err as Error).message).toBe(message);
    }
    const twice = createServer();
    const err = await listen({
      names: ['WEB', 'API'],
      registry,
      servers: { WEB: twice, API: twice },
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'servers.API: the same server as servers.WEB; give one server per name',
    );
    const none = await listen({ registry }).catch((e: unknown) => e);
    expect((none as Error).message).toBe(
      "listen: no port names given; give names (like ['WEB_PORT']) or count",
    );
    expect(snapshot(registry)).toEqual(before);
    expect(ListenError.prototype).toBeInstanceOf(Error);
    running.close();
    await keep.release();
  });
});

describe('docs/library.md', () => {
  it("listen()'s example serves HTTP as written", async () => {
    const doc = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');
    const block =
      /```js\n(import \{ createServer \} from 'node:http';\nimport \{ listen \} from 'portlease';\n[^]*?)```/.exec(
        doc,
      )?.[1];
    expect(block, 'the listen() example in docs/library.md').toBeDefined();
    // After the imports: the server, listen(), and the line that shows the URL.
    expect(block?.trim().split('\n').slice(3)).toHaveLength(3);
    // Run where `portlease` resolves to this package (as after `npm install portlease`), in
    // this file's test range (the only change) so that test files running at once stay apart.
    const r = await testRange(4);
    const proj = tempDir();
    mkdirSync(join(proj, 'node_modules'));
    symlinkSync(ROOT, join(proj, 'node_modules/portlease'));
    const code = (block ?? '').replace(
      "names: ['WEB_PORT']",
      `names: ['WEB_PORT'], range: '${r.lo}-${r.hi}'`,
    );
    expect(code).toContain(`range: '${r.lo}-${r.hi}'`);
    writeFileSync(join(proj, 'example.mjs'), code);
    const registry = join(tempDir(), 'reg');
    const child = spawn(NODE, ['example.mjs'], {
      cwd: proj,
      env: { ...process.env, PORTLEASE_REGISTRY: registry },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = (await line(child, 'http://')).replace(/^.*?(http:\/\/\S+).*$/, '$1');
      expect(await fetch(url).then((res) => res.text())).toBe('hello\n');
      expect(await listed(registry)).toHaveLength(1);
      child.kill('SIGTERM');
      await waitFor(async () => (await listed(registry)).length === 0, 'the lease to end');
    } finally {
      child.kill('SIGKILL');
      rmSync(join(proj, 'node_modules/portlease'));
    }
  });
});
