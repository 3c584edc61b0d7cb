/**
 * What the host's container engines know that a socket probe may not, as the core and gc
 * need it: host ports they publish (busy for every allocation), whether a job container
 * still runs (container owners), and service containers whose lease is gone (gc).
 *
 * Every query is bounded by a short timeout and answers "nothing known" quietly when no
 * engine is installed or answering: an engine is never required.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { describeError } from '../core/errors.js';
import { bootId, type ContainerOwner, type Liveness } from '../core/owner.js';
import {
  ContainerEngine,
  ENGINES,
  LEASE_LABEL,
  REGISTRY_LABEL,
  type EngineName,
  type EngineOptions,
} from './engine.js';

export interface HostQueryOptions extends EngineOptions {
  /** Which engines to ask. Default: docker, and podman when running as root. */
  engines?: readonly EngineName[];
  debug?: (msg: string) => void;
  warn?: (msg: string) => void;
}

/**
 * Host TCP ports published by running containers (any container, portlease's or not), from
 * every engine asked. [] when no engine is installed or answering; never throws.
 */
export async function publishedPorts(opts: HostQueryOptions = {}): Promise<number[]> {
  const results = await Promise.all(
    ContainerEngine.present(opts).map(async (e) => {
      try {
        return (await e.list()).flatMap((c) => c.hostPorts);
      } catch (err) {
        opts.debug?.(`${e.name}: no published ports known: ${describeError(err)}`);
        return [];
      }
    }),
  );
  return [...new Set(results.flat())].sort((a, b) => a - b);
}

export interface OrphanContainer {
  engine: EngineName;
  id: string;
  name: string;
  lease: string;
  /** false when removal failed (a warning says why) or in a dry run. */
  removed: boolean;
}

/**
 * Remove every container labelled `portlease.lease=<id>` whose lease is not in
 * `liveLeaseIds` and whose `portlease.registry` label names `registry`. With `dryRun`,
 * only say which. Never throws; failures become warnings.
 *
 * `liveLeaseIds` is called after the containers are listed, which closes a race: a service
 * that leased and started its container meanwhile (lease first, then `run`) is seen live
 * and never removed.
 */
export async function removeOrphanContainers(
  /** Resolves to null when the live set is not known for sure (a damaged registry read): remove nothing. */
  liveLeaseIds: () => Promise<Iterable<string> | null>,
  opts: HostQueryOptions & { dryRun?: boolean; registry: string },
): Promise<OrphanContainer[]> {
  const registry = resolve(opts.registry);
  const found: [ContainerEngine, Awaited<ReturnType<ContainerEngine['list']>>][] = [];
  for (const e of ContainerEngine.present(opts)) {
    try {
      found.push([e, await e.list({ all: true, label: LEASE_LABEL })]);
    } catch (err) {
      opts.warn?.(`${e.name}: cannot list containers: ${describeError(err)}`);
    }
  }
  if (found.every(([, list]) => list.length === 0)) return [];
  const ids = await liveLeaseIds();
  if (ids === null) return [];
  const live = new Set(ids);
  const out: OrphanContainer[] = [];
  for (const [e, list] of found) {
    for (const c of list) {
      const lease = c.labels[LEASE_LABEL];
      const theirs = c.labels[REGISTRY_LABEL];
      if (lease === undefined || c.id === '' || live.has(lease)) continue;
      if (theirs === undefined || resolve(theirs) !== registry) continue;
      const entry: OrphanContainer = {
        engine: e.name,
        id: c.id,
        name: c.name,
        lease,
        removed: false,
      };
      if (!opts.dryRun) {
        try {
          await e.remove(c.id);
          entry.removed = true;
        } catch (err) {
          opts.warn?.(
            `${e.name}: cannot remove container ${c.id.slice(0, 12)}: ${describeError(err)}`,
          );
        }
      }
      out.push(entry);
    }
  }
  return out;
}

/**
 * Remove every container of one lease in `registry` (any engine present): those labelled
 * `portlease.lease=<id>` and `portlease.registry=<registry>`. The ids removed; never throws.
 */
export async function removeLeaseContainers(
  leaseId: string,
  opts: HostQueryOptions & { registry: string },
): Promise<string[]> {
  const registry = resolve(opts.registry);
  const removed: string[] = [];
  for (const e of ContainerEngine.present(opts)) {
    try {
      for (const c of await e.list({ all: true, label: `${LEASE_LABEL}=${leaseId}` })) {
        const theirs = c.labels[REGISTRY_LABEL];
        if (c.id === '' || theirs === undefined || resolve(theirs) !== registry) continue;
        await e.remove(c.id);
        removed.push(c.id);
      }
    } catch (err) {
      opts.warn?.(`${e.name}: containers of lease ${leaseId}: ${describeError(err)}`);
    }
  }
  return removed;
}

/**
 * Liveness of a container owner (the core's `containerLiveness` hook): 'alive' while an
 * engine says it runs; 'dead' only when provable from here: the same kernel boot (a job
 * container shares the host's boot id, not its hostname) and every engine on the host
 * answered that it is not running; or the same host with another boot id (rebooted).
 * Otherwise 'unknown' (another machine, or no engine answering): the TTL decides.
 */
export function containerLivenessChecker(
  opts: HostQueryOptions = {},
): (owner: Pick<ContainerOwner, 'id' | 'host' | 'boot'>) => Promise<Liveness> {
  return async (owner) => {
    const boot = bootId();
    if (owner.boot !== null && boot !== null) {
      if (owner.boot !== boot) return owner.host === hostname() ? 'dead' : 'unknown';
    } else if (owner.host !== hostname()) {
      return 'unknown';
    }
    const found = ContainerEngine.present({ ...opts, engines: opts.engines ?? ENGINES });
    if (found.length === 0) return 'unknown';
    let unsure = false;
    for (const e of found) {
      try {
        if (await e.running(owner.id)) return 'alive';
      } catch {
        unsure = true;
      }
    }
    return unsure ? 'unknown' : 'dead';
  };
}
