/**
 * Records that claim one port or key (a hand edit, a restore of an old copy, a salvaged
 * file) resolved in favour of the live record (docs/adr/0002-store-salvage.md): a dead
 * claimant is dropped; of two live claimants, the record written first keeps the port and
 * the later one loses that port only. No port is ever held by two live leases.
 */
import { freezeLease, type Lease } from './schema.js';

/** A record dropped, and why. */
export interface GcEntry {
  lease: Lease;
  reason: string;
}

/**
 * Records that claim a port or a key another record claims (a hand edit, a restore, a
 * salvaged file): keep every live claimant and drop the dead ones (`deadReason` says why a
 * record is dead, null while it lives). A port two live records claim stays with the one
 * written first; the later one loses that port only.
 */
export async function resolveConflicts(
  leases: readonly Lease[],
  deadReason: (lease: Lease) => Promise<string | null>,
  log: { warn?: (msg: string) => void; debug?: (msg: string) => void },
): Promise<{ kept: Lease[]; dropped: GcEntry[] }> {
  const byPort = new Map<number, Lease[]>();
  const byKey = new Map<string, Lease[]>();
  for (const l of leases) {
    for (const p of Object.values(l.ports)) byPort.set(p, [...(byPort.get(p) ?? []), l]);
    byKey.set(l.key, [...(byKey.get(l.key) ?? []), l]);
  }
  const involved = new Set<Lease>();
  for (const group of [...byPort.values(), ...byKey.values()]) {
    if (group.length > 1) for (const l of group) involved.add(l);
  }
  if (involved.size === 0) return { kept: [...leases], dropped: [] };
  const dropped: GcEntry[] = [];
  const gone = new Set<Lease>();
  for (const l of involved) {
    const reason = await deadReason(l);
    if (reason !== null) {
      gone.add(l);
      dropped.push({ lease: l, reason });
    }
  }
  const live = [...involved].filter((l) => !gone.has(l));
  // Dropping records is news; two live claimants kept again on every call are not.
  (dropped.length > 0 ? log.warn : log.debug)?.(
    `registry: ${involved.size} records claim the same port or key; kept the ${live.length} live one${live.length === 1 ? '' : 's'}${live.length > 0 ? ` (${live.map((l) => l.id).join(', ')})` : ''}${dropped.length > 0 ? `, dropped ${dropped.length} dead (${dropped.map((d) => d.lease.id).join(', ')})` : ''}`,
  );
  // A port still claimed by two live records stays with the one written first; a later
  // claimant loses that port only (its other ports stay), so no port is ever held by two
  // live leases, and nothing else of a record goes because of its neighbour.
  const taken = new Map<number, Lease>();
  const kept: Lease[] = [];
  for (const l of leases) {
    if (gone.has(l)) continue;
    const own = Object.entries(l.ports).filter(([, p]) => !taken.has(p));
    if (own.length === Object.keys(l.ports).length) {
      for (const [, p] of own) taken.set(p, l);
      kept.push(l);
      continue;
    }
    const lost = Object.entries(l.ports).filter(([, p]) => taken.has(p));
    log.warn?.(
      `registry: ${l.id} (key ${JSON.stringify(l.key)}) claims ${lost.map(([n, p]) => `${n}=${p}`).join(' ')}, held by ${lost.map(([, p]) => taken.get(p)?.id ?? '?').join(', ')}; ${own.length > 0 ? 'it keeps its other ports' : 'it holds nothing else and is dropped'}`,
    );
    if (own.length === 0) {
      dropped.push({ lease: l, reason: 'every port it claims is held by an earlier live lease' });
      continue;
    }
    const rest = freezeLease({ ...l, ports: Object.fromEntries(own) });
    for (const [, p] of own) taken.set(p, rest);
    kept.push(rest);
  }
  return { kept, dropped };
}
