/**
 * The lease registry: allocate, update, release, list and gc, each a read-modify-write of the
 * state file under the host-wide lock. Pure Node; knows nothing of GitHub or containers (the
 * engines come in through two hooks of RegistryOptions).
 */
import { StateCache } from './cache.js';
import { choosePorts, startPort } from './choose.js';
import { resolveConflicts, type GcEntry } from './conflicts.js';
import {
  checkRegistryPath,
  checkSameDir,
  defaultRegistryDir,
  openRegistryDir,
  registryError,
  type DirId,
} from './dirs.js';
import { PortleaseError, RuntimeError } from './errors.js';
import { sweepTemps } from './fsio.js';
import { acquireLock, type Lock } from './lock.js';
import {
  describeOwner,
  OwnerCache,
  ownerLiveness,
  type ContainerOwner,
  type Liveness,
  type Owner,
} from './owner.js';
import { checkKey, formatDuration } from './parse.js';
import { formatRange, hasIPv6, probePort, type KernelPorts } from './probe.js';
import { LiveLeases } from './live.js';
import { checkRequest, newLease, type AllocateRequest, type CheckedRequest } from './request.js';
import { reuseLease } from './reuse.js';
import { DirWaiter } from './wait.js';
import { canonical, newLeaseId, STATE_FILE, writableLease, type Lease } from './schema.js';

export interface RegistryOptions {
  warn?: (msg: string) => void;
  debug?: (msg: string) => void;
  /** Ports in use that no socket probe from here can see (e.g. published by a container engine). */
  busyPorts?: () => Promise<Iterable<number>>;
  /** Liveness of a container owner; without it container owners are 'unknown' (TTL only). */
  containerLiveness?: (owner: ContainerOwner) => Promise<Liveness>;
  /** Override the kernel's ranges (tests). */
  kernel?: KernelPorts;
  lockTimeoutMs?: number;
}

export interface Allocation {
  lease: Lease;
  /** true when a live lease with the same key was handed back. */
  reused: boolean;
}

export type ReleaseSelector = { key: string } | { lease: string };

export interface LeaseStatus {
  lease: Lease;
  /** 'alive': the owner runs (or no owner, TTL only); 'unknown': cannot be checked from here. */
  liveness: Liveness;
}

export interface GcReport {
  removed: GcEntry[];
  live: Lease[];
  temps: number;
  /** The registry read found damaged lines or records (some leases may have been lost). */
  damaged: boolean;
}

/** What one allocation round under the lock ends with. */
interface Round {
  /** Handed out: its record is on disk. */
  allocation?: Allocation;
  /** Written, but the lock moved on meanwhile: hand out only once confirmed on disk. */
  unconfirmed?: Allocation;
  /** The range is full: who holds it (for the error). */
  holders: string;
}

/** Commits in a row that may be lost (the lock moved on while they were written) before an operation fails. */
export const MAX_LOST_COMMITS = 3;

export class Registry {
  readonly dir: string;
  private readonly opts: RegistryOptions;
  /** The state file as this registry reads, writes and remembers it (cache.ts); its own. */
  private readonly disk: StateCache;

  constructor(dir: string = defaultRegistryDir(), opts: RegistryOptions = {}) {
    this.dir = dir;
    this.opts = opts;
    this.disk = new StateCache(dir, opts);
  }

  private debug(msg: string): void {
    this.opts.debug?.(msg);
  }

  /** Why a lease is no longer live, or null while it lives. */
  private async deadReason(lease: Lease, now: number, cache: OwnerCache): Promise<string | null> {
    if (lease.expires !== null && Date.parse(lease.expires) <= now) {
      return `expired at ${lease.expires}`;
    }
    if ((await this.liveness(lease, cache)) !== 'dead') return null;
    return `owner ${describeOwner(lease.owner)} is gone`;
  }

  private async liveness(lease: Lease, cache: OwnerCache): Promise<Liveness> {
    const owner = lease.owner;
    if (owner === null) return 'alive';
    if (owner.kind === 'container') {
      return this.opts.containerLiveness ? this.opts.containerLiveness(owner) : 'unknown';
    }
    return ownerLiveness(owner, cache, lease.id);
  }

  /** Records claiming one port or key, resolved for the live ones as of `now` (conflicts.ts). */
  private resolve(
    leases: readonly Lease[],
    now: number,
    cache: OwnerCache,
  ): Promise<{ kept: Lease[]; dropped: GcEntry[] }> {
    return resolveConflicts(leases, (l) => this.deadReason(l, now, cache), this.opts);
  }

  async allocate(req: AllocateRequest): Promise<Allocation> {
    const v = checkRequest(req, this.dir, this.opts.kernel);
    const dirId = openRegistryDir(this.dir);
    const waitMs = req.waitMs ?? 0;
    const deadline = Date.now() + waitMs;
    const waiter = new DirWaiter(this.dir);
    let lost = 0;
    try {
      for (;;) {
        // Asked before taking the lock: the engine's answer does not depend on the registry,
        // and other allocators should not queue behind it.
        const [busyList] = await Promise.all([
          this.opts.busyPorts ? this.opts.busyPorts() : [],
          hasIPv6(), // warm up what the probes need, outside the lock
        ]);
        const busy = new Set<number>(busyList);
        // Every round: a directory swapped for a symlink while this waited is refused.
        checkSameDir(this.dir, dirId);
        const outcome = await this.tryAllocate(req, v, busy, dirId);
        if (outcome.allocation) return outcome.allocation;
        if (outcome.unconfirmed) {
          // The lock moved on while this committed: hand the lease out only if that very
          // record is in the registry now, else allocate again (a bounded number of times).
          const { lease } = outcome.unconfirmed;
          if (await this.confirm(lease, dirId)) return outcome.unconfirmed;
          lost = this.lostCommit(lost, `lease ${lease.id} (key ${lease.key})`);
          this.opts.warn?.(
            `registry: the lock was taken over while lease ${lease.id} was written, and it is not in the registry; allocating again`,
          );
          continue;
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new RuntimeError(
            `range ${formatRange(v.range)} has no ${v.names.length} free port${v.names.length === 1 ? '' : 's'}${req.contiguous ? ' in a row' : ''}${waitMs > 0 ? ` after waiting ${formatDuration(waitMs)}` : ''}; ${outcome.holders}`,
          );
        }
        this.debug(`range full; waiting up to ${Math.ceil(left / 1000)}s for a release`);
        await waiter.wait(left);
      }
    } finally {
      waiter.close();
    }
  }

  private async withLock<T>(dirId: DirId, fn: (lock: Lock) => Promise<T>): Promise<T> {
    let lock: Lock;
    try {
      lock = await acquireLock(this.dir, {
        timeoutMs: this.opts.lockTimeoutMs,
        warn: this.opts.warn,
        debug: this.opts.debug,
      });
    } catch (err) {
      throw err instanceof PortleaseError ? err : registryError(this.dir, err);
    }
    try {
      checkSameDir(this.dir, dirId);
      return await fn(lock);
    } finally {
      lock.release();
    }
  }

  /**
   * After a commit the lock had moved on from: is exactly this record (same id, ports,
   * owner, expiry) in the registry now? A grown or renewed lease whose write was lost is
   * not: the record there is the old one.
   */
  private async confirm(lease: Lease, dirId: DirId): Promise<boolean> {
    const text = canonical(lease);
    return this.withLock(dirId, (lock) => {
      const state = this.disk.read(lock);
      return Promise.resolve(state.leases.some((l) => l.id === lease.id && canonical(l) === text));
    });
  }

  /**
   * Count one commit that did not land (the lock moved on while it was written). A
   * takeover needs proof that the holder died, so this happens only when something on the
   * host breaks the lock protocol: after MAX_LOST_COMMITS in a row the operation fails with
   * one line instead of trying for ever. Returns the new count.
   */
  private lostCommit(lost: number, what: string): number {
    const n = lost + 1;
    if (n >= MAX_LOST_COMMITS) {
      throw new RuntimeError(
        `registry ${this.dir}: the lock was taken over while each of ${n} writes of ${what} landed, so none is known to be in the registry; giving up (is a process on this host removing lock files, or running a broken portlease?)`,
      );
    }
    this.debug(`lock generation moved on while ${what} was written; trying again (${n})`);
    return n;
  }

  /**
   * One read-modify-write under the lock that must land: `fn` returns its result and
   * whether its write landed (`StateCache.write`), or landed: true when it wrote nothing.
   * A lost write is done again from a fresh read, at most MAX_LOST_COMMITS times.
   */
  private async commit<T>(
    dirId: DirId,
    what: string,
    fn: (lock: Lock) => Promise<{ value: T; landed: boolean }>,
  ): Promise<T> {
    let lost = 0;
    for (;;) {
      const r = await this.withLock(dirId, fn);
      if (r.landed) return r.value;
      lost = this.lostCommit(lost, what);
    }
  }

  /**
   * One allocation round under the lock: the key's live lease handed back (renewed or
   * grown), else new ports chosen. `holders` describes who holds the range when it is full.
   */
  private async tryAllocate(
    req: AllocateRequest,
    v: CheckedRequest,
    busy: ReadonlySet<number>,
    dirId: DirId,
  ): Promise<Round> {
    return this.withLock(dirId, async (lock) => {
      const now = Date.now();
      const cache = new OwnerCache();
      const state = this.disk.read(lock);
      const live = LiveLeases.read(
        state,
        await this.resolve(state.leases, now, cache),
        now,
        (m) => {
          this.debug(m);
        },
      );
      const usable = this.usablePorts(live, v, busy, now, cache);
      const same = v.key === undefined ? undefined : live.withKey(v.key);
      if (same !== undefined) {
        const dead = await this.deadReason(same, now, cache);
        if (dead === null) return this.handBack(lock, live, same, req, v, usable, now);
        live.drop(same, dead);
      }
      return this.leaseNew(lock, live, req, v, usable, now);
    });
  }

  /**
   * Can port `p` be handed out in this round? Not when the request excludes it, a live
   * lease claims it (dead claimants are dropped on the way), a container engine publishes
   * it, or a probe finds it in use outside the registry.
   */
  private usablePorts(
    live: LiveLeases,
    v: CheckedRequest,
    busy: ReadonlySet<number>,
    now: number,
    cache: OwnerCache,
  ): (p: number) => Promise<boolean> {
    return async (p) => {
      if (v.excluded(p) !== null) return false;
      for (const h of live.claimsOf(p)) {
        const dead = await this.deadReason(h, now, cache);
        if (dead === null) return false;
        live.drop(h, dead);
      }
      if (busy.has(p)) {
        this.debug(`port ${p}: published by a container engine`);
        return false;
      }
      const why = await probePort(p);
      if (why !== null) this.debug(`port ${p}: in use outside the registry (${why})`);
      return why === null;
    };
  }

  /** The key's live lease `same`, handed back as it is, renewed or grown (reuse.ts). */
  private async handBack(
    lock: Lock,
    live: LiveLeases,
    same: Lease,
    req: AllocateRequest,
    v: CheckedRequest,
    usable: (p: number) => Promise<boolean>,
    now: number,
  ): Promise<Round> {
    const next = await reuseLease(same, req, v, usable, now);
    if (next !== same) live.replace(same, next);
    const allocation = { lease: next, reused: true };
    // A grown or renewed record is handed out only once it is on disk.
    if (live.dirty && !this.disk.write(lock, live.records())) {
      return { unconfirmed: allocation, holders: '' };
    }
    this.debug(
      next === same
        ? `key ${same.key} already holds ${same.id}: handing it back`
        : `key ${same.key} holds ${same.id}: renewed or grown`,
    );
    return { allocation, holders: '' };
  }

  /** New ports chosen in the range, written as a new lease. */
  private async leaseNew(
    lock: Lock,
    live: LiveLeases,
    req: AllocateRequest,
    v: CheckedRequest,
    usable: (p: number) => Promise<boolean>,
    now: number,
  ): Promise<Round> {
    const key = v.key ?? newLeaseId().replace(/^pl_/, 'anon-');
    const chosen = await choosePorts({
      count: v.names.length,
      range: v.range,
      contiguous: req.contiguous === true,
      start: startPort(v.range, v.strategy, key),
      usable,
    });
    if (chosen === null) {
      // Only reclaimed records to write: if that is lost, the next round reclaims them again.
      if (live.dirty) this.disk.write(lock, live.records());
      return { holders: live.describeHolders(v.range) };
    }
    let id = newLeaseId();
    while (live.byId.has(id)) id = newLeaseId();
    const lease = newLease(id, key, v.names, chosen, req, v.range, now);
    live.add(lease);
    if (!this.disk.write(lock, live.records())) {
      return { unconfirmed: { lease, reused: false }, holders: '' };
    }
    this.debug(
      `leased ${lease.id} (key ${key}): ${Object.entries(lease.ports)
        .map(([n, p]) => `${n}=${p}`)
        .join(' ')}`,
    );
    return { allocation: { lease, reused: false }, holders: '' };
  }

  /**
   * Change lease `id` in place: a new owner (exec, once its command's session exists) and/or
   * a new expiry `ttlMs` from now (exec's heartbeat). Returns the new record, or null when no
   * such lease is left (it is never brought back).
   */
  async update(
    id: string,
    changes: { owner?: Owner | null; ttlMs?: number },
  ): Promise<Lease | null> {
    checkRegistryPath(this.dir);
    const dirId = openRegistryDir(this.dir);
    return this.commit<Lease | null>(dirId, `the update of lease ${id}`, (lock) => {
      const state = this.disk.read(lock);
      const found = state.leases.find((l) => l.id === id);
      if (!found) {
        // Only damage to drop: a lost write of that is dropped again by the next writer.
        if (state.rejected > 0) this.disk.write(lock, state.leases);
        return Promise.resolve({ value: null, landed: true });
      }
      const lease = writableLease({
        ...found,
        owner: changes.owner === undefined ? found.owner : changes.owner,
        expires:
          changes.ttlMs === undefined
            ? found.expires
            : new Date(Date.now() + changes.ttlMs).toISOString(),
      });
      const landed = this.disk.write(
        lock,
        state.leases.map((l) => (l === found ? lease : l)),
      );
      return Promise.resolve({ value: lease, landed });
    });
  }

  /** Release a lease by key or id. Returns it, or null when there was none (not an error). */
  async release(sel: ReleaseSelector): Promise<Lease | null> {
    if ('key' in sel) checkKey(sel.key, 'key');
    checkRegistryPath(this.dir);
    const dirId = openRegistryDir(this.dir);
    const matches = (l: Lease): boolean => ('key' in sel ? l.key === sel.key : l.id === sel.lease);
    const what = 'key' in sel ? `the release of key ${sel.key}` : `the release of ${sel.lease}`;
    /** The lease a round found: a later round after a lost write may find it gone. */
    let released: Lease | null = null;
    return this.commit(dirId, what, (lock) => {
      const state = this.disk.read(lock);
      const found = state.leases.find(matches) ?? null;
      released ??= found;
      if (!found && state.rejected === 0) return Promise.resolve({ value: released, landed: true });
      const landed = this.disk.write(
        lock,
        state.leases.filter((l) => l !== found),
      );
      if (found && landed) this.debug(`released ${found.id} (key ${found.key})`);
      return Promise.resolve({ value: released, landed });
    });
  }

  /** Live leases, without taking the lock (every write is atomic, so a read sees a whole state). */
  async list(): Promise<LeaseStatus[]> {
    return (await this.listState()).leases;
  }

  /** Live leases, and whether the read found damage (then the list may miss some). */
  async listState(): Promise<{ leases: LeaseStatus[]; damaged: boolean }> {
    checkRegistryPath(this.dir);
    const state = this.disk.peek();
    const now = Date.now();
    const cache = new OwnerCache();
    const out: LeaseStatus[] = [];
    const { kept } = await this.resolve(state.leases, now, cache);
    for (const lease of kept) {
      if ((await this.deadReason(lease, now, cache)) !== null) continue;
      out.push({ lease, liveness: await this.liveness(lease, cache) });
    }
    return { leases: out, damaged: state.rejected > 0 };
  }

  /** Remove every lease that is no longer live; with dryRun, only say which. */
  async gc(opts: { dryRun?: boolean } = {}): Promise<GcReport> {
    checkRegistryPath(this.dir);
    const sweep = async (
      leases: Lease[],
    ): Promise<{ removed: GcEntry[]; live: Lease[]; trimmed: boolean }> => {
      const now = Date.now();
      const cache = new OwnerCache();
      const { kept, dropped } = await this.resolve(leases, now, cache);
      const removed: GcEntry[] = [...dropped];
      const live: Lease[] = [];
      for (const lease of kept) {
        const reason = await this.deadReason(lease, now, cache);
        if (reason === null) live.push(lease);
        else removed.push({ lease, reason });
      }
      return { removed, live, trimmed: kept.some((l) => !leases.includes(l)) };
    };
    if (opts.dryRun) {
      const state = this.disk.peek();
      const { removed, live } = await sweep(state.leases);
      return { removed, live, temps: 0, damaged: state.rejected > 0 };
    }
    const dirId = openRegistryDir(this.dir);
    return this.commit(dirId, 'gc', async (lock) => {
      const state = this.disk.read(lock);
      const { trimmed, ...result } = await sweep(state.leases);
      const landed =
        result.removed.length > 0 || trimmed || state.rejected > 0
          ? this.disk.write(lock, result.live)
          : true;
      const value = {
        ...result,
        temps: landed ? sweepTemps(this.dir, STATE_FILE) : 0,
        damaged: state.rejected > 0,
      };
      return { value, landed };
    });
  }
}
