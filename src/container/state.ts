/**
 * What the container step's main hands to its post step, as JSON state.
 */
import { isAbsolute } from 'node:path';
import * as core from '@actions/core';
import { CONTAINER_ID, type EngineName } from '../engines/engine.js';
import { getJsonState, isLeaseRef, saveJsonState, type LeaseRef } from '../job/state.js';

const NAME = 'portlease-container';

export interface ContainerStepState extends LeaseRef {
  engine: EngineName;
  enginePath: string;
  /** null until `run` printed an id (post then finds the container by its lease label). */
  container: string | null;
  /** false when the lease was handed back for the same key and is not this step's to release. */
  ownLease: boolean;
  /** true when main already removed the container and released the lease. */
  cleaned: boolean;
}

function isState(v: unknown): v is ContainerStepState {
  if (!isLeaseRef(v)) return false;
  const r = v;
  return (
    (r.engine === 'docker' || r.engine === 'podman') &&
    typeof r.enginePath === 'string' &&
    isAbsolute(r.enginePath) &&
    (r.container === null || (typeof r.container === 'string' && CONTAINER_ID.test(r.container))) &&
    typeof r.ownLease === 'boolean' &&
    typeof r.cleaned === 'boolean'
  );
}

export function saveState(state: ContainerStepState): void {
  saveJsonState(core.saveState, NAME, state);
}

export function loadState(): ContainerStepState | undefined {
  return getJsonState(core.getState, NAME, isState);
}

/** Is there any state at all (to tell "main saved nothing" from "state unreadable")? */
export function hasState(): boolean {
  return (process.env[`STATE_${NAME}`] ?? '') !== '';
}
