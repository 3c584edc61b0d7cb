/**
 * `portlease exec` supervises its command's whole tree (docs/lifetimes.md): the lease lives
 * while any process of the tree lives, even after exec is SIGKILLed; on exit or signal the
 * whole tree (process group, session, PORTLEASE_LEASE carriers) is ended before the lease is
 * released; the command's status is exec's. Real processes, real sockets.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { cli, CLI, collect, NODE, tempDir, testRange, type Run } from '../helpers.js';
import {
  cookieCarriers,
  expectFree,
  expectHeld,
  listJson,
  running,
  until,
  userEnv,
} from './shell.js';

async function oneRange(): Promise<string> {
  const r = await testRange(1);
  return `${r.lo}-${r.hi}`;
}

interface Exec {
  child: ChildProcessWithoutNullStreams;
  done: Promise<Run>;
  /** The next stdout or stderr line starting with `prefix`. */
  line(prefix: string): Promise<string>;
}

/** `exec NAME --range RANGE [--grace G] -- sh -c SCRIPT` in `dir`. */
function startSh(dir: string, name: string, range: string, script: string, grace?: string): Exec {
  const graceArgs = grace === undefined ? [] : ['--grace', grace];
  return startExec([name, '--range', range, ...graceArgs, '--', 'sh', '-c', script], dir);
}

/** Start `portlease exec ARGS` as a user's shell would (not detached: exec is in our group). */
function startExec(args: string[], dir: string): Exec {
  const child = spawn(NODE, [CLI, 'exec', '--registry', dir, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: userEnv(dir, { NODE }),
  });
  const seen: string[] = [];
  const waiters: { prefix: string; resolve: (l: string) => void }[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (l) => {
      seen.push(l);
      for (const w of [...waiters]) {
        if (l.startsWith(w.prefix)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    });
  }
  // 'exit', not 'close': after a SIGKILL of exec its command still holds the pipes.
  const done = new Promise<Run>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal, stdout: '', stderr: seen.join('\n') });
    });
  });
  return {
    child,
    done,
    line: (prefix) =>
      new Promise<string>((resolve, reject) => {
        const hit = seen.find((l) => l.startsWith(prefix));
        if (hit !== undefined) {
          resolve(hit);
          return;
        }
        waiters.push({ prefix, resolve });
        // Rejected once nothing can print any more (the pipes close with the last holder).
        child.once('close', () => {
          reject(new Error(`exec's output ended before ${prefix}: ${seen.join(' | ')}`));
        });
      }),
  };
}

const SERVER = `require("node:net").createServer().listen(+process.env.P, () => console.log("listening " + process.pid))`;

describe('exec killed with SIGKILL', () => {
  it("keeps the lease while the command's session lives (cookie removed), and frees it after", async () => {
    const range = await oneRange();
    const dir = join(tempDir(), 'reg');
    // `env -u` drops the cookie: only the command's session keeps the lease alive.
    const ex = startExec(
      [
        'P',
        '--range',
        range,
        '--',
        'env',
        '-u',
        'PORTLEASE_LEASE',
        'sh',
        '-c',
        `sleep 1; exec "$NODE" -e '${SERVER}'`,
      ],
      dir,
    );
    expect(await ex.line('portlease: exec: ')).toMatch(
      new RegExp(`^portlease: exec: P=${range.split('-')[0] ?? ''} \\(lease pl_\\w+\\)$`),
    );
    await until(async () => (await listJson(dir))[0]?.owner?.sid != null);
    ex.child.kill('SIGKILL');
    await ex.done;
    await expectHeld(range, dir); // the command still runs, before it binds
    const server = Number((await ex.line('listening ')).split(' ')[1]); // bound: no EADDRINUSE
    await expectHeld(range, dir);
    process.kill(server, 'SIGTERM');
    await until(() => !running(server));
    await expectFree(range, dir);
  });

  it('keeps the lease while a setsid stray carries PORTLEASE_LEASE, and frees it after', async () => {
    const range = await oneRange();
    const dir = join(tempDir(), 'reg');
    // The command leaves at once; its server has moved to a session of its own (like
    // `pg_ctl start`), so only the environment cookie ties it to the lease.
    const ex = startSh(
      dir,
      'P',
      range,
      `setsid "$NODE" -e '${SERVER}; setTimeout(() => {}, 1e9)' & sleep 60`,
    );
    const server = Number((await ex.line('listening ')).split(' ')[1]);
    await until(async () => (await listJson(dir))[0]?.owner?.sid != null);
    const [lease] = await listJson(dir);
    const sid = Number(lease?.owner?.sid);
    expect(cookieCarriers(lease?.lease ?? '')).toContain(server);
    ex.child.kill('SIGKILL');
    await ex.done;
    // The command's own session ends too (sh and its sleep): only the stray is left.
    process.kill(-sid, 'SIGKILL');
    await until(() => !running(sid));
    await expectHeld(range, dir);
    expect(running(server)).toBe(true);
    process.kill(server, 'SIGTERM');
    await until(() => !running(server));
    await expectFree(range, dir);
  });
});

describe('exec ends the whole tree', () => {
  it('SIGTERM: the command, its background job and a setsid stray are all gone, then the lease', async () => {
    const range = await oneRange();
    const dir = join(tempDir(), 'reg');
    const ex = startSh(
      dir,
      'A',
      range,
      // bg: in the command's process group; grp: in its session but a group of its own,
      // without the cookie; stray: a session of its own, found by the cookie alone.
      `sleep 300 & echo "bg $!"; env -u PORTLEASE_LEASE /usr/bin/python3 -c 'import os; os.setpgid(0, 0); os.execvp("sleep", ["sleep", "304"])' & echo "grp $!"; setsid sleep 301 & echo "stray $!"; wait`,
    );
    const bg = Number((await ex.line('bg ')).split(' ')[1]);
    const grp = Number((await ex.line('grp ')).split(' ')[1]);
    const stray = Number((await ex.line('stray ')).split(' ')[1]);
    const [lease] = await listJson(dir);
    const id = lease?.lease ?? '';
    expect(cookieCarriers(id).sort()).toEqual(expect.arrayContaining([bg, stray]));
    expect(lease?.owner).toMatchObject({ kind: 'tree', pid: ex.child.pid });
    ex.child.kill('SIGTERM');
    const r = await ex.done;
    expect(r.code).toBe(143); // sh died of SIGTERM
    expect(running(bg)).toBe(false);
    expect(running(grp)).toBe(false);
    expect(running(stray)).toBe(false);
    expect(cookieCarriers(id)).toEqual([]);
    expect(await listJson(dir)).toEqual([]);
    expect(readFileSync(join(dir, 'leases.json'), 'utf8')).not.toContain(id);
  });

  it('what the command leaves behind when it exits by itself gets SIGTERM; exec keeps its status', async () => {
    const range = await oneRange();
    const dir = join(tempDir(), 'reg');
    const ex = startSh(dir, 'A', range, 'setsid sleep 302 & echo "stray $!"; exit 4');
    const stray = Number((await ex.line('stray ')).split(' ')[1]);
    const r = await ex.done;
    expect(r.code).toBe(4);
    expect(running(stray)).toBe(false);
    expect(await listJson(dir)).toEqual([]);
  });

  it('a tree that ignores SIGTERM is SIGKILLed after --grace', async () => {
    const range = await oneRange();
    const dir = join(tempDir(), 'reg');
    const ex = startSh(
      dir,
      'A',
      range,
      `trap '' TERM; setsid sleep 303 & echo "stray $!"; sleep 300`,
      '1s',
    );
    const stray = Number((await ex.line('stray ')).split(' ')[1]);
    ex.child.kill('SIGTERM');
    const r = await ex.done;
    expect(r.code).toBe(137); // 128 + SIGKILL
    expect(running(stray)).toBe(false);
    expect(await listJson(dir)).toEqual([]);
  });

  it('SIGINT (a Ctrl-C) is passed on once, to the whole tree', async () => {
    const range = await oneRange();
    const dir = join(tempDir(), 'reg');
    const ex = startSh(
      dir,
      'A',
      range,
      // The background sleep ignores SIGINT (as async commands of sh do): SIGKILL after 1s.
      `trap 'echo got-int; exit 9' INT; echo ready; sleep 300 & wait`,
      '1s',
    );
    await ex.line('ready');
    ex.child.kill('SIGINT');
    const r = await ex.done;
    expect(r.stderr.split('\n').filter((l) => l === 'got-int')).toHaveLength(1);
    expect(r.code).toBe(9);
    expect(await listJson(dir)).toEqual([]);
  });
});

describe('exec exit status', () => {
  it.each([
    ['exit 3', 3],
    ['kill -USR1 $$', 128 + 10],
    ['kill -KILL $$', 128 + 9],
    ['true', 0],
  ])('sh -c %j exits %i', async (script, status) => {
    const range = await oneRange();
    const dir = join(tempDir(), 'reg');
    const r = await cli(
      ['exec', 'A', '--range', range, '--registry', dir, '--', 'sh', '-c', script],
      {
        env: userEnv(dir),
      },
    );
    expect(r.code).toBe(status);
    expect(r.stderr).toMatch(/^portlease: exec: A=\d+ \(lease pl_\w+\)\n$/);
    expect(await listJson(dir)).toEqual([]);
  });

  it('a command that cannot run: 127, and the lease released', async () => {
    const range = await oneRange();
    const dir = join(tempDir(), 'reg');
    const r = await cli(
      ['exec', 'A', '--range', range, '--registry', dir, '--', 'no-such-command-xyz'],
      {
        env: userEnv(dir),
      },
    );
    expect(r.code).toBe(127);
    expect(r.stderr).toContain(
      'portlease: exec: cannot run "no-such-command-xyz": command not found',
    );
    expect(await listJson(dir)).toEqual([]);
  });
});

describe('exec keeps its lease while it runs', () => {
  it('renews the default TTL while the command runs; an explicit --ttl is a hard bound', async () => {
    const range = await testRange(2);
    const dir = join(tempDir(), 'reg');
    const env = userEnv(dir, { PORTLEASE_HEARTBEAT_MS: '1000' });
    const expiries = (args: string[]): Promise<string> =>
      new Promise((resolve) => {
        const c = spawn(
          NODE,
          [
            CLI,
            'exec',
            'A',
            '--range',
            `${range.lo}-${range.hi}`,
            '--registry',
            dir,
            ...args,
            '--',
            'sh',
            '-c',
            'for i in 1 2 3; do "$0" "$1" list --json --registry "$2" | grep expires; sleep 1.2; done',
            NODE,
            CLI,
            dir,
          ],
          { env, stdio: ['ignore', 'pipe', 'ignore'] },
        );
        void collect(c).then((r) => {
          resolve(r.stdout);
        });
      });
    const distinct = (out: string): string[] => [
      ...new Set(
        out
          .trim()
          .split('\n')
          .map((l) => l.trim()),
      ),
    ];
    const renewed = distinct(await expiries([]));
    expect(renewed.length).toBeGreaterThan(1); // a later expiry each second
    const fixed = distinct(await expiries(['--ttl', '1h']));
    expect(fixed, fixed.join(' | ')).toHaveLength(1);
    expect(await listJson(dir)).toEqual([]);
  });
});

describe('exec --write and --key', () => {
  it('--write FILE.env and FILE.json, written before the command starts', async () => {
    const range = await testRange(4);
    const rr = `${range.lo}-${range.hi}`;
    const dir = join(tempDir(), 'reg');
    const w = tempDir();
    const env = await cli(
      [
        'exec',
        'WEB',
        'DB',
        '--range',
        rr,
        '--registry',
        dir,
        '--write',
        join(w, 'ports.env'),
        '--',
        'sh',
        '-c',
        'cat "$0"',
        join(w, 'ports.env'),
      ],
      { env: userEnv(dir) },
    );
    expect(env.code).toBe(0);
    expect(env.stdout).toMatch(/^WEB=\d+\nDB=\d+\n$/);
    const json = await cli(
      [
        'exec',
        'WEB',
        '--range',
        rr,
        '--registry',
        dir,
        '--write',
        join(w, 'ports.json'),
        '--',
        'cat',
        join(w, 'ports.json'),
      ],
      { env: userEnv(dir) },
    );
    expect(Object.keys(JSON.parse(json.stdout) as object)).toEqual(['WEB']);
    const bad = await cli(
      ['exec', 'WEB', '--registry', dir, '--write', '/no/such/dir/p.env', '--', 'true'],
      {
        env: userEnv(dir),
      },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(
      /^portlease: --write: directory \/no\/such\/dir does not exist/,
    );
  });

  it("exec --key on another owner's live lease uses its ports and leaves it as it is", async () => {
    const range = await testRange(4);
    const rr = `${range.lo}-${range.hi}`;
    const dir = join(tempDir(), 'reg');
    const holder = spawn('sleep', ['120']);
    try {
      const a = await cli([
        'allocate',
        'WEB',
        '--key',
        'K',
        '--range',
        rr,
        '--registry',
        dir,
        '--owner-pid',
        String(holder.pid),
        '--json',
      ]);
      const before = JSON.parse(a.stdout) as {
        lease: string;
        ports: { WEB: number };
        owner: unknown;
      };
      const r = await cli(
        [
          'exec',
          'WEB',
          '--key',
          'K',
          '--registry',
          dir,
          '--',
          'sh',
          '-c',
          'echo "WEB=$WEB LEASE=$PORTLEASE_LEASE"',
        ],
        {
          env: userEnv(dir),
        },
      );
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(`WEB=${before.ports.WEB} LEASE=${before.lease}`);
      expect(r.stderr).toContain(
        `(live lease ${before.lease} of key "K", owner pid ${holder.pid}; left as it is)`,
      );
      const [after] = await listJson(dir);
      expect(after?.lease).toBe(before.lease);
      expect(after?.owner).toEqual(before.owner);
    } finally {
      holder.kill();
      await collect(holder);
    }
  });
});
