/**
 * The one adapter for container engines (Docker, Podman). Everything portlease asks of an
 * engine goes through `ContainerEngine`: the core's hooks (host ports the engines publish,
 * whether a job container still runs), `portlease gc` (orphan service containers), the
 * container step and `portlease service` (run, inspect, health, logs, remove).
 *
 * Docker is asked through its API on the unix socket (`DOCKER_HOST=unix://...` or
 * /var/run/docker.sock) for the cheap queries when that socket exists, else through the
 * `docker` CLI (which also covers contexts and tcp:// hosts). Podman is asked through its
 * CLI. Nothing is ever run through a shell: every command is an argv array.
 *
 * Pure Node; no @actions/* import: the shells log what they want to show.
 */
import {
  accessSync,
  constants as fsConstants,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';
import { RuntimeError, UsageError } from '../core/errors.js';
import { firstLine, isRecord } from '../core/text.js';

export type EngineName = 'docker' | 'podman';
export const ENGINES: readonly EngineName[] = ['docker', 'podman'];

/** The label every portlease service container carries: its lease id. */
export const LEASE_LABEL = 'portlease.lease';
/** ...and the registry directory (absolute) that lease lives in. */
export const REGISTRY_LABEL = 'portlease.registry';

/** A container id as the engines print it. */
export const CONTAINER_ID = /^[0-9a-f]{12,64}$/;

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

export interface ContainerState {
  /** created, running, exited, dead, ... (or 'missing' when the engine knows no such container). */
  status: string;
  running: boolean;
  exitCode: number;
  /** HEALTHCHECK status (starting, healthy, unhealthy), or null when the image has none. */
  health: string | null;
}

export interface EngineOptions {
  env?: NodeJS.ProcessEnv;
  /** Per query. Default 3 s (removal: at least 30 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 3000;
const REMOVE_TIMEOUT_MS = 30_000;

/** A program on PATH, or null; no process is started to find out. */
export function findOnPath(program: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
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

interface ApiAnswer {
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
): Promise<ApiAnswer> {
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

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `file args` (never a shell); a timeout kills it (exit 124), a missing file is 127. */
async function runCommand(
  file: string,
  args: readonly string[],
  timeoutMs: number | undefined,
  env: NodeJS.ProcessEnv,
): Promise<CommandResult> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs ?? 0, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env },
      (err, stdout, stderr) => {
        const code =
          err === null ? 0 : typeof err.code === 'number' ? err.code : err.killed ? 124 : 127;
        resolve({ code, stdout, stderr });
      },
    );
  });
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

/** `docker ps --format '{{json .}}'` lines, normalised. */
function parseDockerPsLines(stdout: string): ContainerInfo[] {
  const out: ContainerInfo[] = [];
  for (const line of stdout.split('\n')) {
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

/** The Docker API's `GET /containers/json` rows, normalised. */
function parseDockerApiRows(body: string): ContainerInfo[] {
  const rows: unknown = JSON.parse(body);
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

/** `podman ps --format json`, normalised. */
function parsePodmanPs(stdout: string): ContainerInfo[] {
  const rows: unknown = JSON.parse(stdout.trim() === '' ? '[]' : stdout);
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

/**
 * true when rootful podman's store provably holds no container: every
 * `<graphroot>/<driver>-containers/containers.json` is an empty list. Anything unexpected
 * (not root, another graphroot that cannot be read, a file that does not parse) is false, so
 * podman itself is asked. Starting podman costs tens of milliseconds.
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

/** Does an engine's stderr say the container does not exist? */
const NO_SUCH = /no such (container|object)/i;

/** One container engine: Docker (API socket and/or CLI) or Podman (CLI). */
export class ContainerEngine {
  readonly name: EngineName;
  /** The CLI, or null when only Docker's API socket is there (queries only). */
  readonly cli: string | null;
  private readonly socket: string | null;
  private readonly timeoutMs: number;
  private readonly env: NodeJS.ProcessEnv;

  private constructor(
    name: EngineName,
    cli: string | null,
    socket: string | null,
    opts: EngineOptions,
  ) {
    this.name = name;
    this.cli = cli;
    this.socket = socket;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.env = opts.env ?? process.env;
  }

  /** The engine `name` as installed here (API socket or CLI), or null when absent. */
  static find(name: EngineName, opts: EngineOptions = {}): ContainerEngine | null {
    const env = opts.env ?? process.env;
    const cli = findOnPath(name, env);
    const socket = name === 'docker' ? dockerSocket(env) : null;
    if (cli === null && socket === null) return null;
    return new ContainerEngine(name, cli, socket, opts);
  }

  /** An engine at a known CLI path (the container step's post step, from its saved state). */
  static at(name: EngineName, cli: string, opts: EngineOptions = {}): ContainerEngine {
    return new ContainerEngine(name, cli, null, opts);
  }

  /**
   * Every engine to ask about the host (published ports, orphan containers, container
   * owners). By default podman only as root: for another user `podman ps` would set up
   * rootless storage as a side effect, and rootless podman publishes through a process that
   * binds the host port, which the socket probe sees anyway.
   */
  static present(
    opts: EngineOptions & { engines?: readonly EngineName[] } = {},
  ): ContainerEngine[] {
    const wanted = opts.engines ?? (process.getuid?.() === 0 ? ENGINES : (['docker'] as const));
    return wanted
      .map((n) => ContainerEngine.find(n, opts))
      .filter((e): e is ContainerEngine => e !== null);
  }

  /**
   * The engine that runs service containers: `docker` or `podman` as named (its CLI must be
   * on PATH), or `auto`: docker when its daemon answers, else podman.
   */
  static async choose(
    choice: EngineName | 'auto',
    opts: EngineOptions & { label?: string } = {},
  ): Promise<ContainerEngine> {
    const label = opts.label ?? 'engine';
    const env = opts.env ?? process.env;
    if (choice !== 'auto') {
      const path = findOnPath(choice, env);
      if (path === null) {
        throw new UsageError(
          `${label}: ${choice} is not installed (not found on PATH); install it or use ${choice === 'docker' ? 'podman' : 'docker'} or auto`,
        );
      }
      return ContainerEngine.at(choice, path, opts);
    }
    const docker = findOnPath('docker', env);
    const podman = findOnPath('podman', env);
    if (docker !== null) {
      const e = ContainerEngine.at('docker', docker, opts);
      if (podman === null || (await e.answers())) return e;
    }
    if (podman !== null) return ContainerEngine.at('podman', podman, opts);
    throw new UsageError(
      `${label}: neither docker nor podman is installed (not found on PATH); install one, or run on a host that has one`,
    );
  }

  private command(
    args: readonly string[],
    opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
  ): Promise<CommandResult> {
    if (this.cli === null) {
      return Promise.resolve({ code: 127, stdout: '', stderr: `${this.name}: no CLI on PATH` });
    }
    return runCommand(this.cli, args, opts.timeoutMs, opts.env ?? this.env);
  }

  private fail(what: string, r: CommandResult): RuntimeError {
    return new RuntimeError(
      `${this.name} ${what}: ${firstLine(r.stderr) || firstLine(r.stdout) || `exit ${r.code}`}`,
    );
  }

  /** Does the engine's daemon (or podman itself) answer? */
  async answers(): Promise<boolean> {
    const r = await this.command(['version', '--format', '{{.Server.Version}}'], {
      timeoutMs: 10_000,
    });
    return r.code === 0;
  }

  /** Containers, running (or with `all`, any), optionally only those with `label` (KEY or KEY=VALUE). */
  async list(opts: { all?: boolean; label?: string } = {}): Promise<ContainerInfo[]> {
    const all = opts.all === true;
    if (this.socket !== null) {
      const q = new URLSearchParams({ all: all ? '1' : '0' });
      if (opts.label !== undefined) q.set('filters', JSON.stringify({ label: [opts.label] }));
      const a = await dockerApi(
        this.socket,
        'GET',
        `/containers/json?${q.toString()}`,
        this.timeoutMs,
      );
      if (!a.ok) throw new Error(`docker API answered ${a.status}: ${a.body.trim().slice(0, 200)}`);
      return parseDockerApiRows(a.body);
    }
    if (this.name === 'podman' && podmanStoreEmpty(this.env)) return [];
    const args = ['ps'];
    if (all) args.push('-a');
    if (opts.label !== undefined) args.push('--filter', `label=${opts.label}`);
    args.push(
      ...(this.name === 'docker' ? ['--no-trunc', '--format', '{{json .}}'] : ['--format', 'json']),
    );
    const r = await this.command(args, { timeoutMs: this.timeoutMs });
    if (r.code !== 0) throw this.fail('ps', r);
    return this.name === 'docker' ? parseDockerPsLines(r.stdout) : parsePodmanPs(r.stdout);
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
    const s = await this.state(id, this.timeoutMs);
    return s.running;
  }

  /** Remove a container with its anonymous volumes, even when running (gone already: fine). */
  async remove(id: string): Promise<void> {
    const timeoutMs = Math.max(this.timeoutMs, REMOVE_TIMEOUT_MS);
    if (this.socket !== null) {
      const a = await dockerApi(
        this.socket,
        'DELETE',
        `/containers/${encodeURIComponent(id)}?force=1&v=1`,
        timeoutMs,
      );
      if (!a.ok && a.status !== 404) {
        throw new RuntimeError(`docker API answered ${a.status}: ${a.body.trim().slice(0, 200)}`);
      }
      return;
    }
    const args = ['rm', '-f', '-v', ...(this.name === 'podman' ? ['--time', '0'] : []), id];
    const r = await this.command(args, { timeoutMs });
    if (r.code !== 0 && !NO_SUCH.test(r.stderr)) throw this.fail(`rm ${id.slice(0, 12)}`, r);
  }

  /** Ids of every container (running or not) with label KEY=VALUE. */
  async idsByLabel(key: string, value: string): Promise<string[]> {
    const found = await this.list({ all: true, label: `${key}=${value}` });
    return found.map((c) => c.id).filter((id) => CONTAINER_ID.test(id));
  }

  /** `run -d ...`: the new container's id. `env` values reach the engine's environment only (never argv). */
  async run(args: readonly string[], env: readonly (readonly [string, string])[]): Promise<string> {
    const childEnv: NodeJS.ProcessEnv = { ...this.env };
    for (const [k, v] of env) childEnv[k] = v;
    const r = await this.command(['run', ...args], { env: childEnv });
    if (r.code !== 0) throw this.fail(`run failed (exit ${r.code})`, r);
    const id = r.stdout.trim().split('\n').pop()?.trim() ?? '';
    if (!CONTAINER_ID.test(id)) {
      throw new RuntimeError(`${this.name} run printed no container id: ${firstLine(r.stdout)}`);
    }
    return id;
  }

  async state(id: string, timeoutMs?: number): Promise<ContainerState> {
    const r = await this.command(['container', 'inspect', '--format', '{{json .State}}', id], {
      timeoutMs,
    });
    if (r.code !== 0) {
      if (NO_SUCH.test(r.stderr)) {
        return { status: 'missing', running: false, exitCode: -1, health: null };
      }
      throw this.fail(`inspect ${id.slice(0, 12)}`, r);
    }
    const s: unknown = JSON.parse(r.stdout.trim().split('\n')[0] ?? 'null');
    if (!isRecord(s)) throw new RuntimeError(`${this.name} inspect: unexpected answer`);
    const h = isRecord(s.Health) ? s.Health : isRecord(s.Healthcheck) ? s.Healthcheck : null;
    const health = h !== null && typeof h.Status === 'string' && h.Status !== '' ? h.Status : null;
    return {
      status: typeof s.Status === 'string' ? s.Status : 'unknown',
      running: s.Running === true,
      exitCode: typeof s.ExitCode === 'number' ? s.ExitCode : -1,
      health,
    };
  }

  /** Does the container's image (or its run options) define a HEALTHCHECK? */
  async hasHealthcheck(id: string): Promise<boolean> {
    const r = await this.command([
      'container',
      'inspect',
      '--format',
      '{{json .Config.Healthcheck}}',
      id,
    ]);
    if (r.code !== 0) return false;
    try {
      const h: unknown = JSON.parse(r.stdout.trim() || 'null');
      return isRecord(h) && Array.isArray(h.Test) && h.Test.length > 0 && h.Test[0] !== 'NONE';
    } catch {
      return false;
    }
  }

  /** Podman runs HEALTHCHECKs from systemd timers, absent on many hosts: run one now. */
  async runHealthcheck(id: string): Promise<void> {
    if (this.name === 'podman') await this.command(['healthcheck', 'run', id]);
  }

  /** Run a command in the container; its exit code and last output line. */
  async execIn(id: string, cmd: readonly string[]): Promise<{ code: number; output: string }> {
    const r = await this.command(['exec', id, ...cmd]);
    const out = (r.stderr.trim() || r.stdout.trim()).split('\n').pop() ?? '';
    return { code: r.code, output: out.slice(0, 200) };
  }

  /** The container's last `tail` log lines (stdout and stderr as the engine keeps them). */
  async logs(id: string, tail: number): Promise<string> {
    const r = await this.command(['logs', '--tail', String(tail), id]);
    if (r.code !== 0) throw this.fail('logs', r);
    return [r.stdout, r.stderr].filter((s) => s.trim() !== '').join('\n');
  }
}
