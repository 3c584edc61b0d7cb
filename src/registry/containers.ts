/**
 * What the host's container engines (Docker, Podman) know that a socket probe may not:
 * host ports they publish, containers labelled with a portlease lease, and whether a
 * container owner still runs. Pure Node (no @actions/*): used by allocation, `portlease gc`
 * and the container step.
 *
 * Every query is bounded by a short timeout and answers "nothing known" quietly when no
 * engine is installed or answering: an engine is never required.
 *
 * Docker is asked through its API on the unix socket (`DOCKER_HOST=unix://...` or
 * /var/run/docker.sock) when that socket exists, else through the `docker` CLI when it is
 * on PATH (which also covers contexts and tcp:// hosts). Podman is asked through its CLI.
 * Nothing is ever run through a shell.
 */
import {
  accessSync,
  constants as fsConstants,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { describeError } from './errors.js';
import { bootId, type ContainerOwner, type Liveness } from './owner.js';

export type EngineName = 'docker' | 'podman';
export const ENGINES: readonly EngineName[] = ['docker', 'podman'];

/** The label every portlease container carries: its lease id. */
export const LEASE_LABEL = 'portlease.lease';
/** ...and the registry directory (absolute) that lease lives in. */
export const REGISTRY_LABEL = 'portlease.registry';

export interface EngineOptions {
  /** Which engine(s) to ask. Default: docker, and podman when running as root (see below). */
  engines?: readonly EngineName[];
  /** Per query. Default 3 s. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  debug?: (msg: string) => void;
}

/** One container as the engines describe it, normalised. */
export interface ContainerInfo {
  engine: EngineName;
  id: string;
  name: string;
  running: boolean;
  labels: Record<string, string>;
  /** Host TCP ports it publishes. */
  hostPorts: number[];
}

const DEFAULT_TIMEOUT_MS = 3000;

/** A program on PATH, or null; no process is started to find out. */
export function findOnPath(program: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const path = env.PATH ?? '';
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, program);
    try {
      accessSync(file, fsConstants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** The Docker API socket to use, or null (then the CLI, if any). */
function dockerSocket(env: NodeJS.ProcessEnv): string | null {
  if (env.DOCKER_CONTEXT !== undefined && env.DOCKER_CONTEXT !== '') return null;
  const host = env.DOCKER_HOST;
  let path = '/var/run/docker.sock';
  if (host !== undefined && host !== '') {
    if (!host.startsWith('unix://')) return null;
    path = host.slice('unix://'.length);
  }
  try {
    return statSync(path).isSocket() ? path : null;
  } catch {
    return null;
  }
}

interface Answer {
  ok: boolean;
  status: number;
  body: string;
}

// node:http and node:child_process are loaded when first needed: each costs several
// milliseconds at start-up, which every `portlease` command would pay otherwise.
async function dockerApi(
  socketPath: string,
  method: string,
  path: string,
  timeoutMs: number,
): Promise<Answer> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, method, path, headers: { Host: 'docker' }, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 16 * 1024 * 1024) body += d;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve({ ok: status >= 200 && status < 300, status, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function runCli(
  file: string,
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<CliResult> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, env },
      (err, stdout, stderr) => {
        const code =
          err === null ? 0 : typeof err.code === 'number' ? err.code : err.killed ? 124 : 127;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Host TCP ports out of a `docker ps` Ports column: `127.0.0.1:8080->80/tcp, :::8000-8002->8000-8002/tcp`. */
export function parsePortsColumn(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /:(\d{1,5})(?:-(\d{1,5}))?->[^/]*\/(\w+)\s*$/.exec(part.trim());
    if (!m || m[3] !== 'tcp') continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let p = lo; p <= hi && p - lo < 65536; p++) if (validPort(p)) out.push(p);
  }
  return out;
}

/** A Docker engine, through its API socket or its CLI. */
class Docker {
  readonly name = 'docker' as const;
  constructor(
    private readonly socket: string | null,
    private readonly cli: string | null,
    private readonly timeoutMs: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static find(env: NodeJS.ProcessEnv, timeoutMs: number): Docker | null {
    const socket = dockerSocket(env);
    const cli = socket === null ? findOnPath('docker', env) : null;
    return socket === null && cli === null ? null : new Docker(socket, cli, timeoutMs, env);
  }

  async list(all: boolean, label?: string): Promise<ContainerInfo[]> {
    if (this.socket !== null) {
      const filters = label === undefined ? '' : JSON.stringify({ label: [label] });
      const q = new URLSearchParams({ all: all ? '1' : '0' });
      if (filters !== '') q.set('filters', filters);
      const a = await dockerApi(
        this.socket,
        'GET',
        `/containers/json?${q.toString()}`,
        this.timeoutMs,
      );
      if (!a.ok) throw new Error(`docker API answered ${a.status}: ${a.body.trim().slice(0, 200)}`);
      const rows: unknown = JSON.parse(a.body);
      if (!Array.isArray(rows)) throw new Error('docker API: not a list of containers');
      return rows.filter(isRecord).map((r) => {
        const ports = Array.isArray(r.Ports) ? r.Ports.filter(isRecord) : [];
        const names = Array.isArray(r.Names) ? r.Names : [];
        return {
          engine: 'docker',
          id: typeof r.Id === 'string' ? r.Id : '',
          name: typeof names[0] === 'string' ? names[0].replace(/^\//, '') : '',
          running: r.State === 'running',
          labels: stringRecord(r.Labels),
          hostPorts: ports
            .filter((p) => p.Type === 'tcp' && validPort(p.PublicPort))
            .map((p) => p.PublicPort as number),
        };
      });
    }
    const args = ['ps', '--no-trunc', '--format', '{{json .}}'];
    if (all) args.splice(1, 0, '-a');
    if (label !== undefined) args.splice(1, 0, '--filter', `label=${label}`);
    const r = await runCli(this.cli ?? 'docker', args, this.timeoutMs, this.env);
    if (r.code !== 0) throw new Error(`docker ps: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    const out: ContainerInfo[] = [];
    for (const line of r.stdout.split('\n')) {
      if (line.trim() === '') continue;
      const row: unknown = JSON.parse(line);
      if (!isRecord(row)) continue;
      const labels: Record<string, string> = {};
      if (typeof row.Labels === 'string') {
        for (const kv of row.Labels.split(',')) {
          const i = kv.indexOf('=');
          if (i > 0) labels[kv.slice(0, i)] = kv.slice(i + 1);
        }
      }
      out.push({
        engine: 'docker',
        id: typeof row.ID === 'string' ? row.ID : '',
        name: typeof row.Names === 'string' ? (row.Names.split(',')[0] ?? '') : '',
        running: row.State === 'running',
        labels,
        hostPorts: typeof row.Ports === 'string' ? parsePortsColumn(row.Ports) : [],
      });
    }
    return out;
  }

  async remove(id: string): Promise<void> {
    if (this.socket !== null) {
      const a = await dockerApi(
        this.socket,
        'DELETE',
        `/containers/${encodeURIComponent(id)}?force=1&v=1`,
        Math.max(this.timeoutMs, 30_000),
      );
      if (!a.ok && a.status !== 404) {
        throw new Error(`docker API answered ${a.status}: ${a.body.trim().slice(0, 200)}`);
      }
      return;
    }
    const r = await runCli(
      this.cli ?? 'docker',
      ['rm', '-f', '-v', id],
      Math.max(this.timeoutMs, 30_000),
      this.env,
    );
    if (r.code !== 0 && !/no such container/i.test(r.stderr)) {
      throw new Error(`docker rm: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    }
  }

  /** true: running; false: no such container or not running; throws when the engine cannot tell. */
  async running(id: string): Promise<boolean> {
    if (this.socket !== null) {
      const a = await dockerApi(
        this.socket,
        'GET',
        `/containers/${encodeURIComponent(id)}/json`,
        this.timeoutMs,
      );
      if (a.status === 404) return false;
      if (!a.ok) throw new Error(`docker API answered ${a.status}`);
      const body: unknown = JSON.parse(a.body);
      return isRecord(body) && isRecord(body.State) && body.State.Running === true;
    }
    const r = await runCli(
      this.cli ?? 'docker',
      ['inspect', '--type', 'container', '--format', '{{.State.Running}}', id],
      this.timeoutMs,
      this.env,
    );
    if (r.code === 0) return r.stdout.trim() === 'true';
    if (/no such (container|object)/i.test(r.stderr)) return false;
    throw new Error(`docker inspect: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  }
}

/** Podman, through its CLI. */
class Podman {
  readonly name = 'podman' as const;
  constructor(
    private readonly cli: string,
    private readonly timeoutMs: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static find(env: NodeJS.ProcessEnv, timeoutMs: number): Podman | null {
    const cli = findOnPath('podman', env);
    return cli === null ? null : new Podman(cli, timeoutMs, env);
  }

  async list(all: boolean, label?: string): Promise<ContainerInfo[]> {
    // Starting podman costs tens of milliseconds: when its store holds no container at all,
    // there is nothing to list (the common case on a host where podman is merely installed).
    if (podmanStoreEmpty(this.env)) return [];
    const args = ['ps', '--format', 'json'];
    if (all) args.splice(1, 0, '-a');
    if (label !== undefined) args.splice(1, 0, '--filter', `label=${label}`);
    const r = await runCli(this.cli, args, this.timeoutMs, this.env);
    if (r.code !== 0) throw new Error(`podman ps: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    const rows: unknown = JSON.parse(r.stdout.trim() === '' ? '[]' : r.stdout);
    if (!Array.isArray(rows)) throw new Error('podman ps: not a list of containers');
    return rows.filter(isRecord).map((row) => {
      const hostPorts: number[] = [];
      for (const p of Array.isArray(row.Ports) ? row.Ports.filter(isRecord) : []) {
        if (p.protocol !== undefined && p.protocol !== 'tcp') continue;
        if (!validPort(p.host_port)) continue;
        const range = typeof p.range === 'number' && p.range > 1 ? Math.min(p.range, 65536) : 1;
        for (let i = 0; i < range && p.host_port + i <= 65535; i++) hostPorts.push(p.host_port + i);
      }
      const names = Array.isArray(row.Names) ? row.Names : [];
      return {
        engine: 'podman',
        id: typeof row.Id === 'string' ? row.Id : '',
        name: typeof names[0] === 'string' ? names[0] : '',
        running: row.State === 'running',
        labels: stringRecord(row.Labels),
        hostPorts,
      } satisfies ContainerInfo;
    });
  }

  async remove(id: string): Promise<void> {
    const r = await runCli(
      this.cli,
      ['rm', '-f', '-v', '--time', '0', id],
      Math.max(this.timeoutMs, 30_000),
      this.env,
    );
    if (r.code !== 0 && !/no such container/i.test(r.stderr)) {
      throw new Error(`podman rm: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    }
  }

  async running(id: string): Promise<boolean> {
    const r = await runCli(
      this.cli,
      ['container', 'inspect', '--format', '{{.State.Running}}', id],
      this.timeoutMs,
      this.env,
    );
    if (r.code === 0) return r.stdout.trim() === 'true';
    if (/no such (container|object)/i.test(r.stderr)) return false;
    throw new Error(`podman inspect: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  }
}

/**
 * true when rootful podman's store provably holds no container: every
 * `<graphroot>/<driver>-containers/containers.json` is an empty list. Anything unexpected
 * (not root, another graphroot that cannot be read, a file that does not parse) is false, so
 * podman itself is asked.
 */
export function podmanStoreEmpty(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.getuid?.() !== 0) return false;
  let graphroot = '/var/lib/containers/storage';
  try {
    const conf = readFileSync(
      env.CONTAINERS_STORAGE_CONF ?? '/etc/containers/storage.conf',
      'utf8',
    );
    const m = /^\s*graphroot\s*=\s*"([^"]+)"/m.exec(conf);
    if (m?.[1] !== undefined) graphroot = m[1];
  } catch {
    // no storage.conf: podman's default graphroot
  }
  try {
    const stores = readdirSync(graphroot).filter((n) => n.endsWith('-containers'));
    if (stores.length === 0) return !existsSync(join(graphroot, 'libpod'));
    return stores.every((d) => {
      const list: unknown = JSON.parse(readFileSync(join(graphroot, d, 'containers.json'), 'utf8'));
      return Array.isArray(list) && list.length === 0;
    });
  } catch (err) {
    // No store at all yet: podman has never made a container here.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(graphroot);
  }
}

type Engine = Docker | Podman;

/**
 * The engines to ask. By default podman only as root: for another user `podman ps` would
 * set up rootless storage as a side effect, and rootless podman publishes through a
 * process that binds the host port, which the socket probe sees anyway.
 */
function engines(opts: EngineOptions): Engine[] {
  const env = opts.env ?? process.env;
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const wanted =
    opts.engines ??
    (process.getuid?.() === 0 ? (['docker', 'podman'] as const) : (['docker'] as const));
  const out: Engine[] = [];
  for (const name of wanted) {
    const e = name === 'docker' ? Docker.find(env, timeout) : Podman.find(env, timeout);
    if (e !== null) out.push(e);
  }
  return out;
}

/**
 * Host TCP ports published by running containers (any container, portlease's or not), from
 * every engine asked. [] when no engine is installed or answering; never throws.
 */
export async function publishedPorts(opts: EngineOptions = {}): Promise<number[]> {
  const found = engines(opts);
  const results = await Promise.all(
    found.map(async (e) => {
      try {
        return (await e.list(false)).flatMap((c) => c.hostPorts);
      } catch (err) {
        opts.debug?.(`${e.name}: no published ports known: ${describeError(err)}`);
        return [];
      }
    }),
  );
  return [...new Set(results.flat())].sort((a, b) => a - b);
}

/** Containers (running or not) carrying the portlease lease label, from every engine asked. */
export async function leaseContainers(
  opts: EngineOptions & { warn?: (msg: string) => void } = {},
): Promise<ContainerInfo[]> {
  const found = engines(opts);
  const results = await Promise.all(
    found.map(async (e) => {
      try {
        return await e.list(true, LEASE_LABEL);
      } catch (err) {
        opts.warn?.(`${e.name}: cannot list containers: ${describeError(err)}`);
        return [];
      }
    }),
  );
  return results.flat();
}

export interface OrphanContainer {
  engine: EngineName;
  id: string;
  name: string;
  lease: string;
  /** false when removal failed (a warning says why) or in a dry run. */
  removed: boolean;
}

/**
 * Remove (`rm -f -v`) every container labelled `portlease.lease=<id>` whose lease is not in
 * `liveLeaseIds`. With `dryRun`, only say which. Never throws; failures become warnings.
 *
 * Give `liveLeaseIds` as a function to close a race: it is called after the containers are
 * listed, so a container step that leased and started its container meanwhile (lease
 * first, then `run`) is seen live and never removed.
 */
export async function removeOrphanContainers(
  /** null: the live set is not known for sure (a damaged registry read): remove nothing. */
  liveLeaseIds: Iterable<string> | (() => Promise<Iterable<string> | null>),
  opts: EngineOptions & {
    dryRun?: boolean;
    warn?: (msg: string) => void;
    /** Only containers whose REGISTRY_LABEL names this directory (leases elsewhere are not ours to judge). */
    registry?: string;
  } = {},
): Promise<OrphanContainer[]> {
  const registry = opts.registry === undefined ? undefined : resolve(opts.registry);
  const found: [Engine, ContainerInfo[]][] = [];
  for (const e of engines(opts)) {
    try {
      found.push([e, await e.list(true, LEASE_LABEL)]);
    } catch (err) {
      opts.warn?.(`${e.name}: cannot list containers: ${describeError(err)}`);
    }
  }
  if (found.every(([, list]) => list.length === 0)) return [];
  const ids = typeof liveLeaseIds === 'function' ? await liveLeaseIds() : liveLeaseIds;
  if (ids === null) return [];
  const live = new Set(ids);
  const out: OrphanContainer[] = [];
  for (const [e, list] of found) {
    for (const c of list) {
      const lease = c.labels[LEASE_LABEL];
      if (lease === undefined || c.id === '' || live.has(lease)) continue;
      if (registry !== undefined) {
        const theirs = c.labels[REGISTRY_LABEL];
        if (theirs === undefined || resolve(theirs) !== registry) continue;
      }
      const entry: OrphanContainer = {
        engine: e.name,
        id: c.id,
        name: c.name,
        lease,
        removed: false,
      };
      if (!opts.dryRun) {
        try {
          await e.remove(c.id);
          entry.removed = true;
        } catch (err) {
          opts.warn?.(
            `${e.name}: cannot remove container ${c.id.slice(0, 12)}: ${describeError(err)}`,
          );
        }
      }
      out.push(entry);
    }
  }
  return out;
}

/**
 * Liveness of a container owner (RegistryOptions.containerLiveness): 'alive' while an engine
 * says it runs; 'dead' only when it is provable from here: the same kernel boot (a job
 * container shares the host's boot id, not its hostname) and every engine on the host
 * answered that it is not running; or the same host with another boot id (rebooted).
 * Otherwise 'unknown' (another machine, or no engine answering): the TTL decides.
 */
export function containerLivenessChecker(
  opts: EngineOptions = {},
): (owner: Pick<ContainerOwner, 'id' | 'host' | 'boot'>) => Promise<Liveness> {
  return async (owner) => {
    const boot = bootId();
    if (owner.boot !== null && boot !== null) {
      if (owner.boot !== boot) return owner.host === hostname() ? 'dead' : 'unknown';
    } else if (owner.host !== hostname()) {
      return 'unknown';
    }
    const found = engines({ ...opts, engines: opts.engines ?? ENGINES });
    if (found.length === 0) return 'unknown';
    let unsure = false;
    for (const e of found) {
      try {
        if (await e.running(owner.id)) return 'alive';
      } catch {
        unsure = true;
      }
    }
    return unsure ? 'unknown' : 'dead';
  };
}

/** `containerLivenessChecker()` with default options, for RegistryOptions.containerLiveness. */
export function containerLiveness(owner: ContainerOwner): Promise<Liveness> {
  return containerLivenessChecker()(owner);
}
