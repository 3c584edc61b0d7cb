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
 * Pure Node; no @actions/* import: the shells log what they want to show. Beside it:
 * command.ts (running the CLI), docker-api.ts (the API socket), ps.ts (container lists).
 */
import { RuntimeError, UsageError } from '../core/errors.js';
import { firstLine, isRecord } from '../core/text.js';
import { findOnPath, runCommand, type CommandResult } from './command.js';
import { dockerApi, dockerSocket } from './docker-api.js';
import {
  parseDockerApiRows,
  parseDockerPsLines,
  parsePodmanPs,
  podmanStoreEmpty,
  type ContainerInfo,
} from './ps.js';

export type EngineName = 'docker' | 'podman';
export const ENGINES: readonly EngineName[] = ['docker', 'podman'];

/** The label every portlease service container carries: its lease id. */
export const LEASE_LABEL = 'portlease.lease';
/** ...and the registry directory (absolute) that lease lives in. */
export const REGISTRY_LABEL = 'portlease.registry';

/** A container id as the engines print it. */
export const CONTAINER_ID = /^[0-9a-f]{12,64}$/;

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
