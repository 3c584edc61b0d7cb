/**
 * What main hands to post: this step's lease (id, key, registry) and whether it is this
 * step's to release, as JSON state.
 */
import * as core from '@actions/core';
import { CONTROL_CHARS } from '../core/index.js';
import { getJsonState, isLeaseRef, saveJsonState, type LeaseRef } from '../job/state.js';

const NAME = 'portlease';

export interface LeaseState extends LeaseRef {
  /**
   * false when the key handed back another owner's live lease: post leaves it to that owner.
   * Absent in the state of an older bundle, which always released: post then releases.
   */
  ownLease?: boolean;
  /** Who holds the lease when it is not this step's (describeOwner), for post's log. */
  holder?: string;
}

function isState(v: unknown): v is LeaseState {
  if (!isLeaseRef(v)) return false;
  return (
    (v.ownLease === undefined || typeof v.ownLease === 'boolean') &&
    (v.holder === undefined ||
      (typeof v.holder === 'string' && v.holder.length <= 300 && !CONTROL_CHARS.test(v.holder)))
  );
}

export function saveLeaseState(state: LeaseState): void {
  saveJsonState(core.saveState, NAME, state);
}

/** The saved lease, or undefined when main saved none (or the state is not ours). */
export function getLeaseState(): LeaseState | undefined {
  return getJsonState(core.getState, NAME, isState);
}
