/**
 * The one Registry wiring every shell on a host uses (CLI, library, action, container step):
 * where the registry lives, how it logs, and what the container engines add to it (host ports
 * they publish are busy; a container owner lives while its engine says it runs). No
 * @actions/* here: the library bundles this module, and the GitHub shells pass their log
 * (core.warning, core.debug) as `warn` and `debug`.
 */
import { containerLivenessChecker, publishedPorts } from '../engines/host.js';
import {
  defaultRegistryDir,
  describeError,
  Registry,
  UsageError,
  type RegistryOptions,
} from '../core/index.js';

/** A lease's TTL when none is given: bounds a lease whose owner outlives its use. */
export const DEFAULT_TTL_MS = 24 * 3_600_000;

/**
 * How often a holder that lives on (exec; the library's lease(), getPort() and listen())
 * renews a lease that has the default TTL, so a server may run for days: hourly. PORTLEASE_HEARTBEAT_MS overrides it
 * (at least 1 s), for tests.
 */
export function heartbeatMs(env: NodeJS.ProcessEnv = process.env): number {
  return Math.max(1000, Number(env.PORTLEASE_HEARTBEAT_MS) || 3_600_000);
}

/**
 * Renew lease `id` to `ttlMs` from now every heartbeatMs() while its holder runs (exec; the
 * library's lease(), getPort() and listen()): a lease with the default TTL would otherwise
 * expire under a holder that runs for days. The timer is unref'd (it never keeps a process alive) and
 * stops by itself once the lease is gone (released elsewhere, reclaimed); a renewal that
 * fails is told to `warn` as one line. Returns the stop.
 */
export function renewWhileHeld(
  registry: Registry,
  id: string,
  ttlMs: number,
  warn: (message: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): () => void {
  const timer = setInterval(() => {
    registry.update(id, { ttlMs }).then(
      (lease) => {
        if (lease === null) clearInterval(timer);
      },
      (err: unknown) => {
        warn(`could not renew ${id}: ${describeError(err)}`);
      },
    );
  }, heartbeatMs(env));
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}

export interface HostRegistryOptions extends Partial<RegistryOptions> {
  /** Environment for the default directory and the engine queries. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * A long-lived caller (the lease server) may reuse the engines' published ports for this
   * long after a query started, instead of asking again for every allocation (each answer
   * costs about a millisecond). Default 0: every allocation asks.
   */
  busyPortsMaxAgeMs?: number;
}

/**
 * How long a long-lived server (`serve`, `portserver`) reuses the container engines'
 * published ports for a burst of allocations. Those ports are a best-effort check made
 * outside the lock (a container that publishes a port a moment after the check is not seen
 * either way), and every port is still probed by binding it; asking the engines for each
 * request would cost about a millisecond each.
 */
export const SERVER_BUSY_PORTS_MAX_AGE_MS = 250;

/**
 * `query` shared by every caller while it runs and for `maxAgeMs` after it started: one
 * answer for a burst of allocations. A failed query is never reused.
 */
export function sharedQuery<T>(query: () => Promise<T>, maxAgeMs: number): () => Promise<T> {
  let last: { started: number; answer: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (last !== undefined && now - last.started <= maxAgeMs) return last.answer;
    const answer = query();
    const mine = { started: now, answer };
    last = mine;
    answer.catch(() => {
      if (last === mine) last = undefined;
    });
    return answer;
  };
}

/**
 * The registry directory a user named (`label` is how the input is called: `--registry`,
 * `registry`, ...), else $PORTLEASE_REGISTRY, else the host-wide default.
 */
export function registryDir(
  dir: string | undefined,
  label: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (dir !== undefined && dir.trim() === '') {
    throw new UsageError(`${label}: empty path; name a directory`);
  }
  return dir ?? defaultRegistryDir(env);
}

/** Is PORTLEASE_DEBUG set (to anything but 0)? */
export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.PORTLEASE_DEBUG;
  return v !== undefined && v !== '' && v !== '0';
}

/** A Registry at `dir` that treats engine-published host ports as busy and knows container liveness. */
export function createHostRegistry(dir: string, opts: HostRegistryOptions = {}): Registry {
  const { env = process.env, busyPortsMaxAgeMs = 0, ...rest } = opts;
  const debug = rest.debug;
  const published = (): Promise<number[]> => publishedPorts({ env, debug });
  return new Registry(dir, {
    // Host ports published by containers (docker/podman) are busy even where no socket shows.
    busyPorts: busyPortsMaxAgeMs > 0 ? sharedQuery(published, busyPortsMaxAgeMs) : published,
    containerLiveness: containerLivenessChecker({ env }),
    ...rest,
  });
}
