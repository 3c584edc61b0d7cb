/**
 * Bundles owned by a directory (`--owner dir:PATH`), and the worktree recipe built on them
 * (docs/examples/post-checkout) with real git: three `git worktree add` at once get three
 * bundles; the hook again gives the same one; `git worktree remove` + gc frees it.
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  realpathSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cli, parsePorts, ROOT, tempDir, testRange } from '../helpers.js';
import { listJson, userEnv } from './shell.js';

const run = promisify(execFile);
const GIT = [
  '-c',
  'user.name=t',
  '-c',
  'user.email=t@example.com',
  '-c',
  'init.defaultBranch=main',
];

describe('--owner dir:PATH', () => {
  it('lives with no process, survives gc, has the key dir:<realpath>, and ends when the directory goes', async () => {
    const r = await testRange(4);
    const range = `${r.lo}-${r.hi}`;
    const dir = join(tempDir(), 'reg');
    const base = tempDir();
    const work = join(base, 'wt1');
    mkdirSync(work);
    symlinkSync(work, join(base, 'link'));
    const a = await cli(
      ['allocate', 'WEB', 'DB', '--range', range, '--registry', dir, '--owner', 'dir:.', '--json'],
      {
        cwd: work,
        env: userEnv(dir),
      },
    );
    expect(a.code).toBe(0);
    const lease = JSON.parse(a.stdout) as {
      key: string;
      ports: object;
      expires: string | null;
      owner: object;
    };
    expect(lease.key).toBe(`dir:${realpathSync(work)}`);
    expect(lease.owner).toMatchObject({ kind: 'dir', path: realpathSync(work) });
    expect(lease.expires).toBeNull(); // no TTL unless one is asked for
    // No process of the caller is left; gc keeps it.
    const gc = await cli(['gc', '--registry', dir]);
    expect(gc.stdout).toContain('0 leases removed, 1 live');
    expect((await cli(['list', '--registry', dir])).stdout).toContain(`dir ${realpathSync(work)}`);
    // The same directory again, by another path: the same bundle.
    const b = await cli([
      'allocate',
      'WEB',
      'DB',
      '--registry',
      dir,
      '--owner',
      `dir:${join(base, 'link')}`,
      '--json',
    ]);
    expect((JSON.parse(b.stdout) as { ports: object }).ports).toEqual(lease.ports);
    rmSync(work, { recursive: true });
    const gc2 = await cli(['gc', '--registry', dir]);
    expect(gc2.stdout).toMatch(
      new RegExp(
        `removed pl_\\w+ key "dir:${realpathSync(base)}/wt1" \\(\\d+,\\d+\\): owner dir ${realpathSync(base)}/wt1 is gone`,
      ),
    );
    expect(await listJson(dir)).toEqual([]);
  });
});

describe('one bundle per git worktree (docs/examples/post-checkout)', () => {
  it('three worktrees added at once get three bundles; the hook again gives the same; remove + gc frees it', async () => {
    const r = await testRange(12);
    const dir = join(tempDir(), 'reg');
    const base = realpathSync(tempDir());
    const repo = join(base, 'repo');
    execFileSync('git', [...GIT, 'init', '-q', repo]);
    execFileSync('git', [...GIT, '-C', repo, 'commit', '-q', '--allow-empty', '-m', 'init']);
    const hook = join(repo, '.git/hooks/post-checkout');
    copyFileSync(join(ROOT, 'docs/examples/post-checkout'), hook);
    chmodSync(hook, 0o755);
    const env = userEnv(dir, { PORTLEASE_RANGE: `${r.lo}-${r.hi}` });

    const names = ['wt1', 'wt2', 'wt3'];
    const added = await Promise.allSettled(
      names.map((n) =>
        run('git', [...GIT, '-C', repo, 'worktree', 'add', '-q', '-b', n, join(base, n)], { env }),
      ),
    );
    // git itself races when worktrees are added at once: one `worktree add` may fail reading
    // another's half-written metadata ("failed to read .git/worktrees/X/commondir"), leaving
    // its branch made and no worktree. Such a one is added again, alone.
    for (const [i, a] of added.entries()) {
      if (a.status === 'fulfilled') continue;
      expect(String((a.reason as { stderr?: string }).stderr)).toMatch(
        /failed to read .*commondir/,
      );
      const n = names[i] ?? '';
      await run('git', [...GIT, '-C', repo, 'worktree', 'add', '-q', join(base, n), n], { env });
    }
    const bundles = names.map(
      (n) =>
        JSON.parse(readFileSync(join(base, n, '.worktree-ports.json'), 'utf8')) as Record<
          string,
          number
        >,
    );
    for (const b of bundles) expect(Object.keys(b)).toEqual(['WEB_PORT', 'API_PORT', 'DB_PORT']);
    const ports = bundles.flatMap((b) => Object.values(b));
    expect(new Set(ports).size).toBe(9);
    const leases = await listJson(dir);
    expect(leases.map((l) => l.key).sort()).toEqual(names.map((n) => `dir:${join(base, n)}`));

    // The hook again (a checkout in wt2): the same bundle.
    await run('git', [...GIT, '-C', join(base, 'wt2'), 'checkout', '-q', '-b', 'wt2-topic'], {
      env,
    });
    expect(JSON.parse(readFileSync(join(base, 'wt2', '.worktree-ports.json'), 'utf8'))).toEqual(
      bundles[1],
    );

    // The bundles outlive every process (gc keeps them); removing a worktree frees its own.
    expect((await cli(['gc', '--registry', dir])).stdout).toContain('0 leases removed, 3 live');
    await run('git', ['-C', repo, 'worktree', 'remove', '--force', join(base, 'wt2')], { env });
    const gc = await cli(['gc', '--registry', dir]);
    expect(gc.stdout).toContain('1 lease removed, 2 live');
    expect((await listJson(dir)).map((l) => l.key).sort()).toEqual([
      `dir:${join(base, 'wt1')}`,
      `dir:${join(base, 'wt3')}`,
    ]);
    // wt2's ports are free again: the 6 ports wt1 and wt3 do not hold can all be leased.
    const again = await cli([
      'allocate',
      '--count',
      '6',
      '--range',
      `${r.lo}-${r.hi}`,
      '--registry',
      dir,
      '--owner',
      'none',
      '--ttl',
      '1m',
    ]);
    expect(again.code).toBe(0);
    expect(Object.values(parsePorts(again.stdout))).toEqual(
      expect.arrayContaining(Object.values(bundles[1] ?? {})),
    );
  });
});
