/**
 * The lease registry: allocate, update, release, list and gc, each a read-modify-write of the
 * state file under the host-wide lock. Pure Node; knows nothing of GitHub or containers (the
 * engines come in through two hooks of RegistryOptions).
 */
import { watch, type FSWatcher } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
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
import { PortleaseError, RuntimeError, UsageError } from './errors.js';
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
import { checkKey, formatDuration, type PortRange } from './parse.js';
import { formatRange, hasIPv6, inRange, probePort, type KernelPorts } from './probe.js';
import { checkRequest, cleanLabels, type AllocateRequest, type CheckedRequest } from './request.js';
import { reuseLease } from './reuse.js';
import { freezeLease, newLeaseId, STATE_FILE, validateLease, type Lease } from './schema.js';

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

/** A record's JSON with every object's keys sorted: equal for equal records, whoever wrote them. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'object' && x !== null && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
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
    let watcher: FSWatcher | undefined;
    let changed: (() => void) | undefined;
    let pollMs = 50;
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
        if (watcher === undefined) {
          try {
            watcher = watch(this.dir, { persistent: false }, () => changed?.());
          } catch {
            // no watch support here: polling alone
          }
        }
        this.debug(`range full; waiting up to ${Math.ceil(left / 1000)}s for a release`);
        const ac = new AbortController();
        const woke = new Promise<void>((resolve) => {
          changed = () => {
            ac.abort();
            resolve();
          };
        });
        await Promise.race([
          woke,
          sleep(Math.min(pollMs, left), undefined, { signal: ac.signal }).catch(() => undefined),
        ]);
        changed = undefined;
        ac.abort();
        pollMs = Math.min(pollMs * 2, 1000);
      }
    } finally {
      watcher?.close();
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

  private async tryAllocate(
    req: AllocateRequest,
    v: CheckedRequest,
    busy: ReadonlySet<number>,
    dirId: DirId,
  ): Promise<{ allocation?: Allocation; unconfirmed?: Allocation; holders: string }> {
    return this.withLock(dirId, async (lock) => {
      const now = Date.now();
      const state = this.disk.read(lock);
      let dirty = state.rejected > 0;
      const cache = new OwnerCache();
      const leases = new Map<string, Lease>();
      /** Every record claiming each port (more than one only after a conflict). */
      const holder = new Map<number, Lease[]>();
      const resolved = await this.resolve(state.leases, now, cache);
      for (const { lease, reason } of resolved.dropped) {
        this.debug(`reclaimed ${lease.id} (key ${lease.key}): ${reason}`);
        dirty = true;
      }
      // A record trimmed of a port an earlier live record holds is written back trimmed.
      if (resolved.kept.some((l) => !state.leases.includes(l))) dirty = true;
      for (const l of resolved.kept) {
        if (l.expires !== null && Date.parse(l.expires) <= now) {
          this.debug(`reclaimed ${l.id} (key ${l.key}): expired at ${l.expires}`);
          dirty = true;
          continue;
        }
        leases.set(l.id, l);
        for (const p of Object.values(l.ports)) holder.set(p, [...(holder.get(p) ?? []), l]);
      }
      const drop = (l: Lease, why: string): void => {
        this.debug(`reclaimed ${l.id} (key ${l.key}): ${why}`);
        leases.delete(l.id);
        for (const p of Object.values(l.ports)) {
          const rest = (holder.get(p) ?? []).filter((h) => h !== l);
          if (rest.length > 0) holder.set(p, rest);
          else holder.delete(p);
        }
        dirty = true;
      };

      const usable = async (p: number): Promise<boolean> => {
        if (v.excluded(p) !== null) return false;
        for (const h of holder.get(p) ?? []) {
          const dead = await this.deadReason(h, now, cache);
          if (dead === null) return false;
          drop(h, dead);
        }
        if (busy.has(p)) {
          this.debug(`port ${p}: published by a container engine`);
          return false;
        }
        const why = await probePort(p);
        if (why !== null) this.debug(`port ${p}: in use outside the registry (${why})`);
        return why === null;
      };

      if (v.key !== undefined) {
        const same = [...leases.values()].find((l) => l.key === v.key);
        if (same) {
          const dead = await this.deadReason(same, now, cache);
          if (dead === null) {
            const next = await reuseLease(same, req, v, usable, now);
            if (next !== same) {
              leases.set(same.id, next); // same place in the file
              dirty = true;
            }
            const allocation = { lease: next, reused: true };
            // A grown or renewed record is handed out only once it is on disk.
            if (dirty && !this.disk.write(lock, [...leases.values()])) {
              return { unconfirmed: allocation, holders: '' };
            }
            this.debug(
              next === same
                ? `key ${v.key} already holds ${same.id}: handing it back`
                : `key ${v.key} holds ${same.id}: renewed or grown`,
            );
            return { allocation, holders: '' };
          }
          drop(same, dead);
        }
      }

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
        if (dirty) this.disk.write(lock, [...leases.values()]);
        return { holders: this.describeHolders(v.range, leases) };
      }
      let id = newLeaseId();
      while (leases.has(id)) id = newLeaseId();
      const lease: Lease = freezeLease({
        id,
        key,
        ports: Object.fromEntries(v.names.map((n, i) => [n, chosen[i] as number])),
        range: { lo: v.range.lo, hi: v.range.hi },
        contiguous: req.contiguous === true,
        owner: req.owner,
        created: new Date(now).toISOString(),
        expires:
          req.ttlMs === null || req.ttlMs === undefined
            ? null
            : new Date(now + req.ttlMs).toISOString(),
        labels: cleanLabels(req.labels ?? {}),
      });
      // What is written must read back valid, or the next reader would set it aside.
      const check = validateLease(JSON.parse(JSON.stringify(lease)));
      if (typeof check === 'string') throw new UsageError(`lease: ${check}`);
      leases.set(lease.id, lease);
      if (!this.disk.write(lock, [...leases.values()])) {
        return { unconfirmed: { lease, reused: false }, holders: '' };
      }
      this.debug(
        `leased ${lease.id} (key ${key}): ${Object.entries(lease.ports)
          .map(([n, p]) => `${n}=${p}`)
          .join(' ')}`,
      );
      return { allocation: { lease, reused: false }, holders: '' };
    });
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
      const lease = freezeLease({
        ...found,
        owner: changes.owner === undefined ? found.owner : changes.owner,
        expires:
          changes.ttlMs === undefined
            ? found.expires
            : new Date(Date.now() + changes.ttlMs).toISOString(),
      });
      const check = validateLease(JSON.parse(JSON.stringify(lease)));
      if (typeof check === 'string') throw new UsageError(`lease: ${check}`);
      const landed = this.disk.write(
        lock,
        state.leases.map((l) => (l === found ? lease : l)),
      );
      return Promise.resolve({ value: lease, landed });
    });
  }

  private describeHolders(range: PortRange, leases: Map<string, Lease>): string {
    const inside = [...leases.values()].filter((l) =>
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
