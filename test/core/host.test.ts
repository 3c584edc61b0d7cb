/**
 * The registry on a real host: two Unix users sharing one registry, and a full disk.
 * Both need root (useradd, runuser, mount), as CI has: without it they fail under CI and
 * are skipped, saying so, elsewhere (test/prerequisites.ts).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cli, collect, CLI, NODE, parsePorts, snapshot, tempDir, testRange } from '../helpers.js';
import { describeWith, root } from '../prerequisites.js';

const USER = 'portlease-t2';

function ensureUser(): void {
  if (spawnSync('id', ['-u', USER]).status !== 0) {
    execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
  }
}

/** Run the CLI as the second user (`detached`: in a session of its own, which ends with it). */
function asUser(
  args: string[],
  opts: { detached?: boolean } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return collect(
    spawn('runuser', ['-u', USER, '--', NODE, CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.detached === true,
    }),
  );
}

describeWith(root(), 'two Unix users share one registry', () => {
  it("both allocate with no permission error, and each reclaims the other's dead leases", async () => {
    ensureUser();
    const r = await testRange(8);
    const range = `${r.lo}-${r.hi}`;
    const parent = tempDir();
    chmodSync(parent, 0o1777); // like /tmp: anyone may create the registry in it
    const dir = join(parent, 'reg');

    // The second user creates the registry; its lease's owner (the session runuser runs
    // in) ends at once.
    const u1 = await asUser(
      ['allocate', 'A', '--key', 'user2', '--registry', dir, '--range', range],
      { detached: true },
    );
    expect(u1.stderr).toBe('');
    expect(u1.code).toBe(0);
    const st = statSync(dir);
    expect(st.mode & 0o7777).toBe(0o777); // no sticky bit, whatever the umask
    expect(st.uid).not.toBe(0);

    // root works in it, and reclaims the second user's dead lease.
    const sleeper = spawn('sleep', ['60']);
    try {
      const mine = await cli([
        'allocate',
        'B',
        '--key',
        'root-live',
        '--registry',
        dir,
        '--range',
        range,
        '--owner-pid',
        String(sleeper.pid),
      ]);
      expect(mine.code).toBe(0);
      const gc = await cli(['gc', '--registry', dir]);
      expect(gc.stdout).toMatch(/removed pl_\w+ key "user2"/);
      expect(gc.stdout).toMatch(/1 lease removed, 1 live/);

      // root leaves a dead lease; the second user reclaims it and replaces root's files.
      const brief = spawn('sleep', ['60']);
      const dead = await cli([
        'allocate',
        'C',
        '--key',
        'root-dead',
        '--registry',
        dir,
        '--range',
        range,
        '--owner-pid',
        String(brief.pid),
      ]);
      expect(dead.code).toBe(0);
      brief.kill('SIGKILL');
      await collect(brief);
      const gc2 = await asUser(['gc', '--registry', dir]);
      // This user may not reach the Docker socket (orphan containers are then left alone,
      // with a warning); the registry itself must raise no error.
      expect(
        gc2.stderr.split('\n').filter((l) => l && !/warning: (docker|podman):/.test(l)),
      ).toEqual([]);
      expect(gc2.stdout).toMatch(/removed pl_\w+ key "root-dead"/);
      expect(gc2.stdout).toMatch(/1 live/);
      const again = await asUser(['allocate', 'D', '--registry', dir, '--range', range, '--json']);
      expect(again.code).toBe(0);
      const list = await asUser(['list', '--registry', dir, '--json']);
      const live = (JSON.parse(list.stdout) as { key: string }[]).map((l) => l.key);
      expect(live).toContain('root-live');
      // Every file the registry keeps is readable by both users.
      for (const name of readdirSync(dir)) {
        if (name === 'lock' || name === 'quarantine') continue;
        expect(statSync(join(dir, name)).mode & 0o066).toBe(0o066);
      }
    } finally {
      sleeper.kill();
    }
  });
});

describeWith(root(), 'a full disk', () => {
  const mnt = join(tempDir(), 'tiny');
  let mounted = false;
  afterAll(() => {
    if (mounted) spawnSync('umount', ['-l', mnt]);
  });

  it('fails a write with a clear error and leaves the previous registry intact', async () => {
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
    mounted = true;
    const r = await testRange(6);
    const range = `${r.lo}-${r.hi}`;
    const dir = join(mnt, 'reg');
    const sleeper = spawn('sleep', ['60']);
    try {
      const first = await cli([
        'allocate',
        'A',
        '--key',
        'before',
        '--registry',
        dir,
        '--range',
        range,
        '--owner-pid',
        String(sleeper.pid),
      ]);
      expect(first.code).toBe(0);
      const before = readFileSync(join(dir, 'leases.json'));
      // Fill the file system to the last block.
      const chunk = Buffer.alloc(4096, 1);
      let i = 0;
      for (;;) {
        try {
          writeFileSync(join(mnt, `fill-${i++}`), chunk);
        } catch {
          break;
        }
      }
      const full = await cli(['allocate', 'B', '--registry', dir, '--range', range]);
      expect(full.code).toBe(1);
      expect(full.stderr.trim()).toMatch(
        /^portlease: registry .*: no space left on device \(ENOSPC\); nothing was changed$/,
      );
      expect(readFileSync(join(dir, 'leases.json'))).toEqual(before);
      expect(readdirSync(dir).filter((n) => n.includes('.tmp.'))).toEqual([]);
      const snap = snapshot(dir);
      // With room again, the registry carries on from the state it had.
      for (let j = 0; j < i; j++) spawnSync('rm', ['-f', join(mnt, `fill-${j}`)]);
      const ok = await cli(['allocate', 'B', '--registry', dir, '--range', range]);
      expect(ok.code).toBe(0);
      expect(parsePorts(ok.stdout).B).toBeGreaterThan(0);
      expect(snap['leases.json']).toBe(before.toString('latin1'));
    } finally {
      sleeper.kill();
    }
  });
});
