/**
 * The CLI end to end (the built dist/cli/index.js): allocate, list, release, gc, exec.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, collect, CLI, listLeases, NODE, parsePorts, tempDir, testRange } from '../helpers.js';

async function rangeArg(size: number): Promise<string> {
  const r = await testRange(size);
  return `${r.lo}-${r.hi}`;
}

describe('allocate, list, release, gc', () => {
  it('prints NAME=PORT lines, lists, and releases by key and by lease id', async () => {
    const range = await rangeArg(10);
    const dir = join(tempDir(), 'reg');
    const sleeper = spawn('sleep', ['60']);
    try {
      const own = ['--registry', dir, '--range', range, '--owner-pid', String(sleeper.pid)];
      const a = await cli(['allocate', 'WEB', 'API', '--key', 'k1', ...own]);
      expect(a.code).toBe(0);
      const ports = parsePorts(a.stdout);
      expect(Object.keys(ports)).toEqual(['WEB', 'API']);
      const b = await cli(['allocate', '--count', '2', '--json', ...own]);
      const bj = JSON.parse(b.stdout) as {
        lease: string;
        ports: Record<string, number>;
        reused: boolean;
      };
      expect(Object.keys(bj.ports)).toEqual(['PORT_1', 'PORT_2']);
      expect(bj.reused).toBe(false);

      const table = await cli(['list', '--registry', dir]);
      expect(table.stdout.split('\n')[0]).toMatch(/^LEASE\s+KEY\s+PORTS\s+OWNER\s+EXPIRES IN$/);
      expect(table.stdout).toContain(`WEB=${ports.WEB} API=${ports.API}`);
      expect(table.stdout).toContain(`pid ${sleeper.pid}`);
      const listed = await listLeases(dir);
      expect(listed.map((l) => l.key)).toEqual(['k1', expect.stringMatching(/^anon-/) as unknown]);
      expect(listed[0]?.ports).toEqual(ports);

      const rel = await cli(['release', '--key', 'k1', '--registry', dir]);
      expect(rel.code).toBe(0);
      expect(rel.stderr).toMatch(/released pl_\w+ \(WEB=\d+ API=\d+\)/);
      const again = await cli(['release', '--key', 'k1', '--registry', dir]);
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(/no live lease with key "k1"; nothing to release/);
      expect((await cli(['release', '--lease', bj.lease, '--registry', dir])).code).toBe(0);
      expect(await listLeases(dir)).toEqual([]);
      expect((await cli(['list', '--registry', dir])).stdout).toMatch(/^no live leases in /);
    } finally {
      sleeper.kill();
    }
  });

  it("owns a lease by the caller's session by default, and gc reclaims it once that ends", async () => {
    const range = await rangeArg(4);
    const dir = join(tempDir(), 'reg');
    // A script in a session of its own calls portlease and exits: the session is then empty.
    const sh = await collect(
      spawn(
        'sh',
        ['-c', `"${NODE}" "${CLI}" allocate A --registry "${dir}" --range ${range}; echo shell=$$`],
        { detached: true, env: { ...process.env, GITHUB_ACTIONS: '' } },
      ),
    );
    const shellPid = Number(/shell=(\d+)/.exec(sh.stdout)?.[1]);
    const raw = JSON.parse(readFileSync(join(dir, 'leases.json'), 'utf8')) as {
      leases: { owner: { kind: string; sid: number } }[];
    };
    expect(raw.leases[0]?.owner).toMatchObject({ kind: 'session', sid: shellPid });
    expect(await listLeases(dir)).toEqual([]); // not live any more
    const dry = await cli(['gc', '--dry-run', '--registry', dir]);
    expect(dry.stdout).toMatch(
      /would remove pl_\w+ key "anon-\w+" \(\d+\): owner session \d+ is gone/,
    );
    expect(readFileSync(join(dir, 'leases.json'), 'utf8')).toContain(`"sid":${shellPid}`);
    const gc = await cli(['gc', '--registry', dir]);
    expect(gc.stdout).toMatch(/1 lease removed, 0 live/);
    expect(readFileSync(join(dir, 'leases.json'), 'utf8')).not.toContain(`"sid":${shellPid}`);
  });

  it('fails with exit 1 and names the holders when the range is full', async () => {
    const range = await rangeArg(1);
    const dir = join(tempDir(), 'reg');
    const sleeper = spawn('sleep', ['60']);
    try {
      await cli([
        'allocate',
        'A',
        '--key',
        'holder',
        '--registry',
        dir,
        '--range',
        range,
        '--owner-pid',
        String(sleeper.pid),
      ]);
      const r = await cli(['allocate', 'B', '--registry', dir, '--range', range]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(
        /^portlease: range \d+ has no 1 free port; held by 1 lease: pl_\w+ key "holder"/,
      );
      // --wait returns as soon as the holder releases.
      const waiting = cli(['allocate', 'B', '--wait', '2m', '--registry', dir, '--range', range]);
      await new Promise((r) => setTimeout(r, 500));
      await cli(['release', '--key', 'holder', '--registry', dir]);
      const w = await waiting;
      expect(w.code).toBe(0);
      expect(w.stdout.trim()).toBe(`B=${range.split('-')[0] ?? ''}`);
    } finally {
      sleeper.kill();
    }
  });
});

describe('exec', () => {
  it('runs the command with NAME=PORT, releases on exit, and exits with its status', async () => {
    const range = await rangeArg(4);
    const dir = join(tempDir(), 'reg');
    const r = await cli([
      'exec',
      'WEB',
      'DB',
      '--registry',
      dir,
      '--range',
      range,
      '--',
      'sh',
      '-c',
      'echo "WEB=$WEB DB=$DB LEASE=$PORTLEASE_LEASE"; "$0" "$1" list --registry "$2" --json; exit 7',
      NODE,
      CLI,
      dir,
    ]);
    expect(r.code).toBe(7);
    const m = /WEB=(\d+) DB=(\d+) LEASE=(pl_\w+)/.exec(r.stdout);
    expect(m).not.toBeNull();
    const during = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as { lease: string }[];
    expect(during.map((l) => l.lease)).toEqual([m?.[3]]);
    expect(await listLeases(dir)).toEqual([]);
  });

  it('passes SIGTERM on to the command and releases', async () => {
    const range = await rangeArg(2);
    const dir = join(tempDir(), 'reg');
    const child = spawn(
      NODE,
      [
        CLI,
        'exec',
        'A',
        '--registry',
        dir,
        '--range',
        range,
        '--',
        'sh',
        '-c',
        'echo started; exec sleep 60',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const done = collect(child);
    await new Promise<void>((resolve) =>
      child.stdout.once('data', () => {
        resolve();
      }),
    );
    expect((await listLeases(dir)).length).toBe(1);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(143); // 128 + SIGTERM, as the command died of it
    expect(await listLeases(dir)).toEqual([]);
  });

  it('says so when the command does not exist (127), and releases', async () => {
    const range = await rangeArg(2);
    const dir = join(tempDir(), 'reg');
    const r = await cli([
      'exec',
      'A',
      '--registry',
      dir,
      '--range',
      range,
      '--',
      'no-such-command-xyz',
    ]);
    expect(r.code).toBe(127);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      'portlease: exec: cannot run "no-such-command-xyz": command not found',
    );
    expect(await listLeases(dir)).toEqual([]);
  });
});
