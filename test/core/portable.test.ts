/**
 * The engine on the real host, whatever it is: Linux here, macOS and Windows on GitHub's
 * runners (npm run test:portable in .github/workflows/ci.yml). Nothing is injected: start
 * times and boot identity come from /proc, ps and sysctl, or PowerShell and WMI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRegistryDir, Registry, selfOwner } from '../../src/core/index.js';
import { bootId, describeProcess, processLiveness } from '../../src/core/owner.js';
import { tempDir, testRange } from '../helpers.js';

const platform = process.platform;

/** The start-time format each host gives. */
const START: Record<string, RegExp> = {
  linux: /^\d+$/, // clock ticks since boot
  darwin: /^\d{9,11}$/, // Unix seconds
  win32: /^\d{15,17}$/, // UTC microseconds
};

function sleeper(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    child.once('spawn', () => {
      resolve(child);
    });
    child.once('error', reject);
  });
}

const exited = (child: ChildProcess): Promise<unknown> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(null);
    else child.once('exit', resolve);
  });

describe(`owners on this host (${platform})`, () => {
  it('describes a process with a start time, and knows the boot where it can', () => {
    const me = selfOwner();
    const format = START[platform];
    if (format === undefined) throw new Error(`no expectation for ${platform}`);
    expect(me.start).toMatch(format);
    if (platform === 'linux') expect(bootId()).toMatch(/^[0-9a-f-]{36}$/);
    if (platform === 'darwin') expect(bootId()).toMatch(/^[0-9a-f-]{36}$/);
    if (platform === 'win32') expect(bootId()).toBeNull();
    expect(selfOwner()).toEqual(me); // stable
  });

  it('a live child is alive; the same pid with another start time is dead; once it exits, dead', async () => {
    const child = await sleeper();
    try {
      const owner = describeProcess(child.pid ?? 0);
      if (owner === null) throw new Error('a running child was not described');
      expect(owner.start).not.toBeNull();
      expect(processLiveness(owner)).toBe('alive');
      expect(processLiveness(owner, new Map())).toBe('alive');
      // A record of an earlier process with this pid: to the engine, the pid was reused.
      const reused = { ...owner, start: '1' };
      expect(processLiveness(reused)).toBe('dead');
      child.kill('SIGKILL');
      await exited(child);
      expect(processLiveness(owner)).toBe('dead');
      expect(processLiveness(owner, new Map())).toBe('dead');
      expect(describeProcess(child.pid ?? 0)).toBeNull();
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe(`the registry on this host (${platform})`, () => {
  it('leases, lists, reclaims a dead owner and releases', async () => {
    const range = await testRange(4);
    const reg = new Registry(join(tempDir(), 'reg'), { kernel: { ephemeral: null, reserved: [] } });
    const child = await sleeper();
    const childOwner = describeProcess(child.pid ?? 0);
    if (childOwner === null) throw new Error('a running child was not described');
    const mine = await reg.allocate({
      names: ['WEB', 'DB'],
      range,
      owner: selfOwner(),
      ttlMs: 600_000,
      key: 'mine',
    });
    await reg.allocate({ names: ['X'], range, owner: childOwner, ttlMs: 600_000, key: 'child' });
    expect((await reg.list()).map((s) => [s.lease.key, s.liveness])).toEqual([
      ['mine', 'alive'],
      ['child', 'alive'],
    ]);
    child.kill('SIGKILL');
    await exited(child);
    const gc = await reg.gc();
    expect(gc.removed.map((r) => r.lease.key)).toEqual(['child']);
    expect(Object.keys(mine.lease.ports)).toEqual(['WEB', 'DB']);
    await reg.release({ lease: mine.lease.id });
    expect(await reg.list()).toEqual([]);
  });

  it('defaults to one host-wide directory', () => {
    const dir = defaultRegistryDir({ ProgramData: 'D:\\Data' });
    expect(dir).toBe(platform === 'win32' ? 'D:\\Data\\portlease' : '/tmp/portlease');
  });
});
