/**
 * What main hands to post: this step's lease (id, key, registry), as JSON state.
 */
import * as core from '@actions/core';
import { getJsonState, isLeaseRef, saveJsonState, type LeaseRef } from '../runner/state.js';

const NAME = 'portlease';

export type LeaseState = LeaseRef;

export function saveLeaseState(state: LeaseState): void {
  saveJsonState(core.saveState, NAME, state);
}

/** The saved lease, or undefined when main saved none (or the state is not ours). */
export function getLeaseState(): LeaseState | undefined {
  return getJsonState(core.getState, NAME, isLeaseRef);
}
