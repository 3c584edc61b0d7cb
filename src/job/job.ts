/**
 * The job a GitHub step runs in: on the runner's host, or inside the job container of a
 * container job (`container:` in the workflow), and who owns the leases taken there.
 *
 * - `runnerOwner(registryDir, opts?)`: who owns the job's leases (`JobContext`). On the
 *   host: the runner's worker (the nearest `Runner.Worker` ancestor, found by walking the
 *   parent chain in /proc; else the step's parent process) with its start time. In a
 *   container job: the job container (`ContainerOwner`) or, when its id cannot be found,
 *   nobody (TTL only); and the registry must be the host's, bind-mounted in through
 *   `container.volumes`, else a `UsageError` shows the `volumes:` line to add. Reads /proc
 *   only; touches nothing on disk.
 * - `inContainerJob`, `containerId`, `checkHostRegistryInContainer`: the steps of that
 *   decision, each against a `HostProbe` (the real filesystem, or a recorded view in tests).
 *
 * No @actions/* here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  describeProcess,
  findAncestor,
  RuntimeError,
  RUNNER_WORKER,
  UsageError,
  type ContainerOwner,
  type Owner,
} from '../core/index.js';
import { bootId } from '../core/owner.js';
import { mountOf, parseMountInfo } from './mountinfo.js';

/** What the filesystem says about where we run; injectable for unit tests. */
export interface HostProbe {
  exists(path: string): boolean;
  read(path: string): string | null;
  hostname(): string;
}

export const realProbe: HostProbe = {
  exists: (p) => existsSync(p),
  read: (p) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return null;
    }
  },
  hostname: () => hostname(),
};

export interface JobContext {
  /** 'container': this step runs inside the job container of a container job. */
  where: 'host' | 'container';
  /** null: nobody can be checked (TTL only). */
  owner: Owner | null;
  /** One line for the log: who owns the lease and why. */
  describe: string;
}

export interface RunnerOwnerOptions {
  env?: NodeJS.ProcessEnv;
  ppid?: number;
  execPath?: string;
  probe?: HostProbe;
}

/**
 * Is this step running inside the job container of a container job? The runner starts
 * node there with `docker exec` (parent pid 0 in the container) from its externals mount
 * (/__e) with the workspace under /__w. A runner that itself runs in a container (with
 * /.dockerenv) but runs steps directly is not a container job.
 */
export function inContainerJob(opts: RunnerOwnerOptions = {}): boolean {
  const env = opts.env ?? process.env;
  const probe = opts.probe ?? realProbe;
  const ppid = opts.ppid ?? process.ppid;
  const execPath = opts.execPath ?? process.execPath;
  const inContainer =
    probe.exists('/.dockerenv') ||
    probe.exists('/run/.containerenv') ||
    /docker|containerd|libpod|kubepods/.test(probe.read('/proc/1/cgroup') ?? '');
  if (!inContainer) return false;
  const runnerMounts =
    execPath.startsWith('/__e/') ||
    (env.GITHUB_WORKSPACE ?? '').startsWith('/__w/') ||
    (env.RUNNER_TEMP ?? '').startsWith('/__w/');
  return runnerMounts || ppid === 0;
}

/** The job container's id, from the engine's bind mounts, cgroups or the hostname. */
export function containerId(probe: HostProbe = realProbe): string | null {
  const mountinfo = probe.read('/proc/self/mountinfo') ?? '';
  const fromMounts =
    /\/containers\/([0-9a-f]{64})\/(?:hostname|hosts|resolv\.conf)/.exec(mountinfo) ??
    /\/overlay-containers\/([0-9a-f]{64})\/userdata/.exec(mountinfo);
  if (fromMounts?.[1]) return fromMounts[1];
  const cgroup = /(?:docker|libpod)[-/]([0-9a-f]{64})/.exec(probe.read('/proc/self/cgroup') ?? '');
  if (cgroup?.[1]) return cgroup[1];
  const host = probe.hostname();
  return /^[0-9a-f]{12}$/.test(host) ? host : null;
}

/** Throws UsageError unless `dir` is bind-mounted into this container (the host's registry). */
export function checkHostRegistryInContainer(dir: string, probe: HostProbe = realProbe): void {
  const fix = `add it to the job's container: \`volumes:\` line \`- ${dir}:${dir}\` (under jobs.<job>.container.volumes), so every job on the host shares one registry`;
  const mountinfo = probe.read('/proc/self/mountinfo');
  if (mountinfo === null) {
    throw new UsageError(
      `registry: cannot read /proc/self/mountinfo to check that ${dir} is the host's registry; ${fix}`,
    );
  }
  const m = mountOf(dir, parseMountInfo(mountinfo));
  // The container's own root (overlay) or no mount at all: a private directory, not the host's.
  if (
    m === undefined ||
    m.point === '/' ||
    ['overlay', 'aufs', 'fuse-overlayfs'].includes(m.fstype)
  ) {
    throw new UsageError(
      `registry: ${dir} is inside the job container, not the host's registry; ${fix}`,
    );
  }
}

/**
 * Who owns this job's leases (see the module comment). Throws UsageError when a container
 * job's registry is not the host's, RuntimeError when the runner worker cannot be found.
 */
export function runnerOwner(registryDir: string, opts: RunnerOwnerOptions = {}): JobContext {
  const probe = opts.probe ?? realProbe;
  const ppid = opts.ppid ?? process.ppid;
  if (inContainerJob(opts)) {
    checkHostRegistryInContainer(registryDir, probe);
    const id = containerId(probe);
    if (id === null) {
      return {
        where: 'container',
        owner: null,
        describe: 'container job: the job container id is not visible from inside; TTL only',
      };
    }
    const owner: ContainerOwner = { kind: 'container', id, host: hostname(), boot: bootId() };
    return {
      where: 'container',
      owner,
      describe: `container job: owner is the job container ${id.slice(0, 12)} (alive while the engine runs it; TTL otherwise)`,
    };
  }
  // The nearest Runner.Worker among the ancestors (the direct parent of a `uses:` step;
  // further up when the step runs under a shell or wrapper), else the parent as before.
  const worker = findAncestor(RUNNER_WORKER, ppid);
  const pid = worker ?? ppid;
  if (pid <= 1) {
    return {
      where: 'host',
      owner: null,
      describe: `parent process is pid ${ppid}, not a runner worker; TTL only`,
    };
  }
  const owner = describeProcess(pid);
  if (owner === null) {
    throw new RuntimeError(
      `the runner worker (pid ${pid}, ${worker === null ? "this step's parent" : `this step's ${RUNNER_WORKER} ancestor`}) is gone; nothing was leased`,
    );
  }
  return {
    where: 'host',
    owner,
    describe: `owner is the runner worker, pid ${pid} (start ${owner.start ?? 'unknown'})`,
  };
}
