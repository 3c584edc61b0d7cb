/**
 * The container step's main: lease a host port, run the service container on it, wait
 * until it answers. On any failure after the lease: the container's logs, the container
 * removed, the lease released, the step failed.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import * as core from '@actions/core';
import { defaultKey, errorLine, githubRegistry, runLabels, runnerOwner } from '../github/lease.js';
import { formatDuration, RuntimeError, type Registry } from '../registry/index.js';
import { LEASE_LABEL, REGISTRY_LABEL } from '../registry/containers.js';
import { Engine, printUntrusted } from './engine.js';
import { getInputs, type ContainerInputs } from './inputs.js';
import { saveState, type ContainerStepState } from './state.js';

/** Log lines shown when the service never became healthy. */
const FAILURE_LOG_LINES = 200;

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
      sock.once('end', () => {
        finish('the connection was closed at once (not listening yet)');
      });
      sock.once('close', () => {
        finish('the connection was closed at once (not listening yet)');
      });
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

function describeHealth(inputs: ContainerInputs, port: number): string {
  switch (inputs.health) {
    case 'tcp':
      return `127.0.0.1:${port} to accept TCP connections`;
    case 'http':
      return `127.0.0.1:${port} to answer HTTP`;
    case 'docker':
      return "the image's HEALTHCHECK to report healthy";
    case 'cmd':
      return `\`${inputs.healthCmd.join(' ')}\` to succeed in the container`;
    case 'none':
      return 'nothing';
  }
}

class HealthFailure extends RuntimeError {}

/** Wait until the service is ready; throws HealthFailure on timeout or early exit. */
async function waitHealthy(
  engine: Engine,
  id: string,
  inputs: ContainerInputs,
  port: number,
): Promise<void> {
  const started = Date.now();
  const deadline = started + inputs.healthTimeoutMs;
  const what = describeHealth(inputs, port);
  if (inputs.health === 'docker' && !(await engine.hasHealthcheck(id))) {
    throw new HealthFailure(
      `health: docker: ${inputs.image} has no HEALTHCHECK; use health: tcp, http or cmd, or add --health-cmd to options`,
    );
  }
  core.info(`Waiting up to ${formatDuration(inputs.healthTimeoutMs)} for ${what}`);
  const check: Check =
    inputs.health === 'tcp'
      ? tcpCheck(port)
      : inputs.health === 'http'
        ? httpCheck(port)
        : inputs.health === 'cmd'
          ? async () => {
              const r = await engine.execIn(id, inputs.healthCmd);
              return r.code === 0 ? null : `exit ${r.code}${r.output ? `: ${r.output}` : ''}`;
            }
          : inputs.health === 'docker'
            ? async () => {
                await engine.runHealthcheck(id);
                const s = await engine.state(id);
                if (s.health === 'unhealthy') {
                  throw new HealthFailure(
                    `${inputs.image} reported unhealthy (its HEALTHCHECK failed its retries)`,
                  );
                }
                return s.health === 'healthy' ? null : `health status ${s.health ?? 'none'}`;
              }
            : () => Promise.resolve(null);
  let pause = 250;
  let lastReport = started;
  for (;;) {
    const s = await engine.state(id);
    if (!s.running) {
      throw new HealthFailure(
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
      core.info(`Ready after ${(elapsed / 1000).toFixed(1)}s (health: ${inputs.health})`);
      return;
    }
    if (Date.now() >= deadline) {
      throw new HealthFailure(
        `${inputs.image} was not ready after ${formatDuration(inputs.healthTimeoutMs)} (health-timeout): last check: ${why}`,
      );
    }
    if (Date.now() - lastReport >= 5000) {
      core.info(`  still waiting (${Math.round(elapsed / 1000)}s): ${why}`);
      lastReport = Date.now();
    }
    await sleep(Math.min(pause, Math.max(0, deadline - Date.now())));
    pause = Math.min(pause * 2, 2000);
  }
}

function runArgs(
  inputs: ContainerInputs,
  leaseId: string,
  port: number,
  env: NodeJS.ProcessEnv,
): string[] {
  const args = ['-d', '--label', `${LEASE_LABEL}=${leaseId}`];
  args.push('--label', `${REGISTRY_LABEL}=${inputs.lease.registry}`);
  for (const [k, v] of Object.entries(runLabels(env))) args.push('--label', `portlease.${k}=${v}`);
  args.push('-p', `127.0.0.1:${port}:${inputs.containerPort}/tcp`);
  args.push('--pull', inputs.pull);
  // Values go through the engine's environment (`-e KEY` alone), never on a command line.
  for (const [k] of inputs.env) args.push('-e', k);
  args.push(...inputs.options, inputs.image, ...inputs.args);
  return args;
}

/** Remove the container(s) of this lease, show logs first; then release the lease. Warnings only. */
async function cleanUp(
  engine: Engine,
  registry: Registry,
  state: ContainerStepState,
  showLogs: boolean,
): Promise<void> {
  const ids = new Set<string>();
  if (state.container !== null) ids.add(state.container);
  try {
    for (const id of await engine.idsByLabel(LEASE_LABEL, state.lease)) ids.add(id);
  } catch (err) {
    core.warning(`cannot list the lease's containers: ${errorLine(err)}`);
  }
  for (const id of ids) {
    if (showLogs) {
      await core.group(`Logs of container ${id.slice(0, 12)}`, async () => {
        try {
          printUntrusted(await engine.logs(id, FAILURE_LOG_LINES));
        } catch (err) {
          core.info(`(no logs: ${errorLine(err)})`);
        }
      });
    }
    try {
      await engine.remove(id);
      core.info(`Removed container ${id.slice(0, 12)}`);
    } catch (err) {
      core.warning(`cannot remove container ${id.slice(0, 12)}: ${errorLine(err)}`);
    }
  }
  if (state.ownLease) {
    try {
      await registry.release({ lease: state.lease });
      core.info(`Released lease ${state.lease}`);
    } catch (err) {
      core.warning(`cannot release lease ${state.lease}: ${errorLine(err)}`);
    }
  }
  saveState({ ...state, cleaned: true });
}

export async function run(): Promise<void> {
  try {
    const inputs = getInputs();
    const env = process.env;
    const engine = await Engine.resolve(inputs.engine, env);
    const ctx = runnerOwner(inputs.lease.registry);
    const key = inputs.lease.key ?? defaultKey(env, ctx.owner);
    const registry = githubRegistry(inputs.lease.registry);
    core.debug(ctx.describe);

    const { lease, reused } = await core.group('Lease a host port', async () => {
      const a = await registry.allocate({
        names: [inputs.name],
        range: inputs.lease.range,
        key,
        strategy: inputs.lease.strategy,
        ttlMs: inputs.lease.ttlMs,
        waitMs: inputs.lease.waitMs,
        owner: ctx.owner,
        labels: { ...runLabels(env), image: inputs.image.slice(0, 200) },
      });
      core.info(
        `${a.reused ? 'Kept' : 'Leased'} ${inputs.name}=${String(a.lease.ports[inputs.name])} (lease ${a.lease.id}, key ${a.lease.key}); ${ctx.describe}`,
      );
      return a;
    });
    const port = lease.ports[inputs.name];
    if (port === undefined) throw new RuntimeError(`lease ${lease.id} has no port ${inputs.name}`);
    const state: ContainerStepState = {
      lease: lease.id,
      key: lease.key,
      registry: registry.dir,
      engine: engine.name,
      enginePath: engine.path,
      container: null,
      ownLease: !reused,
      cleaned: false,
    };
    saveState(state);

    if (reused) {
      const others = await engine.idsByLabel(LEASE_LABEL, lease.id);
      if (others.length > 0) {
        state.ownLease = false;
        state.cleaned = true;
        saveState(state);
        throw new RuntimeError(
          `key: ${JSON.stringify(lease.key)} already holds lease ${lease.id} with container ${others[0]?.slice(0, 12) ?? ''} on port ${port}; give each container step its own key`,
        );
      }
    }

    try {
      await core.group(`Start ${inputs.image} on 127.0.0.1:${port}`, async () => {
        state.container = await engine.run(runArgs(inputs, lease.id, port, env), inputs.env);
        saveState(state);
        core.info(`Container ${state.container} (${engine.name})`);
        await waitHealthy(engine, state.container, inputs, port);
      });
    } catch (err) {
      core.info(`Failed: ${errorLine(err)}; cleaning up`);
      await cleanUp(engine, registry, state, true);
      throw err;
    }

    core.setOutput('port', String(port));
    core.setOutput('container-id', state.container ?? '');
    core.setOutput('lease', lease.id);
    core.exportVariable(inputs.name, String(port));
    core.info(
      `${inputs.name}=${port}: ${inputs.image} answers on 127.0.0.1:${port} (container ${(state.container ?? '').slice(0, 12)}, lease ${lease.id})`,
    );
  } catch (err) {
    core.setFailed(errorLine(err));
  }
}
