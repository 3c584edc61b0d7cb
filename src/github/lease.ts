/**
 * The GitHub layer shared by the lease-ports action (src/action) and the container step
 * (src/container). Everything here is about the runner; the engine (src/registry) knows
 * nothing of GitHub.
 *
 * API (kept stable; other shells depend on it):
 *
 * - `getLeaseInputs(opts?)`: reads the lease inputs `range`, `key`, `strategy`, `ttl`,
 *   `wait`, `registry` with `core.getInput`, validates each with the engine's parsers and
 *   returns a typed `LeaseInputs`. Throws `UsageError` whose one line names the input.
 *   Touches nothing on disk. Empty inputs take the defaults (`opts.ttlDefault` overrides the
 *   TTL default, a GitHub job's default timeout plus margin).
 * - `defaultKey(env, owner)`: the lease key when `key` is empty: unique per job on the host
 *   (run id, attempt, job, runner name, RUNNER_TRACKING_ID and the owner's identity), stable
 *   within the job so a re-run step gets its lease back, and per step (GITHUB_ACTION), so two
 *   portlease steps in one job never share a key.
 * - `runnerOwner(registryDir, opts?)`: who owns the job's leases. On the host: the runner's
 *   worker (the nearest `Runner.Worker` ancestor, found by walking the parent chain in /proc;
 *   else the action's parent process) with its start time. In a container
 *   job (`container:` in the workflow): the job container (`ContainerOwner`) or, when its id
 *   cannot be found, nobody (TTL only); and the registry must be the host's, bind-mounted in
 *   through `container.volumes`, else a `UsageError` shows the `volumes:` line to add.
 *   Touches nothing on disk (reads /proc only).
 * - `runLabels(env)`: labels for a lease (repository, run id, attempt, job, runner name).
 * - `githubRegistry(dir, extra?)`: a `Registry` logging through core.warning / core.debug,
 *   with ports published by container engines treated as busy and job-container liveness
 *   asked of the engines (src/engines/host.ts).
 * - `saveJsonState(name, value)` / `getJsonState(name, guard)`: typed JSON through
 *   core.saveState / core.getState (STATE_* in the post step).
 * - `errorLine(err)`: one line for core.setFailed / core.warning, never a stack trace.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import * as core from '@actions/core';
import {
  checkKey,
  CONTROL_CHARS,
  LEASE_ID,
  withoutControlChars,
  DEFAULT_RANGE,
  defaultRegistryDir,
  describeError,
  describeProcess,
  findAncestor,
  formatDuration,
  parseDuration,
  parseRange,
  parseStrategy,
  Registry,
  RuntimeError,
  RUNNER_WORKER,
  UsageError,
  type ContainerOwner,
  type Owner,
  type PortRange,
  type RegistryOptions,
  type Strategy,
} from '../registry/index.js';
import { bootId } from '../registry/owner.js';
import { createHostRegistry } from '../runner/registry.js';

/** A GitHub job's default timeout (timeout-minutes: 360) plus margin for queued post steps. */
export const DEFAULT_TTL = '6h30m';
export const DEFAULT_WAIT = '0';
/** The longest TTL accepted from a workflow: a self-hosted job's longest timeout (5 days) plus margin. */
const MAX_TTL_MS = 6 * 24 * 3_600_000;
const MAX_WAIT_MS = 6 * 3_600_000;

export interface LeaseInputs {
  range: PortRange;
  /** The `key` input, or undefined when empty (then use `defaultKey`). */
  key: string | undefined;
  strategy: Strategy;
  ttlMs: number;
  waitMs: number;
  /** Absolute registry directory (input `registry`, else $PORTLEASE_REGISTRY, else /tmp/portlease). */
  registry: string;
}

export interface LeaseInputOptions {
  /** TTL when `ttl` is empty (default DEFAULT_TTL). */
  ttlDefault?: string;
  env?: NodeJS.ProcessEnv;
}

/** core.getInput, trimmed; '' when not given. */
function input(name: string): string {
  return core.getInput(name, { trimWhitespace: true });
}

/** Read and validate the lease inputs. Throws UsageError naming the input; touches nothing. */
export function getLeaseInputs(opts: LeaseInputOptions = {}): LeaseInputs {
  const env = opts.env ?? process.env;
  const rangeText = input('range');
  const keyText = input('key');
  const strategyText = input('strategy');
  const ttlText = input('ttl') || (opts.ttlDefault ?? DEFAULT_TTL);
  const waitText = input('wait') || DEFAULT_WAIT;
  const registryText = input('registry');
  return {
    range: rangeText === '' ? { ...DEFAULT_RANGE } : parseRange(rangeText, 'range'),
    key: keyText === '' ? undefined : checkKey(keyText, 'key'),
    strategy: strategyText === '' ? 'hash' : parseStrategy(strategyText, 'strategy'),
    ttlMs: parseDuration(ttlText, 'ttl', { max: MAX_TTL_MS }),
    waitMs: parseDuration(waitText, 'wait', { allowZero: true, max: MAX_WAIT_MS }),
    registry: parseRegistryDir(registryText, env),
  };
}

/** The `registry` input: an absolute path without control characters; '' means the default. */
export function parseRegistryDir(text: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = text === '' ? defaultRegistryDir(env) : text;
  if (CONTROL_CHARS.test(dir)) {
    throw new UsageError(
      `registry: ${JSON.stringify(dir.slice(0, 60))} contains control characters; name a directory like /tmp/portlease`,
    );
  }
  if (!isAbsolute(dir)) {
    throw new UsageError(
      `registry: ${JSON.stringify(dir.slice(0, 60))} is not an absolute path; the registry is host-wide, name it like /tmp/portlease`,
    );
  }
  return resolve(dir);
}

/** Labels recorded with a lease (shown by `portlease list`). */
export function runLabels(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const pick: [string, string | undefined][] = [
    ['repository', env.GITHUB_REPOSITORY],
    ['run_id', env.GITHUB_RUN_ID],
    ['run_attempt', env.GITHUB_RUN_ATTEMPT],
    ['job', env.GITHUB_JOB],
    ['runner', env.RUNNER_NAME],
    ['workflow', env.GITHUB_WORKFLOW],
  ];
  const out: Record<string, string> = {};
  for (const [k, v] of pick) {
    if (v !== undefined && v !== '') out[k] = withoutControlChars(v).slice(0, 200);
  }
  return out;
}

/** A short, stable identity of an owner for keys (pid + start time, or container id). */
function ownerIdentity(owner: Owner | null): string {
  if (owner === null) return 'none';
  switch (owner.kind) {
    case 'container':
      return `container:${owner.id}`;
    case 'dir':
      return `dir:${owner.path}:${owner.host}`;
    case 'session':
      return `session:${owner.sid}:${owner.start ?? '?'}:${owner.boot ?? '?'}:${owner.host}`;
    case 'process':
    case 'tree':
      return `pid:${owner.pid}:${owner.start ?? '?'}:${owner.boot ?? '?'}:${owner.host}`;
  }
}

/**
 * The default lease key: `gh/<repo>/<run>-<attempt>/<job>/<step>#<digest>`. The readable part
 * helps `portlease list`; the digest (over every job- and step-identifying variable and the
 * owner) makes it unique per job on the host: two matrix legs share run, job and step, but
 * never their runner worker process or RUNNER_TRACKING_ID.
 */
export function defaultKey(env: NodeJS.ProcessEnv, owner: Owner | null): string {
  const parts = [
    env.GITHUB_REPOSITORY,
    env.GITHUB_RUN_ID,
    env.GITHUB_RUN_ATTEMPT,
    env.GITHUB_JOB,
    env.GITHUB_ACTION,
    env.RUNNER_NAME,
    env.RUNNER_TRACKING_ID,
    ownerIdentity(owner),
  ].map((p) => p ?? '');
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
  const clean = (s: string | undefined, max: number): string =>
    (s ?? '-').replace(/[^A-Za-z0-9_.\-/]/g, '_').slice(0, max) || '-';
  return `gh/${clean(env.GITHUB_REPOSITORY, 80)}/${clean(env.GITHUB_RUN_ID, 20)}-${clean(env.GITHUB_RUN_ATTEMPT, 5)}/${clean(env.GITHUB_JOB, 40)}/${clean(env.GITHUB_ACTION, 30)}#${digest}`;
}

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

interface MountEntry {
  root: string;
  point: string;
  fstype: string;
  source: string;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const a = line.slice(0, sep).split(' ');
    const b = line.slice(sep + 3).split(' ');
    if (a.length < 5 || b.length < 2) continue;
    out.push({
      root: unescapeMount(a[3] ?? ''),
      point: unescapeMount(a[4] ?? ''),
      fstype: b[0] ?? '',
      source: b[1] ?? '',
    });
  }
  return out;
}

/** The mount that holds `dir` (the last, deepest mount point that is dir or above it). */
function mountOf(dir: string, mounts: MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) {
    const p = m.point;
    const covers = p === '/' || dir === p || dir.startsWith(p.endsWith('/') ? p : p + '/');
    if (covers && (best === undefined || p.length >= best.point.length)) best = m;
  }
  return best;
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

/** A Registry that logs through the runner (the host wiring: src/runner/registry.ts). */
export function githubRegistry(dir: string, extra: Partial<RegistryOptions> = {}): Registry {
  return createHostRegistry(dir, {
    warn: (m) => {
      core.warning(m);
    },
    debug: (m) => {
      core.debug(m);
    },
    ...extra,
  });
}

/** What every step's state holds of its lease: id, key and (absolute) registry directory. */
export interface LeaseRef {
  lease: string;
  key: string;
  registry: string;
}

/** Does a state value (untrusted: it comes back through the environment) name a lease? */
export function isLeaseRef(v: unknown): v is LeaseRef & Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.lease === 'string' &&
    LEASE_ID.test(r.lease) &&
    typeof r.key === 'string' &&
    typeof r.registry === 'string' &&
    isAbsolute(r.registry)
  );
}

/** Save a JSON value for the post step (GITHUB_STATE; read back from STATE_<name>). */
export function saveJsonState(name: string, value: unknown): void {
  core.saveState(name, JSON.stringify(value));
}

/** A saved JSON value, or undefined when absent, unparsable or not what `guard` accepts. */
export function getJsonState<T>(name: string, guard: (v: unknown) => v is T): T | undefined {
  const text = core.getState(name);
  if (text === '') return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return guard(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** One line for the log, never a stack trace. */
export function errorLine(err: unknown): string {
  return describeError(err);
}

export { formatDuration };
