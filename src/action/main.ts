/**
 * The action's main step: lease the named ports for this job, hand them to later steps
 * (outputs, environment) and save the lease for the post step, which releases it when it
 * is this job's (a key given to two jobs hands the second the first's lease: never its own).
 */
import * as core from '@actions/core';
import {
  describeError,
  describeOwner,
  formatDuration,
  formatRange,
  sameOwner,
  type Lease,
} from '../core/index.js';
import { runnerOwner } from '../job/job.js';
import { defaultKey, runLabels } from '../job/key.js';
import { createHostRegistry } from '../job/host-registry.js';
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
    const { lease, reused, own, holder } = await core.group(
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
        // This step's to release: a new lease, or one this job's owner already holds (main
        // run again in the job). A live lease of another owner, handed back because the key
        // names it, stays that owner's. With no owner to compare (TTL only) it is not ours.
        const own =
          !allocation.reused ||
          (job.owner !== null && sameOwner(allocation.lease.owner, job.owner));
        const holder = own ? undefined : describeOwner(allocation.lease.owner, { names: true });
        // Saved first, so the post step releases its own lease whatever fails after this.
        try {
          saveLeaseState({
            lease: allocation.lease.id,
            key,
            registry: inputs.registry,
            ownLease: own,
            ...(holder === undefined ? {} : { holder }),
          });
        } catch (err) {
          if (!allocation.reused) await registry.release({ lease: allocation.lease.id });
          throw err;
        }
        const expires = allocation.lease.expires ?? 'never';
        if (holder === undefined) {
          core.info(
            `${allocation.reused ? 'Handed back' : 'Leased'} ${allocation.lease.id} (key ${key}), ${job.describe}; expires ${expires}`,
          );
        } else {
          core.info(
            `portlease: key ${JSON.stringify(key)} is held by lease ${allocation.lease.id} of another owner, ${holder}: this step uses its ports, and its post step will not release it (expires ${expires})`,
          );
        }
        return { ...allocation, own, holder };
      },
    );
    core.debug(
      !reused
        ? `new lease ${lease.id}`
        : own
          ? `this job already held ${lease.id}: same ports as before`
          : `${lease.id} is held by ${holder ?? 'another owner'}: its ports, not this step's to release`,
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
      await writeSummary(lease, inputs.registry, { reused, holder });
    } catch (err) {
      core.debug(`job summary not written: ${describeError(err)}`);
    }
  } catch (err) {
    core.setFailed(describeError(err));
  }
}
