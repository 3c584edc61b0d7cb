/**
 * An allocate request: what a caller may ask for, and its complete check before anything on
 * disk is touched (bad input never changes the registry; every error is one line naming the
 * input and what would be accepted).
 */
import { checkRegistryPath } from './dirs.js';
import { UsageError } from './errors.js';
import type { Owner } from './owner.js';
import {
  checkKey,
  checkNames,
  DEFAULT_RANGE,
  LABEL_KEY,
  withoutControlChars,
  type PortRange,
  type Strategy,
} from './parse.js';
import { formatRange, inRange, kernelPorts, type KernelPorts } from './probe.js';
import { writableLease, type Lease } from './schema.js';

export interface AllocateRequest {
  names: string[];
  range?: PortRange;
  contiguous?: boolean;
  /** Same key while its lease lives: the same lease back. Default: a fresh unique key. */
  key?: string;
  strategy?: Strategy;
  /** null: no TTL (needs an owner). */
  ttlMs?: number | null;
  owner: Owner | null;
  /**
   * What the caller gave explicitly. On a key whose lease lives, an explicit TTL sets a new
   * expiry and an explicit owner becomes the lease's owner (ports kept); without them the
   * live lease is handed back as it is (a second caller never takes it over). An explicit
   * `range` or `contiguous: true` the live lease does not satisfy is always an error.
   */
  renew?: { ttl?: boolean; owner?: boolean };
  /** How long to wait for a release when the range is full. */
  waitMs?: number;
  labels?: Record<string, string>;
  /** Allow ports inside the kernel's ephemeral range (off by default). */
  allowEphemeral?: boolean;
}

/** A request as checked: what the registry works from under the lock. */
export interface CheckedRequest {
  names: string[];
  range: PortRange;
  strategy: Strategy;
  key: string | undefined;
  /** Why port `p` may not be leased here ('ephemeral', 'reserved'), or null. */
  excluded: (p: number) => string | null;
}

/**
 * Check a request completely, before anything on disk is touched: its names, key and TTL
 * (a lease without an owner needs one), the registry path `dir`, and a range that holds
 * enough ports outside the kernel's ephemeral and reserved ones (`kernel`, else this host's).
 */
export function checkRequest(
  req: AllocateRequest,
  dir: string,
  kernel: KernelPorts | undefined,
): CheckedRequest {
  const names = checkNames(req.names, 'names');
  const range = req.range ?? DEFAULT_RANGE;
  if (req.key !== undefined) checkKey(req.key, 'key');
  if ((req.ttlMs === null || req.ttlMs === undefined) && req.owner === null) {
    throw new UsageError('ttl: a lease without an owner needs a TTL; give --ttl or an owner');
  }
  if (req.ttlMs !== null && req.ttlMs !== undefined && !(req.ttlMs > 0)) {
    throw new UsageError('ttl: must be longer than 0');
  }
  checkRegistryPath(dir);
  const host = kernel ?? kernelPorts();
  const excluded = (p: number): string | null => {
    if (!req.allowEphemeral && host.ephemeral && inRange(p, host.ephemeral)) {
      return 'ephemeral';
    }
    return host.reserved.some((r) => inRange(p, r)) ? 'reserved' : null;
  };
  const span = range.hi - range.lo + 1;
  const usable =
    span -
    excludedCount(range, [
      ...(!req.allowEphemeral && host.ephemeral ? [host.ephemeral] : []),
      ...host.reserved,
    ]);
  if (usable === 0) {
    const eph = host.ephemeral ? formatRange(host.ephemeral) : 'none';
    throw new UsageError(
      `range: ${formatRange(range)} lies wholly inside the kernel's ephemeral (${eph}) or reserved ports; choose a range outside them, like ${formatRange(DEFAULT_RANGE)}`,
    );
  }
  if (usable < names.length || span < names.length) {
    throw new UsageError(
      `range: ${formatRange(range)} has ${usable} usable port${usable === 1 ? '' : 's'} (outside the kernel's ephemeral and reserved ports), fewer than the ${names.length} asked for`,
    );
  }
  return { names, range, strategy: req.strategy ?? 'hash', key: req.key, excluded };
}

/** How many ports of `range` lie in the union of `excluded` ranges. */
export function excludedCount(range: PortRange, excluded: readonly PortRange[]): number {
  const parts = excluded
    .map((r) => ({ lo: Math.max(r.lo, range.lo), hi: Math.min(r.hi, range.hi) }))
    .filter((r) => r.lo <= r.hi)
    .sort((a, b) => a.lo - b.lo);
  let count = 0;
  let upTo = range.lo - 1; // ports <= upTo are counted already
  for (const r of parts) {
    const lo = Math.max(r.lo, upTo + 1);
    if (lo <= r.hi) count += r.hi - lo + 1;
    upTo = Math.max(upTo, r.hi);
  }
  return count;
}

/**
 * Labels are informational (run, job, runner): keep the ones that fit the record format
 * (key: letters, digits, . _ -, up to 64; value: up to 512 characters, control characters
 * replaced by spaces), at most 32, rather than refuse a lease over a job's odd name.
 */
export function cleanLabels(labels: Record<string, string>): Record<string, string> {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_KEY.test(k) || out.length >= 32) continue;
    out.push([k, withoutControlChars(v).slice(0, 512)]);
  }
  return Object.fromEntries(out);
}

/** The new lease record an allocate request makes, with the ports chosen for its names. */
export function newLease(
  id: string,
  key: string,
  names: readonly string[],
  ports: readonly number[],
  req: AllocateRequest,
  range: PortRange,
  now: number,
): Lease {
  return writableLease({
    id,
    key,
    ports: Object.fromEntries(names.map((n, i) => [n, ports[i] as number])),
    range: { lo: range.lo, hi: range.hi },
    contiguous: req.contiguous === true,
    owner: req.owner,
    created: new Date(now).toISOString(),
    expires:
      req.ttlMs === null || req.ttlMs === undefined
        ? null
        : new Date(now + req.ttlMs).toISOString(),
    labels: cleanLabels(req.labels ?? {}),
  });
}
