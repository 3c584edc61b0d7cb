/**
 * The container engine (docker or podman) as the container step drives it: every call
 * through @actions/exec with an argv array, never a shell.
 */
import { randomBytes } from 'node:crypto';
import * as core from '@actions/core';
import { getExecOutput, type ExecOutput } from '@actions/exec';
import { RuntimeError, UsageError } from '../registry/index.js';
import { findOnPath, type EngineName } from '../registry/containers.js';

export interface ContainerState {
  /** created, running, exited, dead, ... (or 'missing' when the engine knows no such container). */
  status: string;
  running: boolean;
  exitCode: number;
  /** HEALTHCHECK status (starting, healthy, unhealthy), or null when the image has none. */
  health: string | null;
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An argument as a shell would need it written (for display only: nothing runs a shell). */
export function quoteForDisplay(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Print untrusted text (container output) with workflow commands switched off. */
export function printUntrusted(text: string): void {
  const token = randomBytes(16).toString('hex');
  if (text.trim() === '') {
    core.info('(no output)');
    return;
  }
  core.info(`::stop-commands::${token}`);
  for (const line of text.replace(/\n$/, '').split('\n')) core.info(line);
  core.info(`::${token}::`);
}

export class Engine {
  constructor(
    readonly name: EngineName,
    readonly path: string,
  ) {}

  /** Find the engine to use: `docker`/`podman` on PATH; `auto`: docker when its daemon answers, else podman. */
  static async resolve(choice: EngineName | 'auto', env = process.env): Promise<Engine> {
    if (choice !== 'auto') {
      const path = findOnPath(choice, env);
      if (path === null) {
        throw new UsageError(
          `engine: ${choice} is not installed (not found on PATH); install it or use engine: ${choice === 'docker' ? 'podman' : 'docker'} or auto`,
        );
      }
      return new Engine(choice, path);
    }
    const docker = findOnPath('docker', env);
    const podman = findOnPath('podman', env);
    if (docker !== null) {
      const e = new Engine('docker', docker);
      if (podman === null || (await e.answers())) return e;
    }
    if (podman !== null) return new Engine('podman', podman);
    throw new UsageError(
      'engine: neither docker nor podman is installed (not found on PATH); install one, or run this step on a runner that has one',
    );
  }

  private exec(args: string[], opts: { env?: Record<string, string> } = {}): Promise<ExecOutput> {
    return getExecOutput(this.path, args, {
      silent: true,
      ignoreReturnCode: true,
      env: opts.env,
    });
  }

  /** Does the engine's daemon (or podman itself) answer? */
  async answers(): Promise<boolean> {
    const r = await this.exec(['version', '--format', '{{.Server.Version}}']);
    return r.exitCode === 0;
  }

  /** `run -d ...`: the new container's id. `env` values reach the engine's environment only (never argv). */
  async run(args: string[], env: [string, string][]): Promise<string> {
    const childEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) childEnv[k] = v;
    for (const [k, v] of env) childEnv[k] = v;
    core.info(`[command]${this.name} run ${args.map(quoteForDisplay).join(' ')}`);
    const r = await this.exec(['run', ...args], { env: childEnv });
    if (r.exitCode !== 0) {
      throw new RuntimeError(
        `${this.name} run failed (exit ${r.exitCode}): ${firstLine(r.stderr) || firstLine(r.stdout) || 'no message'}`,
      );
    }
    const id = r.stdout.trim().split('\n').pop()?.trim() ?? '';
    if (!/^[0-9a-f]{12,64}$/.test(id)) {
      throw new RuntimeError(`${this.name} run printed no container id: ${firstLine(r.stdout)}`);
    }
    return id;
  }

  async state(id: string): Promise<ContainerState> {
    const r = await this.exec(['container', 'inspect', '--format', '{{json .State}}', id]);
    if (r.exitCode !== 0) {
      if (/no such (container|object)/i.test(r.stderr)) {
        return { status: 'missing', running: false, exitCode: -1, health: null };
      }
      throw new RuntimeError(`${this.name} inspect ${id.slice(0, 12)}: ${firstLine(r.stderr)}`);
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
    const r = await this.exec([
      'container',
      'inspect',
      '--format',
      '{{json .Config.Healthcheck}}',
      id,
    ]);
    if (r.exitCode !== 0) return false;
    try {
      const h: unknown = JSON.parse(r.stdout.trim() || 'null');
      return isRecord(h) && Array.isArray(h.Test) && h.Test.length > 0 && h.Test[0] !== 'NONE';
    } catch {
      return false;
    }
  }

  /** Podman runs HEALTHCHECKs from systemd timers, absent on many runners: run one now. */
  async runHealthcheck(id: string): Promise<void> {
    if (this.name === 'podman') await this.exec(['healthcheck', 'run', id]);
  }

  /** Run a command in the container; its exit code and last output line. */
  async execIn(id: string, cmd: string[]): Promise<{ code: number; output: string }> {
    const r = await this.exec(['exec', id, ...cmd]);
    const out = (r.stderr.trim() || r.stdout.trim()).split('\n').pop() ?? '';
    return { code: r.exitCode, output: out.slice(0, 200) };
  }

  /** The container's last `tail` log lines (stdout and stderr interleaved as the engine keeps them). */
  async logs(id: string, tail: number): Promise<string> {
    const r = await this.exec(['logs', '--tail', String(tail), id]);
    if (r.exitCode !== 0) {
      throw new RuntimeError(`${this.name} logs: ${firstLine(r.stderr) || `exit ${r.exitCode}`}`);
    }
    return [r.stdout, r.stderr].filter((s) => s.trim() !== '').join('\n');
  }

  /** `rm -f -v`: gone afterwards (a container already gone is fine). */
  async remove(id: string): Promise<void> {
    const args =
      this.name === 'podman' ? ['rm', '-f', '-v', '--time', '0', id] : ['rm', '-f', '-v', id];
    const r = await this.exec(args);
    if (r.exitCode !== 0 && !/no such container/i.test(r.stderr)) {
      throw new RuntimeError(`${this.name} rm ${id.slice(0, 12)}: ${firstLine(r.stderr)}`);
    }
  }

  /** Ids of every container (running or not) with label KEY=VALUE. */
  async idsByLabel(key: string, value: string): Promise<string[]> {
    const r = await this.exec([
      'ps',
      '-a',
      '-q',
      '--no-trunc',
      '--filter',
      `label=${key}=${value}`,
    ]);
    if (r.exitCode !== 0) {
      throw new RuntimeError(`${this.name} ps: ${firstLine(r.stderr) || `exit ${r.exitCode}`}`);
    }
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^[0-9a-f]{12,64}$/.test(l));
  }
}
