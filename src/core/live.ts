/**
 * The live leases one allocation sees under the lock: every record left after conflicts and
 * expiries, who claims each port, which records were reclaimed on the way (so the state
 * file must be written back), and which port may be handed out. Built fresh under each lock
 * (`LiveLeases.read`) and never kept past it.
 */
import type { GcEntry } from './conflicts.js';
import { describeOwner } from './owner.js';
import type { PortRange } from './parse.js';
import { inRange } from './probe.js';
import type { Lease } from './schema.js';

export class LiveLeases {
  /** The live records by id, in file order. */
  readonly byId = new Map<string, Lease>();
  /** Every record claiming each port (more than one only after a conflict). */
  private readonly claims = new Map<number, Lease[]>();
  /** Something was reclaimed or trimmed: the state file must be written back. */
  dirty: boolean;

  private readonly debug: (msg: string) => void;

  private constructor(debug: (msg: string) => void, dirty: boolean) {
    this.debug = debug;
    this.dirty = dirty;
  }

  /**
   * The view of `state` once conflicts are resolved (`resolved`) and expired records
   * dropped. `rejected`: the read set damaged lines aside, so the file is written back.
   */
  static read(
    read: { leases: readonly Lease[]; rejected: number },
    resolved: { kept: readonly Lease[]; dropped: readonly GcEntry[] },
    now: number,
    debug: (msg: string) => void,
  ): LiveLeases {
    const view = new LiveLeases(debug, read.rejected > 0);
    for (const { lease, reason } of resolved.dropped) view.reclaimed(lease, reason);
    // A record trimmed of a port an earlier live record holds is written back trimmed.
    if (resolved.kept.some((l) => !read.leases.includes(l))) view.dirty = true;
    for (const l of resolved.kept) {
      if (l.expires !== null && Date.parse(l.expires) <= now) {
        view.reclaimed(l, `expired at ${l.expires}`);
        continue;
      }
      view.add(l);
    }
    return view;
  }

  private reclaimed(l: Lease, why: string): void {
    this.debug(`reclaimed ${l.id} (key ${l.key}): ${why}`);
    this.dirty = true;
  }

  /** Add a live record (at the end of the file) and its ports' claims. */
  add(l: Lease): void {
    this.byId.set(l.id, l);
    this.claim(l);
  }

  /** Replace a record in its place in the file (a renewed or grown lease: same id). */
  replace(old: Lease, next: Lease): void {
    this.unclaim(old);
    this.byId.set(next.id, next); // an existing key keeps its place in the Map
    this.claim(next);
    this.dirty = true;
  }

  /** Drop a record found dead: its ports are free again, and the file is written back. */
  drop(l: Lease, why: string): void {
    this.byId.delete(l.id);
    this.unclaim(l);
    this.reclaimed(l, why);
  }

  private claim(l: Lease): void {
    for (const p of Object.values(l.ports)) this.claims.set(p, [...this.claimsOf(p), l]);
  }

  private unclaim(l: Lease): void {
    for (const p of Object.values(l.ports)) {
      const rest = this.claimsOf(p).filter((h) => h !== l);
      if (rest.length > 0) this.claims.set(p, rest);
      else this.claims.delete(p);
    }
  }

  /** The records claiming port `p` (usually none or one). */
  claimsOf(p: number): readonly Lease[] {
    return this.claims.get(p) ?? [];
  }

  /** The live record with this key, if any. */
  withKey(key: string): Lease | undefined {
    for (const l of this.byId.values()) if (l.key === key) return l;
    return undefined;
  }

  /** The records to write, in file order. */
  records(): Lease[] {
    return [...this.byId.values()];
  }

  /** Who holds ports in `range`, for the error when it is full (at most five named). */
  describeHolders(range: PortRange): string {
    const inside = this.records().filter((l) =>
      Object.values(l.ports).some((p) => inRange(p, range)),
    );
    if (inside.length === 0)
      return 'every port in it is in use outside the registry or reserved by the kernel';
    const shown = inside.slice(0, 5).map((l) => {
      const ports = Object.values(l.ports).filter((p) => inRange(p, range));
      return `${l.id} key ${JSON.stringify(l.key)} (${ports.join(',')}; owner ${describeOwner(l.owner)}${l.expires ? `, expires ${l.expires}` : ''})`;
    });
    const more = inside.length > 5 ? `, and ${inside.length - 5} more` : '';
    return `held by ${inside.length} lease${inside.length === 1 ? '' : 's'}: ${shown.join('; ')}${more}`;
  }
}
