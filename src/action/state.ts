/**
 * What main hands to post: this step's lease (id, key, registry), as JSON state.
 */
import { getJsonState, isLeaseRef, saveJsonState, type LeaseRef } from '../github/lease.js';

const NAME = 'portlease';

export type LeaseState = LeaseRef;

export function saveLeaseState(state: LeaseState): void {
  saveJsonState(NAME, state);
}

/** The saved lease, or undefined when main saved none (or the state is not ours). */
export function getLeaseState(): LeaseState | undefined {
  return getJsonState(NAME, isLeaseRef);
}
