/**
 * The library's `owner` option. Every form funnels into `parseOwnerSpec`, the one place an
 * owner string is read, so that it can be routed to the CLI's shared owner parser (`--owner
 * pid:N|dir:PATH|none|...`) once that exists, without the library's callers noticing.
 */
import { describeProcess, parsePid, selfOwner, UsageError, type Owner } from '../registry/index.js';

const ACCEPTED = "use 'self' (the calling process), 'none' (TTL only), 'pid:N' or { pid: N }";

/**
 * An owner spec string -> the owner to record (null: none, TTL only). Throws a UsageError
 * naming `label` for anything it does not know, and for a pid that does not run.
 */
export function parseOwnerSpec(spec: string, label: string): Owner | null {
  const text = spec.trim();
  if (text === 'self') return selfOwner();
  if (text === 'none') return null;
  const pid = /^pid:(.*)$/s.exec(text);
  if (pid) {
    const n = parsePid(pid[1] ?? '', label);
    const owner = describeProcess(n);
    if (owner === null) throw new UsageError(`${label}: no process ${n} is running`);
    return owner;
  }
  throw new UsageError(`${label}: ${JSON.stringify(spec)} is not an owner; ${ACCEPTED}`);
}

/** The `owner` option in any of its forms (undefined: the calling process). */
export function ownerOption(value: unknown, label = 'owner'): Owner | null {
  if (value === undefined) return selfOwner();
  if (typeof value === 'string') return parseOwnerSpec(value, label);
  if (typeof value === 'object' && value !== null && 'pid' in value) {
    const pid: unknown = value.pid;
    if (typeof pid === 'number' && Number.isFinite(pid)) return parseOwnerSpec(`pid:${pid}`, label);
    throw new UsageError(
      `${label}: pid ${JSON.stringify(pid)} is not a process id; give a whole number >= 1`,
    );
  }
  throw new UsageError(`${label}: ${typeof value} is not an owner; ${ACCEPTED}`);
}
