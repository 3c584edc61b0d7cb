/**
 * The action's main step: lease the named ports for this job, hand them to later steps
 * (outputs, environment) and save the lease for the post step, which releases it.
 */
import * as core from '@actions/core';
import { describeError, formatDuration, formatRange, type Lease } from '../registry/index.js';
import { runnerOwner } from '../runner/job.js';
import { defaultKey, runLabels } from '../runner/key.js';
import { createHostRegistry } from '../runner/registry.js';
import { getInputs, type ActionInputs } from './inputs.js';
import { saveLeaseState } from './state.js';
import { writeSummary } from './summary.js';

function describeInputs(i: ActionInputs): string {
  return [
    `ports=${i.names.join(',')}`,
    `range=${formatRange(i.range)}`,
    `contiguous=${i.contiguous}`,
    `key=${i.key ?? '(default)'}`,
    `strategy=${i.strategy}`,
    `ttl=${formatDuration(i.ttlMs)}`,
    `wait=${i.waitMs === 0 ? '0' : formatDuration(i.waitMs)}`,
    `registry=${i.registry}`,
    `export-env=${i.exportEnv}`,
  ].join(' ');
}

function publish(lease: Lease, exportEnv: boolean): void {
  for (const [name, port] of Object.entries(lease.ports)) {
    core.setOutput(name, String(port));
    if (exportEnv) core.exportVariable(name, String(port));
    core.info(`${name}=${port}`);
  }
  core.setOutput('ports', JSON.stringify(lease.ports));
  core.setOutput('lease', lease.id);
}

export async function run(): Promise<void> {
  try {
    // Everything is parsed and checked before the registry is touched.
    const inputs = getInputs();
    core.debug(`inputs: ${describeInputs(inputs)}`);
    const job = runnerOwner(inputs.registry);
    core.debug(job.describe);
    const key = inputs.key ?? defaultKey(process.env, job.owner);
    core.debug(
      `key: ${key}${inputs.key === undefined ? ' (default: unique to this job and step)' : ' (from the key input)'}`,
    );

    const registry = createHostRegistry(inputs.registry, { warn: core.warning, debug: core.debug });
    const { lease, reused } = await core.group(
      `Leasing ${inputs.names.length} port${inputs.names.length === 1 ? '' : 's'} from ${inputs.registry}`,
      async () => {
        const allocation = await registry.allocate({
          names: inputs.names,
          range: inputs.range,
          contiguous: inputs.contiguous,
          key,
          strategy: inputs.strategy,
          ttlMs: inputs.ttlMs,
          waitMs: inputs.waitMs,
          owner: job.owner,
          labels: runLabels(),
        });
        // Saved first, so the post step releases the lease whatever fails after this.
        try {
          saveLeaseState({ lease: allocation.lease.id, key, registry: inputs.registry });
        } catch (err) {
          if (!allocation.reused) await registry.release({ lease: allocation.lease.id });
          throw err;
        }
        core.info(
          `${allocation.reused ? 'Handed back' : 'Leased'} ${allocation.lease.id} (key ${key}), ${job.describe}; expires ${allocation.lease.expires ?? 'never'}`,
        );
        return allocation;
      },
    );
    core.debug(
      reused ? `this job already held ${lease.id}: same ports as before` : `new lease ${lease.id}`,
    );

    await core.group('Ports', () => {
      publish(lease, inputs.exportEnv);
      core.debug(
        inputs.exportEnv
          ? 'exported NAME=PORT to later steps'
          : 'export-env is false: outputs only',
      );
      return Promise.resolve();
    });

    try {
      await writeSummary(lease, inputs.registry, reused);
    } catch (err) {
      core.debug(`job summary not written: ${describeError(err)}`);
    }
  } catch (err) {
    core.setFailed(describeError(err));
  }
}
