/**
 * What main hands to post: this step's lease (id, key, registry), as JSON state.
 */
import { isAbsolute } from 'node:path';
import { getJsonState, saveJsonState } from '../github/lease.js';

const NAME = 'portlease';

export interface LeaseState {
  lease: string;
  key: string;
  registry: string;
}

function isLeaseState(v: unknown): v is LeaseState {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.lease === 'string' &&
    /^pl_[a-z0-9]{6,40}$/.test(r.lease) &&
    typeof r.key === 'string' &&
    typeof r.registry === 'string' &&
    isAbsolute(r.registry)
  );
}

export function saveLeaseState(state: LeaseState): void {
  saveJsonState(NAME, state);
}

/** The saved lease, or undefined when main saved none (or the state is not ours). */
export function getLeaseState(): LeaseState | undefined {
  return getJsonState(NAME, isLeaseState);
}
