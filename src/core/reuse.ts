/**
 * A lease asked for again by its key while it lives: handed back as it is, renewed (a new
 * expiry or owner when the caller gave one explicitly), grown by names it lacks (its ports
 * kept), or refused with one line when it cannot satisfy what was asked (nothing written).
 */
import { choosePorts, extendBlock, isBlock, startPort } from './choose.js';
import { RuntimeError, UsageError } from './errors.js';
import { sameOwner } from './owner.js';
import { formatRange, inRange } from './probe.js';
import type { AllocateRequest, CheckedRequest } from './request.js';
import { freezeLease, validateLease, type Lease } from './schema.js';

function showPorts(ports: [string, number][]): string {
  return ports.map(([n, p]) => `${n}=${p}`).join(', ');
}

/**
 * A live lease asked for again by its key: check what was asked explicitly against it,
 * grow it by names it lacks, renew its expiry or owner when asked. Returns `same` itself
 * when nothing changes. Throws (nothing written) when the lease cannot satisfy the request.
 */
export async function reuseLease(
  same: Lease,
  req: AllocateRequest,
  v: CheckedRequest,
  usable: (p: number) => Promise<boolean>,
  now: number,
): Promise<Lease> {
  const held = Object.entries(same.ports);
  const release = `release it first (portlease release --key ${JSON.stringify(same.key)}) or use another key`;
  const holds = `key ${JSON.stringify(same.key)} is held by lease ${same.id}`;
  if (req.range !== undefined) {
    const outside = held.filter(([, p]) => !inRange(p, v.range));
    if (outside.length > 0) {
      throw new RuntimeError(
        `${holds}, whose ${showPorts(outside)} ${outside.length === 1 ? 'lies' : 'lie'} outside the requested range ${formatRange(v.range)}; ${release}`,
      );
    }
  }
  if (req.contiguous === true && !isBlock(held.map(([, p]) => p))) {
    throw new RuntimeError(
      `${holds}, whose ports (${showPorts(held)}) are not one block of consecutive ports as --contiguous asks; ${release}`,
    );
  }
  const added = v.names.filter((n) => !Object.hasOwn(same.ports, n));
  let ports = same.ports;
  let range = same.range;
  if (added.length > 0) {
    const from = req.range !== undefined ? v.range : same.range;
    const old = held.map(([, p]) => p);
    const chosen =
      req.contiguous === true
        ? await extendBlock(old, added.length, from, usable)
        : await choosePorts({
            count: added.length,
            range: from,
            contiguous: false,
            start: startPort(from, v.strategy, same.key),
            usable,
          });
    if (chosen === null) {
      throw new RuntimeError(
        `${holds}; it cannot grow by ${added.join(', ')}: range ${formatRange(from)} has no ${added.length} free port${added.length === 1 ? '' : 's'}${req.contiguous === true ? ' next to its block' : ''}; ${release}`,
      );
    }
    ports = Object.fromEntries([
      ...held,
      ...added.map((n, i): [string, number] => [n, chosen[i] as number]),
    ]);
    range = { lo: Math.min(range.lo, from.lo), hi: Math.max(range.hi, from.hi) };
  }
  const owner = req.renew?.owner === true ? req.owner : same.owner;
  let expires = same.expires;
  const ttl = req.ttlMs ?? null;
  if (ttl !== null && (req.renew?.ttl === true || (owner === null && expires === null))) {
    expires = new Date(now + ttl).toISOString();
  }
  if (added.length === 0 && sameOwner(owner, same.owner) && expires === same.expires) {
    return same;
  }
  const lease = freezeLease({
    ...same,
    ports,
    range,
    contiguous: (same.contiguous || req.contiguous === true) && isBlock(Object.values(ports)),
    owner,
    expires,
  });
  const check = validateLease(JSON.parse(JSON.stringify(lease)));
  if (typeof check === 'string') throw new UsageError(`lease: ${check}`);
  return lease;
}
