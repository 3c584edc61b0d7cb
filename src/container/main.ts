/**
 * The container step's main: lease a host port, run the service container on it, wait
 * until it answers (src/engines/service.ts). On any failure after the lease: the
 * container's logs, the container removed, the lease released, the step failed.
 */
import * as core from '@actions/core';
import { describeError, RuntimeError } from '../core/index.js';
import { ContainerEngine, LEASE_LABEL } from '../engines/engine.js';
import { startService, stopService } from '../engines/service.js';
import { runnerOwner } from '../job/job.js';
import { defaultKey, runLabels } from '../job/key.js';
import { createHostRegistry } from '../job/host-registry.js';
import { getInputs } from './inputs.js';
import { stepLog } from './log.js';
import { saveState, type ContainerStepState } from './state.js';

export async function run(): Promise<void> {
  try {
    const inputs = getInputs();
    const env = process.env;
    const engine = await ContainerEngine.choose(inputs.engine, { env });
    const ctx = runnerOwner(inputs.lease.registry);
    const key = inputs.lease.key ?? defaultKey(env, ctx.owner);
    const registry = createHostRegistry(inputs.lease.registry, {
      warn: core.warning,
      debug: core.debug,
    });
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
      enginePath: engine.cli ?? '',
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
      await startService(
        engine,
        inputs,
        { id: lease.id, registry: registry.dir, port, labels: runLabels(env) },
        stepLog,
        (container) => {
          state.container = container;
          saveState(state);
        },
      );
    } catch (err) {
      core.info(`Failed: ${describeError(err)}; cleaning up`);
      await stopService(
        engine,
        registry,
        { lease: lease.id, container: state.container, release: state.ownLease },
        stepLog,
      );
      saveState({ ...state, cleaned: true });
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
    core.setFailed(describeError(err));
  }
}
