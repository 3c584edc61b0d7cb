/**
 * The library's `owner` option. Strings go through the core's owner parser and resolver, the
 * CLI's `--owner` (pid:N, dir:PATH, none, session, session:SID, job), with the CLI's
 * messages; the library adds `'self'` (the calling process, the default) and `{ pid: N }`
 * (the CLI's `--owner-pid N`).
 */
import {
  parseOwnerSpec as parseCoreSpec,
  parsePid,
  resolveOwner,
  selfOwner,
  UsageError,
  type Owner,
} from '../core/index.js';

const ACCEPTED =
  "use 'self' (the calling process), 'none' (TTL only), 'pid:N' or { pid: N }, 'dir:PATH', 'session', 'session:SID' or 'job'";

/** The owner spellings the core reads: a bare kind, or kind:ARGUMENT. */
const CORE_FORMS = /^(?:none|job|session|(?:pid|dir|session):[^]*)$/;

/**
 * An owner spec string -> the owner to record (null: none, TTL only). Throws a UsageError
 * naming `label` for anything it does not know, for a pid that does not run, a directory
 * that does not exist, and so on.
 */
export function parseOwnerSpec(spec: string, label: string): Owner | null {
  const text = spec.trim();
  if (text === 'self') return selfOwner();
  if (!CORE_FORMS.test(text)) {
    const shown = JSON.stringify(spec.length > 60 ? spec.slice(0, 60) + '…' : spec);
    throw new UsageError(`${label}: ${shown} is not an owner; ${ACCEPTED}`);
  }
  return resolveOwner(parseCoreSpec(spec, label), label).owner;
}

/** The `owner` option in any of its forms (undefined: the calling process). */
export function ownerOption(value: unknown, label = 'owner'): Owner | null {
  if (value === undefined) return selfOwner();
  if (typeof value === 'string') return parseOwnerSpec(value, label);
  if (typeof value === 'object' && value !== null && 'pid' in value) {
    const pid: unknown = value.pid;
    if (typeof pid === 'number' && Number.isFinite(pid)) {
      // `{ pid: N }` is the CLI's `--owner-pid N`: the same messages, labelled `owner`.
      return resolveOwner({ kind: 'pid', pid: parsePid(String(pid), label) }, label).owner;
    }
    throw new UsageError(
      `${label}: pid ${JSON.stringify(pid)} is not a process id; give a whole number >= 1`,
    );
  }
  throw new UsageError(`${label}: ${typeof value} is not an owner; ${ACCEPTED}`);
}
