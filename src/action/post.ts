/**
 * The action's post step: release this step's lease (only its own, from the saved state;
 * another owner's lease, handed back for a shared key, is left to that owner). Idempotent
 * and never fails the job: anything that goes wrong is a warning, and a lease left behind
 * is reclaimed anyway when the runner worker that owns it exits.
 */
import * as core from '@actions/core';
import { describeError } from '../core/index.js';
import { createHostRegistry } from '../job/host-registry.js';
import { getLeaseState } from './state.js';

/** Post steps get little time on cancel: do not queue behind a stuck lock for long. */
const LOCK_TIMEOUT_MS = 15_000;

export async function run(): Promise<void> {
  let what = 'the lease';
  try {
    const state = getLeaseState();
    if (state === undefined) {
      core.info('portlease: main leased nothing in this step; nothing to release');
      return;
    }
    what = `lease ${state.lease} in ${state.registry}`;
    // ownLease absent: state of an older bundle, which always released.
    if (state.ownLease === false) {
      core.info(
        `portlease: ${what} (key ${JSON.stringify(state.key)}) is not this step's: its owner, ${state.holder ?? 'another job'}, keeps it; nothing released`,
      );
      return;
    }
    core.debug(`releasing ${what} (key ${state.key})`);
    const registry = createHostRegistry(state.registry, {
      warn: core.warning,
      debug: core.debug,
      lockTimeoutMs: LOCK_TIMEOUT_MS,
    });
    const released = await registry.release({ lease: state.lease });
    if (released === null) {
      core.info(`portlease: ${what} was already gone (released or reclaimed); nothing to do`);
    } else {
      core.info(
        `portlease: released ${state.lease}: ${Object.entries(released.ports)
          .map(([n, p]) => `${n}=${p}`)
          .join(' ')}`,
      );
    }
  } catch (err) {
    core.warning(
      `portlease: could not release ${what}: ${describeError(err)}. It is reclaimed when the runner worker exits or its TTL passes; 'portlease gc' removes it then`,
    );
  }
}
