/**
 * Step state: what a main step hands to its post step, as JSON under one name. The shell
 * passes the runner's store (core.saveState / core.getState: GITHUB_STATE in main,
 * STATE_<name> in post); a value coming back is untrusted and checked by a guard.
 *
 * - `saveJsonState(save, name, value)` / `getJsonState(get, name, guard)`.
 * - `LeaseRef`, `isLeaseRef`: the part every step's state holds (lease id, key, registry).
 *
 * No @actions/* here.
 */
import { isAbsolute } from 'node:path';
import { LEASE_ID } from '../core/index.js';

/** Stores a state value under a name (core.saveState). */
export type StateWriter = (name: string, value: string) => void;
/** The saved value of a name, '' when none (core.getState). */
export type StateReader = (name: string) => string;

/** What every step's state holds of its lease: id, key and (absolute) registry directory. */
export interface LeaseRef {
  lease: string;
  key: string;
  registry: string;
}

/** Does a state value (untrusted: it comes back through the environment) name a lease? */
export function isLeaseRef(v: unknown): v is LeaseRef & Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.lease === 'string' &&
    LEASE_ID.test(r.lease) &&
    typeof r.key === 'string' &&
    typeof r.registry === 'string' &&
    isAbsolute(r.registry)
  );
}

/** Save a JSON value for the post step under `name`. */
export function saveJsonState(save: StateWriter, name: string, value: unknown): void {
  save(name, JSON.stringify(value));
}

/** A saved JSON value, or undefined when absent, unparsable or not what `guard` accepts. */
export function getJsonState<T>(
  get: StateReader,
  name: string,
  guard: (v: unknown) => v is T,
): T | undefined {
  const text = get(name);
  if (text === '') return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return guard(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
