/**
 * The shared GitHub layer (src/github/lease.ts), in process: inputs through the real
 * @actions/core (INPUT_* in this test process's env), keys, labels, and the container-job
 * checks against recorded /proc views of a job container.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkHostRegistryInContainer,
  containerId,
  defaultKey,
  getLeaseInputs,
  inContainerJob,
  runLabels,
  runnerOwner,
  type HostProbe,
} from '../../src/github/lease.js';
import { checkKey, describeProcess, UsageError, RuntimeError } from '../../src/registry/index.js';
import { jobEnv } from '../../harness/runner.js';

const ID = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4);

/** /proc/self/mountinfo of a job container: overlay root, engine bind mounts, maybe the registry. */
function mountinfo(registryMount: string | null): string {
  return [
    `812 790 0:61 / / rw,relatime master:312 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X:/var/lib/docker/overlay2/l/Y,upperdir=/u,workdir=/w`,
    `813 812 0:64 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw`,
    `820 812 254:1 /var/lib/docker/containers/${ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw`,
    `821 812 254:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw`,
    `822 812 254:1 /home/runner/_work /__w rw,relatime - ext4 /dev/vda1 rw`,
    `823 812 254:1 /home/runner/externals /__e ro,relatime - ext4 /dev/vda1 rw`,
    ...(registryMount === null ? [] : [registryMount]),
    '',
  ].join('\n');
}

function probe(files: Record<string, string>, host = 'runner-host'): HostProbe {
  return {
    exists: (p) => p in files,
    read: (p) => files[p] ?? null,
    hostname: () => host,
  };
}

const containerJob = {
  env: { GITHUB_WORKSPACE: '/__w/demo/demo', RUNNER_TEMP: '/__w/_temp' },
  execPath: '/__e/node24/bin/node',
  ppid: 0,
};

describe('defaultKey', () => {
  const owner = describeProcess(process.pid);

  it('is stable within a job and step, and a valid key', () => {
    const env = jobEnv('a');
    const key = defaultKey(env, owner);
    expect(defaultKey({ ...env }, owner)).toBe(key);
    expect(checkKey(key, 'key')).toBe(key);
    expect(key).toContain('octo/portlease-demo/9876543210-1/test/');
  });

  it('differs between matrix legs, runs, attempts and steps', () => {
    const base = defaultKey(jobEnv('a'), owner);
    const other = new Set([
      defaultKey(jobEnv('b'), owner),
      defaultKey({ ...jobEnv('a'), RUNNER_TRACKING_ID: 'github_other' }, owner),
      defaultKey({ ...jobEnv('a'), GITHUB_RUN_ATTEMPT: '2' }, owner),
      defaultKey({ ...jobEnv('a'), GITHUB_ACTION: '__octo_portlease_2' }, owner),
      defaultKey({ ...jobEnv('a'), GITHUB_RUN_ID: '1' }, owner),
    ]);
    expect(other.size).toBe(5);
    expect(other.has(base)).toBe(false);
  });

  it('differs between two runner workers even when every variable is the same', () => {
    const env = jobEnv('same');
    const a = defaultKey(env, owner);
    const b = defaultKey(env, describeProcess(process.ppid));
    const c = defaultKey(env, { kind: 'container', id: ID, host: 'h', boot: null });
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('stays a valid key with long or odd variables, and without any', () => {
    const env = {
      ...jobEnv('x'),
      GITHUB_REPOSITORY: 'o/' + 'r'.repeat(300),
      GITHUB_JOB: 'job with spaces\nand a newline',
    };
    const key = defaultKey(env, owner);
    expect(key.length).toBeLessThanOrEqual(200);
    expect(checkKey(key, 'key')).toBe(key);
    expect(checkKey(defaultKey({}, null), 'key')).toBeTruthy();
  });
});

describe('runLabels', () => {
  it('records repository, run, attempt, job and runner, without control characters', () => {
    const labels = runLabels({ ...jobEnv('l'), GITHUB_JOB: 'te\nst' });
    expect(labels).toMatchObject({
      repository: 'octo/portlease-demo',
      run_id: '9876543210',
      run_attempt: '1',
      job: 'te st',
      runner: 'runner-l',
    });
  });
});

describe('getLeaseInputs', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env))
      if (!(k in saved)) Reflect.deleteProperty(process.env, k);
    Object.assign(process.env, saved);
  });
  const set = (inputs: Record<string, string>): void => {
    for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v;
  };

  it('takes the defaults for empty inputs', () => {
    set({ range: '', key: '', strategy: '', ttl: '', wait: '', registry: '' });
    process.env.PORTLEASE_REGISTRY = '/srv/ports';
    expect(getLeaseInputs()).toEqual({
      range: { lo: 20000, hi: 29999 },
      key: undefined,
      strategy: 'hash',
      ttlMs: 6.5 * 3_600_000,
      waitMs: 0,
      registry: '/srv/ports',
    });
    expect(getLeaseInputs({ ttlDefault: '2h' }).ttlMs).toBe(2 * 3_600_000);
  });

  it('parses given inputs', () => {
    set({
      range: ' 21000-21999 ',
      key: 'my-key',
      strategy: 'random',
      ttl: '90m',
      wait: '2m',
      registry: '/var/tmp/reg/',
    });
    expect(getLeaseInputs()).toEqual({
      range: { lo: 21000, hi: 21999 },
      key: 'my-key',
      strategy: 'random',
      ttlMs: 90 * 60_000,
      waitMs: 120_000,
      registry: '/var/tmp/reg',
    });
  });

  it.each([
    ['range', '9-1'],
    ['strategy', 'best'],
    ['ttl', '7d'],
    ['ttl', 'soon'],
    ['wait', '1 minute'],
    ['registry', 'reg'],
  ])('a bad %s (%j) is a UsageError naming it', (name, value) => {
    set({ [name]: value });
    expect(() => getLeaseInputs()).toThrow(UsageError);
    expect(() => getLeaseInputs()).toThrow(new RegExp(`^${name}: `));
  });
});

describe('container jobs', () => {
  it('tells a container job from a runner that itself runs in a container', () => {
    const files = { '/.dockerenv': '' };
    expect(inContainerJob({ ...containerJob, probe: probe(files) })).toBe(true);
    expect(
      inContainerJob({
        env: { GITHUB_WORKSPACE: '/home/runner/_work/demo/demo' },
        execPath: '/home/runner/externals/node24/bin/node',
        ppid: 4242,
        probe: probe(files),
      }),
    ).toBe(false);
    expect(inContainerJob({ ...containerJob, probe: probe({}) })).toBe(false);
    expect(
      inContainerJob({
        env: {},
        execPath: '/usr/bin/node',
        ppid: 0,
        probe: probe({ '/run/.containerenv': '' }),
      }),
    ).toBe(true);
  });

  it("refuses a registry that is the container's own, showing the volumes line", () => {
    const p = probe({ '/.dockerenv': '', '/proc/self/mountinfo': mountinfo(null) });
    expect(() => {
      checkHostRegistryInContainer('/tmp/portlease', p);
    }).toThrow(UsageError);
    expect(() => runnerOwner('/tmp/portlease', { ...containerJob, probe: p })).toThrow(
      /^registry: \/tmp\/portlease is inside the job container.*- \/tmp\/portlease:\/tmp\/portlease/,
    );
  });

  it("accepts the host's registry bind-mounted in, owned by the job container", () => {
    const p = probe({
      '/.dockerenv': '',
      '/proc/self/mountinfo': mountinfo(
        '830 812 0:30 /portlease /tmp/portlease rw,nosuid,nodev - tmpfs tmpfs rw',
      ),
    });
    const job = runnerOwner('/tmp/portlease', { ...containerJob, probe: p });
    expect(job.where).toBe('container');
    expect(job.owner).toMatchObject({ kind: 'container', id: ID });
    // a registry elsewhere in the same container is still refused
    expect(() => runnerOwner('/var/portlease', { ...containerJob, probe: p })).toThrow(
      /- \/var\/portlease:\/var\/portlease/,
    );
  });

  it('finds the container id from mounts, cgroups or the hostname, else TTL only', () => {
    expect(containerId(probe({ '/proc/self/mountinfo': mountinfo(null) }))).toBe(ID);
    expect(
      containerId(probe({ '/proc/self/cgroup': `0::/system.slice/docker-${ID}.scope\n` })),
    ).toBe(ID);
    expect(containerId(probe({}, '0123456789ab'))).toBe('0123456789ab');
    expect(containerId(probe({}, 'my-runner'))).toBeNull();
    const p = probe(
      {
        '/.dockerenv': '',
        '/proc/self/mountinfo':
          '1 0 0:1 / / rw - overlay overlay rw\n2 1 0:30 /portlease /tmp/portlease rw - tmpfs tmpfs rw\n',
      },
      'runner',
    );
    expect(runnerOwner('/tmp/portlease', { ...containerJob, probe: p }).owner).toBeNull();
  });
});

describe('runnerOwner on the host', () => {
  it('is the parent process with its start time', () => {
    const job = runnerOwner('/tmp/unused', { ppid: process.pid, env: {}, probe: probe({}) });
    expect(job.where).toBe('host');
    expect(job.owner).toEqual(describeProcess(process.pid));
  });

  it('fails when the parent is already gone', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid ?? 0;
    await new Promise((resolve) => child.once('close', resolve));
    expect(() => runnerOwner('/tmp/unused', { ppid: pid, env: {}, probe: probe({}) })).toThrow(
      RuntimeError,
    );
  });
});
