/**
 * The container step's post: the container's last log lines in a collapsed group, the
 * container removed with its volumes, the lease released (src/engines/service.ts).
 * Idempotent; never fails the job (warnings only).
 */
import * as core from '@actions/core';
import { describeError } from '../core/index.js';
import { ContainerEngine } from '../engines/engine.js';
import { stopService } from '../engines/service.js';
import { createHostRegistry } from '../job/host-registry.js';
import { stepLog } from './log.js';
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
    await stopService(
      ContainerEngine.at(state.engine, state.enginePath),
      createHostRegistry(state.registry, { warn: core.warning, debug: core.debug }),
      {
        lease: state.lease,
        container: state.container,
        release: state.ownLease,
        logLines: POST_LOG_LINES,
      },
      stepLog,
    );
  } catch (err) {
    core.warning(`container step clean-up: ${describeError(err)}`);
  }
}
