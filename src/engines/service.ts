/**
 * A service container on a leased host port, from start to removal: the one implementation
 * behind the container step (src/container) and `portlease service` (src/cli).
 *
 * start: run the image detached with the leased port published on 127.0.0.1 and the
 * portlease labels (`portlease.lease`, `portlease.registry`), then wait until it is ready
 * (TCP, HTTP, its HEALTHCHECK, a command in it, or nothing). On failure the caller gets a
 * `ServiceFailure` after the logs were shown; `stop` removes the container(s) of the lease
 * (with volumes) and releases the lease when it is the caller's.
 *
 * The shells decide how things are shown through `ServiceLog` (core.group / core.info in
 * the action, plain stderr lines in the CLI).
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, RuntimeError } from '../core/errors.js';
import { formatDuration } from '../core/parse.js';
import type { Registry } from '../core/index.js';
import { ContainerEngine, LEASE_LABEL, REGISTRY_LABEL } from './engine.js';
import type { ServiceSpec } from './spec.js';

export interface ServiceLog {
  info(msg: string): void;
  warn(msg: string): void;
  /** Run `fn` as one phase: a collapsible group in the action, a heading line in the CLI. */
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
  /** Text that came from the container (the action switches workflow commands off). */
  untrusted(text: string): void;
}

/** Log lines shown when the service never became ready. */
export const FAILURE_LOG_LINES = 200;

/** A service that did not become ready (the container exited, timed out, unhealthy). */
export class ServiceFailure extends RuntimeError {}

/** An argument as a shell would need it written (for display only: nothing runs a shell). */
export function quoteForDisplay(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** One readiness check: null when ready, else why not (for the progress line). */
type Check = () => Promise<string | null>;

/**
 * A TCP connection to the published port that stays open. Docker's userland proxy accepts
 * on the host port even before the service listens, then closes at once: a connection the
 * peer closes within `settleMs` is not ready.
 */
export function tcpCheck(port: number, settleMs = 500): Check {
  return () =>
    new Promise((resolve) => {
      const sock = connect({ host: '127.0.0.1', port });
      let done = false;
      const finish = (why: string | null): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        resolve(why);
      };
      const timer = setTimeout(() => {
        finish('no answer to a TCP connection within 5s');
      }, 5000);
      sock.once('connect', () => {
        clearTimeout(timer);
        setTimeout(() => {
          finish(null);
        }, settleMs);
      });
      const closed = (): void => {
        finish('the connection was closed at once (not listening yet)');
      };
      sock.once('end', closed);
      sock.once('close', closed);
      sock.once('error', (err: NodeJS.ErrnoException) => {
        finish(err.code === 'ECONNREFUSED' ? 'connection refused' : `TCP: ${err.message}`);
      });
    });
}

/** Any HTTP response to GET / on the published port. */
export function httpCheck(port: number): Check {
  return () =>
    new Promise((resolve) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/', method: 'GET', timeout: 5000 },
        (res) => {
          res.resume();
          resolve(null);
        },
      );
      req.once('timeout', () => req.destroy(new Error('no HTTP answer within 5s')));
      req.once('error', (err: NodeJS.ErrnoException) => {
        resolve(err.code === 'ECONNREFUSED' ? 'connection refused' : `HTTP: ${err.message}`);
      });
      req.end();
    });
}

function describeHealth(spec: ServiceSpec, port: number): string {
  switch (spec.health) {
    case 'tcp':
      return `127.0.0.1:${port} to accept TCP connections`;
    case 'http':
      return `127.0.0.1:${port} to answer HTTP`;
    case 'docker':
      return "the image's HEALTHCHECK to report healthy";
    case 'cmd':
      return `\`${spec.healthCmd.join(' ')}\` to succeed in the container`;
    case 'none':
      return 'nothing';
  }
}

function healthCheck(engine: ContainerEngine, id: string, spec: ServiceSpec, port: number): Check {
  switch (spec.health) {
    case 'tcp':
      return tcpCheck(port);
    case 'http':
      return httpCheck(port);
    case 'cmd':
      return async () => {
        const r = await engine.execIn(id, spec.healthCmd);
        return r.code === 0 ? null : `exit ${r.code}${r.output ? `: ${r.output}` : ''}`;
      };
    case 'docker':
      return async () => {
        await engine.runHealthcheck(id);
        const s = await engine.state(id);
        if (s.health === 'unhealthy') {
          throw new ServiceFailure(
            `${spec.image} reported unhealthy (its HEALTHCHECK failed its retries)`,
          );
        }
        return s.health === 'healthy' ? null : `health status ${s.health ?? 'none'}`;
      };
    case 'none':
      return () => Promise.resolve(null);
  }
}

/** Wait until the service is ready; throws ServiceFailure on timeout or early exit. */
async function waitReady(
  engine: ContainerEngine,
  id: string,
  spec: ServiceSpec,
  port: number,
  log: ServiceLog,
): Promise<void> {
  const started = Date.now();
  const deadline = started + spec.healthTimeoutMs;
  if (spec.health === 'docker' && !(await engine.hasHealthcheck(id))) {
    throw new ServiceFailure(
      `health: docker: ${spec.image} has no HEALTHCHECK; use health tcp, http or cmd, or add --health-cmd to the options`,
    );
  }
  log.info(
    `Waiting up to ${formatDuration(spec.healthTimeoutMs)} for ${describeHealth(spec, port)}`,
  );
  const check = healthCheck(engine, id, spec, port);
  let pause = 250;
  let lastReport = started;
  for (;;) {
    const s = await engine.state(id);
    if (!s.running) {
      throw new ServiceFailure(
        s.status === 'missing'
          ? `the container ${id.slice(0, 12)} disappeared before it was ready`
          : `the container exited (status ${s.status}, exit code ${s.exitCode}) before it was ready`,
      );
    }
    // A check that hangs (an exec that never returns) ends with the deadline.
    const limit = Math.max(deadline - Date.now(), 1000) + 5000;
    const ac = new AbortController();
    const why = await Promise.race([
      check(),
      sleep(limit, `the check did not finish within ${Math.round(limit / 1000)}s`, {
        signal: ac.signal,
      }).catch(() => 'aborted'),
    ]);
    ac.abort();
    const elapsed = Date.now() - started;
    if (why === null) {
      log.info(`Ready after ${(elapsed / 1000).toFixed(1)}s (health: ${spec.health})`);
      return;
    }
    if (Date.now() >= deadline) {
      throw new ServiceFailure(
        `${spec.image} was not ready after ${formatDuration(spec.healthTimeoutMs)} (health-timeout): last check: ${why}`,
      );
    }
    if (Date.now() - lastReport >= 5000) {
      log.info(`  still waiting (${Math.round(elapsed / 1000)}s): ${why}`);
      lastReport = Date.now();
    }
    await sleep(Math.min(pause, Math.max(0, deadline - Date.now())));
    pause = Math.min(pause * 2, 2000);
  }
}

/** The `run` arguments: detached, labelled, the leased port published on 127.0.0.1. */
export function runArgs(
  spec: ServiceSpec,
  lease: { id: string; registry: string; port: number; labels: Record<string, string> },
): string[] {
  const args = ['-d', '--label', `${LEASE_LABEL}=${lease.id}`];
  args.push('--label', `${REGISTRY_LABEL}=${lease.registry}`);
  for (const [k, v] of Object.entries(lease.labels)) args.push('--label', `portlease.${k}=${v}`);
  args.push('-p', `127.0.0.1:${lease.port}:${spec.containerPort}/tcp`);
  args.push('--pull', spec.pull);
  // Values go through the engine's environment (`-e KEY` alone), never on a command line.
  for (const [k] of spec.env) args.push('-e', k);
  args.push(...spec.options, spec.image, ...spec.args);
  return args;
}

export interface StartedService {
  container: string;
}

/**
 * Run the service container for `lease` on `port` and wait until it is ready. `started` is
 * told the container id as soon as the engine prints it (so a shell can save it before the
 * wait). On failure: the logs are shown, and ServiceFailure or the engine's error is
 * thrown; removing the container and releasing the lease is the caller's `stop`.
 */
export async function startService(
  engine: ContainerEngine,
  spec: ServiceSpec,
  lease: { id: string; registry: string; port: number; labels: Record<string, string> },
  log: ServiceLog,
  started: (container: string) => void = () => undefined,
): Promise<StartedService> {
  const made: { id: string | null } = { id: null };
  try {
    await log.group(`Start ${spec.image} on 127.0.0.1:${lease.port}`, async () => {
      const args = runArgs(spec, lease);
      log.info(`[command]${engine.name} run ${args.map(quoteForDisplay).join(' ')}`);
      const id = await engine.run(args, spec.env);
      made.id = id;
      started(id);
      log.info(`Container ${id} (${engine.name})`);
      await waitReady(engine, id, spec, lease.port, log);
    });
  } catch (err) {
    // Outside the phase's group: groups do not nest in a job log.
    if (made.id !== null) await showLogs(engine, made.id, FAILURE_LOG_LINES, log);
    throw err;
  }
  if (made.id === null) throw new RuntimeError(`${engine.name} run printed no container id`);
  return { container: made.id };
}

/** The container's last `lines` log lines, in a group; never throws. */
export async function showLogs(
  engine: ContainerEngine,
  container: string,
  lines: number,
  log: ServiceLog,
): Promise<void> {
  await log.group(`Last ${lines} log lines of container ${container.slice(0, 12)}`, async () => {
    try {
      log.untrusted(await engine.logs(container, lines));
    } catch (err) {
      log.info(`(no logs: ${describeError(err)})`);
    }
  });
}

export interface StopRequest {
  lease: string;
  /** The container the caller knows of (null: find it by the lease label only). */
  container: string | null;
  /** Release the lease too (false when it was handed back for a key and is not ours). */
  release: boolean;
  /** Show this many log lines of each container first (0: none). */
  logLines?: number;
}

/**
 * Remove every container of the lease (the known one and any labelled with it), with its
 * volumes, then release the lease. Never throws: each failure is a warning. Returns the
 * ids removed.
 */
export async function stopService(
  engine: ContainerEngine,
  registry: Registry,
  req: StopRequest,
  log: ServiceLog,
): Promise<string[]> {
  const ids = new Set<string>();
  if (req.container !== null) ids.add(req.container);
  try {
    for (const id of await engine.idsByLabel(LEASE_LABEL, req.lease)) ids.add(id);
  } catch (err) {
    log.warn(`cannot list the containers of lease ${req.lease}: ${describeError(err)}`);
  }
  const removed: string[] = [];
  for (const id of ids) {
    if ((req.logLines ?? 0) > 0) await showLogs(engine, id, req.logLines ?? 0, log);
    try {
      await engine.remove(id);
      removed.push(id);
      log.info(`Removed container ${id.slice(0, 12)} and its volumes`);
    } catch (err) {
      log.warn(`cannot remove container ${id.slice(0, 12)}: ${describeError(err)}`);
    }
  }
  if (ids.size === 0) log.info(`No container of lease ${req.lease} is left`);
  if (req.release) {
    try {
      const released = await registry.release({ lease: req.lease });
      log.info(
        released === null
          ? `Lease ${req.lease} was already gone`
          : `Released lease ${req.lease} (${Object.entries(released.ports)
              .map(([n, p]) => `${n}=${p}`)
              .join(' ')})`,
      );
    } catch (err) {
      log.warn(`cannot release lease ${req.lease}: ${describeError(err)}`);
    }
  }
  return removed;
}
