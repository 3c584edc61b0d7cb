/**
 * One lease record as the state file holds it: its shape, its id, and its validation.
 *
 * Nothing read from disk is trusted: every record is validated field by field into a fresh
 * object, and every record is frozen (a changed lease is a new record), so a record made or
 * validated once can be kept and handed out again as it is.
 */
import { UsageError } from './errors.js';
import { CONTROL_CHARS, LABEL_KEY, LEASE_ID, type PortRange } from './parse.js';
import type { Owner } from './owner.js';
import { isRecord, randomSuffix } from './text.js';

/** The state file in the registry directory. */
export const STATE_FILE = 'leases.json';
/** The format version this portlease writes; a file stating a higher one is never rewritten. */
export const STATE_VERSION = 1;

export interface Lease {
  /** pl_ + 10 base36 characters. */
  id: string;
  key: string;
  /** name -> port, in the order they were asked for. */
  ports: Record<string, number>;
  range: PortRange;
  contiguous: boolean;
  owner: Owner | null;
  /** ISO times. */
  created: string;
  expires: string | null;
  labels: Record<string, string>;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function newLeaseId(): string {
  // 10 base36 characters from 64 random bits.
  return 'pl_' + randomSuffix(10);
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

function isTime(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 40 && !Number.isNaN(Date.parse(v));
}

function str(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max && !CONTROL_CHARS.test(v);
}

/** Validate an owner record into a fresh object: null for none, undefined when invalid. */
export function validOwner(v: unknown): Owner | null | undefined {
  if (v === null) return null;
  if (!isRecord(v)) return undefined;
  const nullable = (x: unknown, max: number): x is string | null => x === null || str(x, max);
  const id = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 1;
  /** start, boot, host and pidns, as process and session owners record them. */
  const where = ():
    | { start: string | null; boot: string | null; host: string; pidns: string | null }
    | undefined =>
    nullable(v.start, 32) && nullable(v.boot, 64) && str(v.host, 256) && nullable(v.pidns, 64)
      ? { start: v.start, boot: v.boot, host: v.host, pidns: v.pidns }
      : undefined;
  if (v.kind === 'process') {
    const w = where();
    return id(v.pid) && w !== undefined ? { kind: 'process', pid: v.pid, ...w } : undefined;
  }
  if (v.kind === 'container') {
    if (
      typeof v.id === 'string' &&
      /^[0-9a-f]{12,64}$/.test(v.id) &&
      str(v.host, 256) &&
      nullable(v.boot, 64)
    ) {
      return { kind: 'container', id: v.id, host: v.host, boot: v.boot };
    }
    return undefined;
  }
  const uid = (x: unknown): x is number | null =>
    x === null || (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff);
  if (v.kind === 'session') {
    const w = where();
    return id(v.sid) && uid(v.uid) && w !== undefined
      ? {
          kind: 'session',
          sid: v.sid,
          start: w.start,
          uid: v.uid,
          boot: w.boot,
          host: w.host,
          pidns: w.pidns,
        }
      : undefined;
  }
  if (v.kind === 'dir') {
    if (str(v.path, 4096) && /^(?:\/|[A-Za-z]:[\\/]|\\\\)/.test(v.path) && str(v.host, 256)) {
      return { kind: 'dir', path: v.path, host: v.host };
    }
    return undefined;
  }
  if (v.kind === 'tree') {
    if (
      id(v.pid) &&
      nullable(v.start, 32) &&
      nullable(v.boot, 64) &&
      str(v.host, 256) &&
      nullable(v.pidns, 64) &&
      (v.sid === null || id(v.sid)) &&
      uid(v.uid)
    ) {
      return {
        kind: 'tree',
        pid: v.pid,
        start: v.start,
        boot: v.boot,
        host: v.host,
        pidns: v.pidns,
        sid: v.sid,
        uid: v.uid,
      };
    }
  }
  return undefined;
}

/** Validate one record into a fresh object, or return a reason it is rejected. */
export function validateLease(v: unknown): Lease | string {
  if (!isRecord(v)) return 'not an object';
  if (typeof v.id !== 'string' || !LEASE_ID.test(v.id)) return 'bad id';
  if (!str(v.key, 200) || v.key.length === 0) return 'bad key';
  if (!isRecord(v.ports)) return 'bad ports';
  const entries = Object.entries(v.ports);
  if (entries.length === 0 || entries.length > 256) return 'bad ports';
  const seen = new Set<number>();
  for (const [name, port] of entries) {
    if (!NAME.test(name) || !isPort(port) || seen.has(port)) return `bad port ${name}`;
    seen.add(port);
  }
  if (!isRecord(v.range) || !isPort(v.range.lo) || !isPort(v.range.hi) || v.range.lo > v.range.hi) {
    return 'bad range';
  }
  const owner = validOwner(v.owner);
  if (owner === undefined) return 'bad owner';
  if (!isTime(v.created)) return 'bad created';
  if (v.expires !== null && !isTime(v.expires)) return 'bad expires';
  if (owner === null && v.expires === null) return 'neither owner nor expiry';
  const labels: [string, string][] = [];
  if (!isRecord(v.labels)) return 'bad labels';
  const labelEntries = Object.entries(v.labels);
  if (labelEntries.length > 32) return 'too many labels';
  for (const [k, val] of labelEntries) {
    if (!LABEL_KEY.test(k) || !str(val, 512)) return `bad label ${k.slice(0, 40)}`;
    labels.push([k, val]);
  }
  return freezeLease({
    id: v.id,
    key: v.key,
    // Object.fromEntries defines own properties: a name like __proto__ stays a plain key.
    ports: Object.fromEntries(entries) as Record<string, number>,
    range: { lo: v.range.lo, hi: v.range.hi },
    contiguous: v.contiguous === true,
    owner,
    created: v.created,
    expires: v.expires,
    labels: Object.fromEntries(labels),
  });
}

/**
 * A record about to be written, frozen and checked to read back valid: what is written must
 * pass the next reader's validation, or it would be set aside as damaged.
 */
export function writableLease(lease: Lease): Lease {
  const frozen = freezeLease(lease);
  const check = validateLease(JSON.parse(JSON.stringify(frozen)));
  if (typeof check === 'string') throw new UsageError(`lease: ${check}`);
  return frozen;
}

/**
 * Records are frozen: the registry caches each one's JSON text and the last state it saw,
 * so a record must never change after it is made (a changed lease is a new record).
 */
export function freezeLease(lease: Lease): Lease {
  Object.freeze(lease.ports);
  Object.freeze(lease.range);
  if (lease.owner !== null) Object.freeze(lease.owner);
  Object.freeze(lease.labels);
  return Object.freeze(lease);
}

/** A record's JSON with every object's keys sorted: equal for equal records, whoever wrote them. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'object' && x !== null && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}
