/**
 * The lease registry: allocate, release, list, gc. Pure Node; knows nothing of GitHub.
 */
import { lstatSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { choosePorts, extendBlock, isBlock, startPort } from './allocate.js';
import { errnoCode, PortleaseError, RuntimeError, UsageError } from './errors.js';
import {
  checkKey,
  checkNames,
  DEFAULT_RANGE,
  formatDuration,
  LABEL_KEY,
  withoutControlChars,
  type PortRange,
  type Strategy,
} from './inputs.js';
import { acquireLock, type Lock } from './lock.js';
import {
  describeOwner,
  OwnerCache,
  ownerLiveness,
  type ContainerOwner,
  type Liveness,
  type Owner,
} from './owner.js';
import {
  formatRange,
  hasIPv6,
  inRange,
  kernelPorts,
  probePort,
  type KernelPorts,
} from './probe.js';
import {
  checkRegistryPath,
  ensureRegistryDir,
  freezeLease,
  newLeaseId,
  readState,
  registryError,
  STATE_VERSION,
  sameFile,
  stateFileId,
  sweepTemps,
  validateLease,
  writeState,
  type FileId,
  type Lease,
  type ReadResult,
} from './store.js';

export * from './errors.js';
export * from './inputs.js';
export type { Lease } from './store.js';
export type {
  Owner,
  OwnerKind,
  OwnerChoice,
  OwnerSpec,
  ProcessOwner,
  ContainerOwner,
  SessionOwner,
  DirOwner,
  TreeOwner,
  Liveness,
} from './owner.js';
export {
  defaultOwner,
  describeProcess,
  describeOwner,
  findAncestor,
  parseOwnerSpec,
  resolveOwner,
  RUNNER_WORKER,
  self as selfOwner,
  treeOwner,
} from './owner.js';
export { formatRange } from './probe.js';

/** The host-wide default: one path for every user (never $TMPDIR, which is per user). */
export function defaultRegistryDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.PORTLEASE_REGISTRY;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  if (process.platform === 'win32') {
    return join(env.ProgramData ?? 'C:\\ProgramData', 'portlease');
  }
  return '/tmp/portlease';
}

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

export interface GcEntry {
  lease: Lease;
  reason: string;
}

export interface GcReport {
  removed: GcEntry[];
  live: Lease[];
  temps: number;
  /** The registry read found damaged lines or records (some leases may have been lost). */
  damaged: boolean;
}

/** The identity of the registry directory as validated: it must stay this very directory. */
interface DirId {
  dev: number;
  ino: number;
}

/**
 * Labels are informational (run, job, runner): keep the ones that fit the record format
 * (key: letters, digits, . _ -, up to 64; value: up to 512 characters, control characters
 * replaced by spaces), at most 32, rather than refuse a lease over a job's odd name.
 */
function cleanLabels(labels: Record<string, string>): Record<string, string> {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_KEY.test(k) || out.length >= 32) continue;
    out.push([k, withoutControlChars(v).slice(0, 512)]);
  }
  return Object.fromEntries(out);
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

function showPorts(ports: [string, number][]): string {
  return ports.map(([n, p]) => `${n}=${p}`).join(', ');
}

function sameOwner(a: Owner | null, b: Owner | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class Registry {
  readonly dir: string;
  private readonly opts: RegistryOptions;
  /**
   * The state as this process last saw it under the lock: lock generation, file identity and
   * the validated leases. Lock generations are consecutive, so when this process now holds
   * generation G+1 and the file is the very one it saw at G, no other process can have
   * written in between and the file need not be read and validated again.
   */
  private seen: { generation: number; file: FileId | null; leases: Lease[] } | undefined;

  constructor(dir: string = defaultRegistryDir(), opts: RegistryOptions = {}) {
    this.dir = dir;
    this.opts = opts;
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

  /** Validate a request completely, before anything on disk is touched. */
  private validate(req: AllocateRequest): {
    names: string[];
    range: PortRange;
    strategy: Strategy;
    key: string | undefined;
    excluded: (p: number) => string | null;
  } {
    const names = checkNames(req.names, 'names');
    const range = req.range ?? DEFAULT_RANGE;
    if (req.key !== undefined) checkKey(req.key, 'key');
    if ((req.ttlMs === null || req.ttlMs === undefined) && req.owner === null) {
      throw new UsageError('ttl: a lease without an owner needs a TTL; give --ttl or an owner');
    }
    if (req.ttlMs !== null && req.ttlMs !== undefined && !(req.ttlMs > 0)) {
      throw new UsageError('ttl: must be longer than 0');
    }
    checkRegistryPath(this.dir);
    const kernel = this.opts.kernel ?? kernelPorts();
    const excluded = (p: number): string | null => {
      if (!req.allowEphemeral && kernel.ephemeral && inRange(p, kernel.ephemeral)) {
        return 'ephemeral';
      }
      return kernel.reserved.some((r) => inRange(p, r)) ? 'reserved' : null;
    };
    const span = range.hi - range.lo + 1;
    const usable =
      span -
      excludedCount(range, [
        ...(!req.allowEphemeral && kernel.ephemeral ? [kernel.ephemeral] : []),
        ...kernel.reserved,
      ]);
    if (usable === 0) {
      const eph = kernel.ephemeral ? formatRange(kernel.ephemeral) : 'none';
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

  async allocate(req: AllocateRequest): Promise<Allocation> {
    const v = this.validate(req);
    const dirId = this.ensureDir();
    const waitMs = req.waitMs ?? 0;
    const deadline = Date.now() + waitMs;
    let watcher: FSWatcher | undefined;
    let changed: (() => void) | undefined;
    let pollMs = 50;
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
        this.checkDir(dirId);
        const outcome = await this.tryAllocate(req, v, busy, dirId);
        if (outcome.allocation) return outcome.allocation;
        if (outcome.unconfirmed) {
          // The lock moved on while this committed: report the lease only if it is there.
          if (await this.confirm(outcome.unconfirmed, dirId)) {
            return { lease: outcome.unconfirmed, reused: false };
          }
          this.opts.warn?.(
            `registry: the lock was taken over while lease ${outcome.unconfirmed.id} was written, and it is not in the registry; allocating again`,
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

  /** Make (or check) the registry directory, and remember which directory it is. */
  private ensureDir(): DirId {
    ensureRegistryDir(this.dir);
    const st = lstatSync(this.dir);
    return { dev: st.dev, ino: st.ino };
  }

  /**
   * The registry path must still be the directory validated at the start: not a symlink put
   * in its place (never followed), not another directory.
   */
  private checkDir(id: DirId): void {
    let st;
    try {
      st = lstatSync(this.dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        throw new RuntimeError(`registry: ${this.dir} was removed while portlease used it`);
      }
      throw registryError(this.dir, err);
    }
    if (st.isSymbolicLink()) {
      throw new RuntimeError(
        `registry: ${this.dir} was replaced by a symlink while portlease used it; portlease never follows one there. Nothing was written`,
      );
    }
    if (!st.isDirectory() || st.dev !== id.dev || st.ino !== id.ino) {
      throw new RuntimeError(
        `registry: ${this.dir} was replaced by another ${st.isDirectory() ? 'directory' : 'file'} while portlease used it; nothing was written`,
      );
    }
  }

  private async withLock<T>(dirId: DirId, fn: (lock: Lock) => Promise<T>): Promise<T> {
    let lock: Lock;
    try {
      lock = await acquireLock(this.dir, {
        timeoutMs: this.opts.lockTimeoutMs,
        debug: this.opts.debug,
      });
    } catch (err) {
      throw err instanceof PortleaseError ? err : registryError(this.dir, err);
    }
    try {
      this.checkDir(dirId);
      return await fn(lock);
    } finally {
      lock.release();
    }
  }

  /**
   * Records that claim a port or a key another record claims (a hand edit, a restore, a
   * salvaged file): keep every live claimant and drop the dead ones. A port two live
   * records claim stays with the one written first; the later one loses that port only.
   */
  private async resolveConflicts(
    leases: readonly Lease[],
    now: number,
    cache: OwnerCache,
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
      const reason = await this.deadReason(l, now, cache);
      if (reason !== null) {
        gone.add(l);
        dropped.push({ lease: l, reason });
      }
    }
    const live = [...involved].filter((l) => !gone.has(l));
    // Dropping records is news; two live claimants kept again on every call are not.
    (dropped.length > 0 ? this.opts.warn : this.opts.debug)?.(
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
      this.opts.warn?.(
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

  /** After a commit the lock had moved on from: is the lease in the registry now? */
  private async confirm(lease: Lease, dirId: DirId): Promise<boolean> {
    return this.withLock(dirId, (lock) => {
      const state = this.readLocked(lock);
      return Promise.resolve(state.leases.some((l) => l.id === lease.id));
    });
  }

  private async tryAllocate(
    req: AllocateRequest,
    v: ReturnType<Registry['validate']>,
    busy: ReadonlySet<number>,
    dirId: DirId,
  ): Promise<{ allocation?: Allocation; unconfirmed?: Lease; holders: string }> {
    return this.withLock(dirId, async (lock) => {
      const now = Date.now();
      const state = this.readLocked(lock);
      let dirty = state.rejected > 0;
      const cache = new OwnerCache();
      const leases = new Map<string, Lease>();
      /** Every record claiming each port (more than one only after a conflict). */
      const holder = new Map<number, Lease[]>();
      const resolved = await this.resolveConflicts(state.leases, now, cache);
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
            const next = await this.reuse(same, req, v, usable, now);
            if (next !== same) {
              leases.set(same.id, next); // same place in the file
              dirty = true;
            }
            if (dirty) this.commit(lock, [...leases.values()]);
            this.debug(
              next === same
                ? `key ${v.key} already holds ${same.id}: handing it back`
                : `key ${v.key} holds ${same.id}: renewed or grown`,
            );
            return { allocation: { lease: next, reused: true }, holders: '' };
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
        if (dirty) this.commit(lock, [...leases.values()]);
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
      if (!this.commit(lock, [...leases.values()])) return { unconfirmed: lease, holders: '' };
      this.debug(
        `leased ${lease.id} (key ${key}): ${Object.entries(lease.ports)
          .map(([n, p]) => `${n}=${p}`)
          .join(' ')}`,
      );
      return { allocation: { lease, reused: false }, holders: '' };
    });
  }

  /**
   * A live lease asked for again by its key: check what was asked explicitly against it,
   * grow it by names it lacks, renew its expiry or owner when asked. Returns `same` itself
   * when nothing changes. Throws (nothing written) when the lease cannot satisfy the request.
   */
  private async reuse(
    same: Lease,
    req: AllocateRequest,
    v: ReturnType<Registry['validate']>,
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
    const dirId = this.ensureDir();
    // A commit the lock moved on from did not count: do it again (as release does).
    for (;;) {
      const outcome = await this.withLock<{ lease: Lease | null; landed: boolean }>(
        dirId,
        (lock) => {
          const state = this.readLocked(lock);
          const found = state.leases.find((l) => l.id === id);
          if (!found) {
            if (state.rejected > 0) this.commit(lock, state.leases);
            return Promise.resolve({ lease: null, landed: true });
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
          const landed = this.commit(
            lock,
            state.leases.map((l) => (l === found ? lease : l)),
          );
          return Promise.resolve({ lease, landed });
        },
      );
      if (outcome.landed) return outcome.lease;
    }
  }

  /** The state, under the lock: from the last operation when provably unchanged, else read. */
  private readLocked(lock: Lock): ReadResult {
    const file = stateFileId(this.dir);
    const seen = this.seen;
    this.seen = undefined;
    if (seen && lock.generation === seen.generation + 1 && sameFile(file, seen.file)) {
      return { leases: [...seen.leases], rejected: 0 };
    }
    const state = readState(this.dir, { quarantine: true, warn: this.opts.warn });
    if (state.newer !== undefined) {
      throw new RuntimeError(
        `registry ${this.dir} was written by a newer portlease (format version ${state.newer}; this one writes version ${STATE_VERSION}); refusing to change it. Upgrade portlease, or use another --registry`,
      );
    }
    if (state.rejected === 0) this.remember(lock, file, state.leases);
    return state;
  }

  private remember(lock: Lock, file: FileId | null, leases: Lease[]): void {
    this.seen = file === null ? undefined : { generation: lock.generation, file, leases };
  }

  /**
   * Write the state under the lock. Returns false when the lock had moved on by the time the
   * write landed (a takeover needs proof of the holder's death, so this should never
   * happen; if it does, the caller checks under a fresh lock what is really there).
   */
  private commit(lock: Lock, leases: Lease[]): boolean {
    lock.assertHeld();
    this.seen = undefined;
    writeState(this.dir, leases);
    if (!lock.held()) {
      this.debug(`lock generation ${lock.generation} was taken over while this wrote`);
      return false;
    }
    this.remember(lock, stateFileId(this.dir), leases);
    return true;
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
    const dirId = this.ensureDir();
    const matches = (l: Lease): boolean => ('key' in sel ? l.key === sel.key : l.id === sel.lease);
    let released: Lease | null = null;
    // A second round only when the lock moved on while the first one wrote.
    for (let round = 0; round < 3; round++) {
      const r = await this.withLock(dirId, (lock) => {
        const state = this.readLocked(lock);
        const found = state.leases.find(matches) ?? null;
        if (!found && state.rejected === 0) return Promise.resolve({ found, landed: true });
        const landed = this.commit(
          lock,
          state.leases.filter((l) => l !== found),
        );
        if (found) this.debug(`released ${found.id} (key ${found.key})`);
        return Promise.resolve({ found, landed });
      });
      released ??= r.found;
      if (r.landed) return released;
    }
    return released;
  }

  /** Live leases, without taking the lock (every write is atomic, so a read sees a whole state). */
  async list(): Promise<LeaseStatus[]> {
    return (await this.listState()).leases;
  }

  /** Live leases, and whether the read found damage (then the list may miss some). */
  async listState(): Promise<{ leases: LeaseStatus[]; damaged: boolean }> {
    checkRegistryPath(this.dir);
    const state = readState(this.dir, { quarantine: false, warn: this.opts.warn });
    const now = Date.now();
    const cache = new OwnerCache();
    const out: LeaseStatus[] = [];
    const { kept } = await this.resolveConflicts(state.leases, now, cache);
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
      const { kept, dropped } = await this.resolveConflicts(leases, now, cache);
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
      const state = readState(this.dir, { quarantine: false, warn: this.opts.warn });
      const { removed, live } = await sweep(state.leases);
      return { removed, live, temps: 0, damaged: state.rejected > 0 };
    }
    const dirId = this.ensureDir();
    return this.withLock(dirId, async (lock) => {
      const state = this.readLocked(lock);
      const { trimmed, ...result } = await sweep(state.leases);
      if (result.removed.length > 0 || trimmed || state.rejected > 0)
        this.commit(lock, result.live);
      return { ...result, temps: sweepTemps(this.dir), damaged: state.rejected > 0 };
    });
  }
}
