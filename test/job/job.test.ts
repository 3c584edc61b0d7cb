/**
 * The job context (src/job/job.ts): container-job detection and the registry check against
 * recorded /proc views of a job container, and the runner owner on the host (real processes).
 * No @actions/core: the module takes a HostProbe and options.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  checkHostRegistryInContainer,
  containerId,
  inContainerJob,
  runnerOwner,
  type HostProbe,
} from '../../src/job/job.js';
import { describeProcess, UsageError, RuntimeError } from '../../src/core/index.js';

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

  it('refuses a registry on an overlay mounted inside the job container', () => {
    const p = probe({
      '/.dockerenv': '',
      '/proc/self/mountinfo': mountinfo(
        '830 812 0:70 / /tmp/portlease rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w',
      ),
    });
    expect(() => runnerOwner('/tmp/portlease', { ...containerJob, probe: p })).toThrow(
      /^registry: \/tmp\/portlease is inside the job container/,
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
