/**
 * `portlease portserver` and `exec --portserver` speak portpicker's protocol: Debian's
 * python3-portpicker is the client (its pick_unused_port(), unmodified), the server is the
 * built CLI, the sockets and processes are real. Every port handed out is a lease owned by
 * the asking pid; bogus requests get an empty reply and leave the registry as it was.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import {
  cli,
  CLI,
  collect,
  lines,
  listLeases,
  NODE,
  snapshot,
  tempDir,
  testRange,
  type Run,
  deadPid,
} from '../helpers.js';
import { describeWith, portpicker } from '../prerequisites.js';
import { it } from 'vitest';

const PY = '/usr/bin/python3';

interface Server {
  child: ChildProcessWithoutNullStreams;
  address: string;
  pid: number;
  stderr: () => string;
  /** SIGTERM, and its exit. */
  stop: () => Promise<Run>;
}

/** `portlease portserver ARGS`, resolved once its ready line is out. */
async function startServer(args: string[]): Promise<Server> {
  const child = spawn(NODE, [CLI, 'portserver', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = collect(child);
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void done.then((r) => {
      reject(new Error(`portserver exited (${String(r.code)}): ${stderr}`));
    });
  });
  const ready = JSON.parse(first) as { address: string; pid: number };
  return {
    child,
    address: ready.address,
    pid: ready.pid,
    stderr: () => stderr,
    stop: () => {
      child.kill('SIGTERM');
      return done;
    },
  };
}

/** A fresh abstract address for one test's server. */
function address(): string {
  return `@portlease-test-${randomBytes(6).toString('hex')}`;
}

/** Send `data` raw to a portserver; the whole reply once it closes (with `silent`, send nothing). */
function ask(addr: string, data: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const path = addr.startsWith('@') ? `\0${addr.slice(1)}` : addr;
    const sock = createConnection(path);
    let reply = '';
    sock.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    sock.on('error', reject);
    sock.on('close', () => {
      resolve(reply);
    });
    sock.on('connect', () => {
      if (data.length > 0) sock.write(data);
    });
  });
}

/**
 * A Python process that picks `n` ports with portpicker (PORTSERVER_ADDRESS in its
 * environment), prints `PID port...`, binds them all when told (a line on stdin) and prints
 * `bound` or `error ERRNO`, and exits at the next line or end of stdin.
 */
const CLIENT = `
import os, socket, sys, portpicker
ports = [portpicker.pick_unused_port() for _ in range(int(sys.argv[1]))]
print(os.getpid(), *ports, flush=True)
sys.stdin.readline()
socks = []
try:
    for p in ports:
        s = socket.socket()
        s.bind(("0.0.0.0", p))
        s.listen()
        socks.append(s)
    print("bound", flush=True)
except OSError as e:
    print("error", e.errno, flush=True)
sys.stdin.readline()
`;

interface Client {
  child: ChildProcessWithoutNullStreams;
  line: () => Promise<string>;
  done: Promise<Run>;
}

function startClient(addr: string, n = 1): Client {
  const child = spawn(PY, ['-c', CLIENT, String(n)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PORTSERVER_ADDRESS: addr },
  });
  const queue: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else queue.push(l);
  });
  return {
    child,
    done: collect(child),
    line: () =>
      new Promise<string>((resolve) => {
        const l = queue.shift();
        if (l !== undefined) resolve(l);
        else waiters.push(resolve);
      }),
  };
}

function inRange(port: number, r: { lo: number; hi: number }): boolean {
  return port >= r.lo && port <= r.hi;
}

describeWith(portpicker(), 'portlease portserver with portpicker as the client', () => {
  it('8 clients that all pick before any binds get 8 distinct ports of the range: no collision', async () => {
    const range = await testRange(12);
    const dir = join(tempDir(), 'reg');
    const server = await startServer([
      '--address',
      address(),
      '--registry',
      dir,
      '--range',
      `${range.lo}-${range.hi}`,
    ]);
    try {
      const clients = Array.from({ length: 8 }, () => startClient(server.address));
      const picked = await Promise.all(clients.map((c) => c.line()));
      const ports = picked.map((l) => Number(l.split(' ')[1]));
      expect(new Set(ports).size).toBe(8);
      for (const p of ports) expect(inRange(p, range), `port ${p}`).toBe(true);
      for (const c of clients) c.child.stdin.write('bind\n');
      const bound = await Promise.all(clients.map((c) => c.line()));
      expect(bound).toEqual(Array(8).fill('bound'));
      for (const c of clients) c.child.stdin.end();
      const runs = await Promise.all(clients.map((c) => c.done));
      for (const r of runs) {
        expect(r.code).toBe(0);
        expect(r.stderr).toBe(''); // no "Portserver failed", no fallback
      }
    } finally {
      await server.stop();
    }
    expect(server.stderr()).toBe('');
  });

  it('each port is a lease owned by the pid that asked, labelled as the portserver’s, reclaimed after it exits', async () => {
    const range = await testRange(8);
    const dir = join(tempDir(), 'reg');
    const server = await startServer([
      '--address',
      address(),
      '--registry',
      dir,
      '--range',
      `${range.lo}-${range.hi}`,
    ]);
    try {
      const clients = [startClient(server.address, 2), startClient(server.address, 1)];
      const picked = (await Promise.all(clients.map((c) => c.line()))).map((l) =>
        l.split(' ').map(Number),
      );
      const leases = await listLeases(dir);
      expect(leases).toHaveLength(3);
      for (const [pid, ...ports] of picked) {
        const mine = leases.filter((l) => l.owner?.pid === pid);
        expect(mine.map((l) => l.ports.PORT).sort()).toEqual([...ports].sort());
        for (const l of mine) {
          expect(l.owner?.kind).toBe('process');
          expect(l.labels.source).toBe('portserver');
          expect(l.key).toMatch(new RegExp(`^portserver:pid:${String(pid)}:`));
        }
      }
      // The text listing says where they came from too.
      const text = await cli(['list', '--registry', dir]);
      expect(lines(text.stdout).filter((l) => l.includes('portserver:pid:'))).toHaveLength(3);

      // The server going away changes nothing: the leases are the clients', not its own.
      await server.stop();
      expect(await listLeases(dir)).toHaveLength(3);

      for (const c of clients) c.child.stdin.end();
      await Promise.all(clients.map((c) => c.done));
      expect(await listLeases(dir)).toEqual([]);
      const gc = await cli(['gc', '--registry', dir]);
      expect(gc.stdout).toMatch(/^3 leases removed, 0 live$/m);
    } finally {
      await server.stop();
    }
  });

  it('bogus requests get an empty reply and leave the registry byte for byte as it was', async () => {
    const range = await testRange(4);
    const dir = join(tempDir(), 'reg');
    // A registry with a lease in it, so there is something to keep.
    const held = await cli([
      'allocate',
      'HELD',
      '--registry',
      dir,
      '--range',
      `${range.lo}-${range.hi}`,
      '--owner',
      'none',
      '--ttl',
      '1h',
    ]);
    expect(held.code).toBe(0);
    const server = await startServer([
      '--address',
      address(),
      '--registry',
      dir,
      '--range',
      `${range.lo}-${range.hi}`,
    ]);
    const before = snapshot(dir);
    try {
      const gone = await deadPid();
      const bogus: [string, string | Buffer][] = [
        ['not a pid', 'hello\n'],
        ['pid 1', '1\n'],
        ['pid 0', '0\n'],
        ['negative', '-5\n'],
        ['a pid that does not exist', `${gone}\n`],
        ['the server itself', `${server.pid}\n`],
        ['100 bytes of garbage', randomBytes(100)],
        ['a line over the bound', '1'.repeat(40) + '\n'],
        ['pid then more', `${process.pid}\nxyz`],
        ['whitespace around', ` ${process.pid}\n`],
        ['nothing for 5 seconds', ''],
      ];
      const replies = await Promise.all(bogus.map(([, data]) => ask(server.address, data)));
      expect(Object.fromEntries(bogus.map(([what], i) => [what, replies[i]]))).toEqual(
        Object.fromEntries(bogus.map(([what]) => [what, ''])),
      );
      expect(snapshot(dir)).toEqual(before);
      // portpicker itself, asking for pid 1 (a client reparented to init): falls back.
      const r = await collect(
        spawn(
          PY,
          [
            '-c',
            'import portpicker; print(portpicker.get_port_from_port_server(portpicker.os.environ["A"], pid=1))',
          ],
          {
            env: { ...process.env, A: server.address },
          },
        ),
      );
      expect(r.stdout.trim()).toBe('None');
      expect(r.stderr).toMatch(/Portserver failed to find a port/);
      expect(snapshot(dir)).toEqual(before);
    } finally {
      await server.stop();
    }
    expect(server.stderr()).toBe(''); // bogus requests are not worth a warning
  }, 20_000);

  it('range full: an empty reply, and one warning line on stderr', async () => {
    const range = await testRange(1);
    const dir = join(tempDir(), 'reg');
    const spec = `${range.lo}-${range.hi}`;
    const held = await cli([
      'allocate',
      'HELD',
      '--registry',
      dir,
      '--range',
      spec,
      '--owner',
      'none',
      '--ttl',
      '1h',
    ]);
    expect(held.code).toBe(0);
    const server = await startServer(['--address', address(), '--registry', dir, '--range', spec]);
    // The lock's files move on (the allocation took the lock); the leases stay as they were.
    const before = snapshot(dir)['leases.json'];
    let stopped: Run;
    try {
      expect(await ask(server.address, `${process.pid}\n`)).toBe('');
      expect(snapshot(dir)['leases.json']).toBe(before);
    } finally {
      stopped = await server.stop();
    }
    expect(stopped.code).toBe(0);
    const warnings = lines(server.stderr());
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(
        `^portlease: warning: portserver: no port for pid ${String(process.pid)}: range ${String(range.lo)} has no 1 free port; held by 1 lease: .*; answered nothing`,
      ),
    );
  });

  it('SIGTERM: stops, removes its path socket, exits 0', async () => {
    const dir = tempDir();
    const sock = join(dir, 'ps.sock');
    const server = await startServer(['--address', sock, '--registry', join(dir, 'reg')]);
    expect(server.address).toBe(sock);
    expect(existsSync(sock)).toBe(true);
    const r = await server.stop();
    expect(r.code).toBe(0);
    expect(r.signal).toBe(null);
    expect(existsSync(sock)).toBe(false);
  });

  it('bad flags: one line naming the flag, exit 2, registry untouched', async () => {
    const dir = join(tempDir(), 'reg');
    const cases: [string[], RegExp][] = [
      [['portserver', '--bogus'], /^portlease: portserver: unknown option --bogus/],
      [['portserver', '--range', '9-5'], /^portlease: --range: /],
      [['portserver', '--address', ''], /^portlease: --address: empty address/],
      [['portserver', '--address', '@'], /^portlease: --address: empty address/],
      [
        ['portserver', '--address', `/tmp/${'x'.repeat(120)}`],
        /^portlease: --address: .* longer than/,
      ],
      [['portserver', 'extra'], /^portlease: portserver: unexpected argument "extra"/],
      [
        ['exec', '--portserver', '--key', 'k', '--', 'true'],
        /^portlease: --key: shapes exec's own lease/,
      ],
      [['exec', '--', 'true'], /^portlease: exec: no port names given; .*--portserver/],
    ];
    for (const [args, message] of cases) {
      const r = await cli([...args, '--registry', dir]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(lines(r.stderr), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(existsSync(dir), args.join(' ')).toBe(false);
    }
  });
});

/** exec --portserver's command: picks N ports, binds each, and shows what the registry holds. */
const EXEC_CLIENT = `
import json, os, socket, subprocess, sys, portpicker
ports = [portpicker.pick_unused_port() for _ in range(int(sys.argv[1]))]
socks = []
for p in ports:
    s = socket.socket(); s.bind(("0.0.0.0", p)); s.listen(); socks.append(s)
listed = subprocess.run([os.environ["NODE"], os.environ["CLI"], "list", "--json"],
                        capture_output=True, text=True, check=True).stdout
print(json.dumps({"pid": os.getpid(), "address": os.environ.get("PORTSERVER_ADDRESS"),
                  "ports": ports, "own": os.environ.get("P"), "leases": json.loads(listed)}))
`;

interface ExecOut {
  pid: number;
  address: string | null;
  ports: number[];
  own: string | null;
  leases: {
    owner: { pid?: number } | null;
    ports: Record<string, number>;
    labels: Record<string, string>;
  }[];
}

describeWith(portpicker(), 'portlease exec --portserver', () => {
  const run = async (
    names: string[],
    n: number,
    range: string,
    dir: string,
  ): Promise<{ run: Run; out: ExecOut }> => {
    const r = await cli(
      ['exec', '--portserver', ...names, '--range', range, '--', PY, '-c', EXEC_CLIENT, String(n)],
      { env: { ...process.env, NODE, CLI, PORTLEASE_REGISTRY: dir } },
    );
    expect(r.code, r.stderr).toBe(0);
    return { run: r, out: JSON.parse(r.stdout) as ExecOut };
  };

  it('with no NAMEs: PORTSERVER_ADDRESS set, each pick a lease of the command’s, all gone after', async () => {
    const range = await testRange(6);
    const dir = join(tempDir(), 'reg');
    mkdirSync(dir);
    const { run: r, out } = await run([], 4, `${range.lo}-${range.hi}`, dir);
    expect(out.address).toMatch(/^@portlease-exec-/);
    expect(new Set(out.ports).size).toBe(4);
    for (const p of out.ports) expect(inRange(p, range), `port ${p}`).toBe(true);
    // During the command: exactly its four picks, each owned by the Python process.
    expect(out.leases).toHaveLength(4);
    for (const l of out.leases) {
      expect(l.owner?.pid).toBe(out.pid);
      expect(l.labels.source).toBe('portserver');
    }
    expect(out.leases.map((l) => l.ports.PORT).sort()).toEqual([...out.ports].sort());
    expect(r.stderr).toMatch(
      /^portlease: exec: portserver on @portlease-exec-\S+ \(no ports of its own\)$/m,
    );
    // After: the portserver is gone, and so are its leases (released, not just dead).
    await expect(ask(out.address ?? '', `${process.pid}\n`)).rejects.toThrow(/ECONNREFUSED/);
    expect(await listLeases(dir)).toEqual([]);
    const gc = await cli(['gc', '--dry-run', '--registry', dir]);
    expect(gc.stdout).toMatch(/^0 leases would be removed, 0 live$/m);
  });

  it('with a NAME: exec’s own port and the picks are distinct leases; the address is named after exec’s lease', async () => {
    const range = await testRange(6);
    const dir = join(tempDir(), 'reg');
    const { run: r, out } = await run(['P'], 2, `${range.lo}-${range.hi}`, dir);
    const own = Number(out.own);
    const lease = /\(lease (pl_\w+)\)/.exec(r.stderr)?.[1];
    expect(out.address).toBe(`@portlease-${lease ?? '?'}`);
    expect(new Set([own, ...out.ports]).size).toBe(3);
    for (const p of [own, ...out.ports]) expect(inRange(p, range), `port ${p}`).toBe(true);
    expect(out.leases).toHaveLength(3);
    expect(out.leases.filter((l) => l.owner?.pid === out.pid)).toHaveLength(2);
    await expect(ask(out.address ?? '', `${process.pid}\n`)).rejects.toThrow(/ECONNREFUSED/);
    expect(await listLeases(dir)).toEqual([]);
  });
});
