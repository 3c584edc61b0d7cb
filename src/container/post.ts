/**
 * The container step's post: the container's last log lines in a collapsed group, the
 * container removed with its volumes, the lease released. Idempotent; never fails the job
 * (warnings only).
 */
import * as core from '@actions/core';
import { errorLine, githubRegistry } from '../github/lease.js';
import { LEASE_LABEL } from '../registry/containers.js';
import { Engine, printUntrusted } from './engine.js';
import { hasState, loadState } from './state.js';

/** Log lines shown in the post step. */
const POST_LOG_LINES = 50;

export async function run(): Promise<void> {
  try {
    const state = loadState();
    if (state === undefined) {
      if (hasState())
        core.warning('the saved state of the container step is unreadable; nothing cleaned up');
      else core.info('No container was started by this step; nothing to clean up');
      return;
    }
    if (state.cleaned) {
      core.info(`Already cleaned up (lease ${state.lease})`);
      return;
    }
    const engine = new Engine(state.engine, state.enginePath);
    const ids = new Set<string>();
    if (state.container !== null) ids.add(state.container);
    try {
      for (const id of await engine.idsByLabel(LEASE_LABEL, state.lease)) ids.add(id);
    } catch (err) {
      core.warning(`cannot list the containers of lease ${state.lease}: ${errorLine(err)}`);
    }
    for (const id of ids) {
      await core.group(
        `Last ${POST_LOG_LINES} log lines of container ${id.slice(0, 12)}`,
        async () => {
          try {
            printUntrusted(await engine.logs(id, POST_LOG_LINES));
          } catch (err) {
            core.info(`(no logs: ${errorLine(err)})`);
          }
        },
      );
      try {
        await engine.remove(id);
        core.info(`Removed container ${id.slice(0, 12)} and its volumes`);
      } catch (err) {
        core.warning(`cannot remove container ${id.slice(0, 12)}: ${errorLine(err)}`);
      }
    }
    if (ids.size === 0) core.info(`No container of lease ${state.lease} is left`);
    if (state.ownLease) {
      try {
        const released = await githubRegistry(state.registry).release({ lease: state.lease });
        core.info(
          released === null
            ? `Lease ${state.lease} was already gone`
            : `Released lease ${state.lease} (${Object.entries(released.ports)
                .map(([n, p]) => `${n}=${p}`)
                .join(' ')})`,
        );
      } catch (err) {
        core.warning(`cannot release lease ${state.lease}: ${errorLine(err)}`);
      }
    }
  } catch (err) {
    core.warning(`container step clean-up: ${errorLine(err)}`);
  }
}
