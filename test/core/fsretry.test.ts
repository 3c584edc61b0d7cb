/**
 * Renames and unlinks on Windows retry while another process briefly holds the file (EPERM,
 * EBUSY, EACCES), within a budget; elsewhere they fail at once. The real case is made here
 * with an immutable file (chattr +i makes rename over it fail with EPERM) that a second
 * process makes mutable again a moment later.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renameRetry, RETRY_BUDGET_MS, withRetry } from '../../src/core/fsretry.js';
import { useHost } from '../../src/core/platform.js';
import { writeAtomic } from '../../src/core/fsio.js';
import { collect, tempDir } from '../helpers.js';

const err = (code: string): Error => Object.assign(new Error(code), { code });

/** An operation failing with `codes` in turn, then returning 'done'. */
function flaky(codes: string[]): { op: () => string; calls: () => number } {
  let n = 0;
  return {
    op: () => {
      const code = codes[n++];
      if (code !== undefined) throw err(code);
      return 'done';
    },
    calls: () => n,
  };
}

describe('withRetry', () => {
  it('on win32 retries EPERM, EBUSY and EACCES with a growing backoff', () => {
    const f = flaky(['EPERM', 'EBUSY', 'EACCES', 'EPERM']);
    const slept: number[] = [];
    const out = withRetry(f.op, { platform: 'win32', sleep: (ms) => slept.push(ms) });
    expect(out).toBe('done');
    expect(f.calls()).toBe(5);
    expect(slept).toEqual([10, 20, 30]); // the first retry is at once, like graceful-fs
  });

  it('elsewhere fails at once', () => {
    for (const platform of ['linux', 'darwin'] as const) {
      const f = flaky(['EPERM']);
      expect(() => withRetry(f.op, { platform, sleep: () => undefined })).toThrow('EPERM');
      expect(f.calls()).toBe(1);
    }
  });

  it('does not retry other errors', () => {
    for (const code of ['ENOENT', 'ENOSPC', 'EXDEV']) {
      const f = flaky([code]);
      expect(() => withRetry(f.op, { platform: 'win32', sleep: () => undefined })).toThrow(code);
      expect(f.calls()).toBe(1);
    }
  });

  it('gives up when the budget is spent and throws the last error as it was', () => {
    let clock = 0;
    const slept: number[] = [];
    const always = (): never => {
      throw err('EBUSY');
    };
    const e = (() => {
      try {
        withRetry(always, {
          platform: 'win32',
          budgetMs: 1000,
          now: () => clock,
          sleep: (ms) => {
            slept.push(ms);
            clock += ms;
          },
        });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(e).toMatchObject({ code: 'EBUSY' });
    expect(clock).toBeLessThanOrEqual(1000);
    expect(clock).toBeGreaterThan(900);
    expect(Math.max(...slept)).toBe(100);
    expect(RETRY_BUDGET_MS).toBeLessThanOrEqual(5000);
  });
});

const held: string[] = [];

/** Make `path` immutable: rename over it and unlink fail with EPERM until `release`. */
async function hold(path: string): Promise<void> {
  const r = await collect(spawn('chattr', ['+i', path], { stdio: ['ignore', 'pipe', 'pipe'] }));
  if (r.code !== 0) throw new Error(`chattr +i failed (needs root and ext4): ${r.stderr}`);
  held.push(path);
}

function release(path: string): Promise<unknown> {
  return collect(spawn('chattr', ['-i', path], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** A second process that releases `path` after `ms`, while this one is blocked retrying. */
function releaseLater(path: string, ms: number): Promise<unknown> {
  const child = spawn('sh', ['-c', `sleep ${ms / 1000}; chattr -i "$0"`, path], {
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.once('exit', resolve));
}

describe.runIf(process.platform === 'linux')('a real rename over a file held for a moment', () => {
  let restore: (() => void) | undefined;
  afterEach(async () => {
    restore?.();
    restore = undefined;
    for (const p of held.splice(0)) await release(p);
  });

  it('succeeds on win32 once the file is released', async () => {
    const dir = tempDir();
    const target = join(dir, 'leases.json');
    writeFileSync(target, 'old');
    writeFileSync(join(dir, 'new'), 'new');
    await hold(target);
    const released = releaseLater(target, 200);
    renameRetry(join(dir, 'new'), target, { platform: 'win32', budgetMs: 60_000 });
    expect(readFileSync(target, 'utf8')).toBe('new');
    await released;
  });

  it('fails at once elsewhere (EPERM is final off Windows)', async () => {
    const dir = tempDir();
    const target = join(dir, 'leases.json');
    writeFileSync(target, 'old');
    writeFileSync(join(dir, 'new'), 'new');
    await hold(target);
    const slept: number[] = [];
    expect(() => {
      renameRetry(join(dir, 'new'), target, { platform: 'linux', sleep: (ms) => slept.push(ms) });
    }).toThrow(/EPERM/);
    expect(slept).toEqual([]);
    expect(readFileSync(target, 'utf8')).toBe('old');
  });

  it("the store's atomic write rides it out on a win32 host", async () => {
    restore = useHost({ platform: 'win32', run: () => ({ status: 0, stdout: '' }) });
    const dir = tempDir();
    const target = join(dir, 'leases.json');
    writeFileSync(target, 'old');
    await hold(target);
    const released = releaseLater(target, 200);
    writeAtomic(target, 'new state');
    expect(readFileSync(target, 'utf8')).toBe('new state');
    await released;
  });

  it('without the retry the same write fails (linux host)', async () => {
    const dir = tempDir();
    const target = join(dir, 'leases.json');
    writeFileSync(target, 'old');
    await hold(target);
    expect(() => {
      writeAtomic(target, 'new state');
    }).toThrow(/EPERM/);
    expect(readFileSync(target, 'utf8')).toBe('old');
  });
});
