/**
 * get-port 7's API over the registry: `getPort(options?)`, `portNumbers(from, to)`,
 * `clearLockedPorts()`, plus `releasePort(port)`.
 *
 * Same order as get-port: the preferred ports in the order given (each taken when free),
 * then any port. What differs:
 * - every port returned is leased host-wide (owner: this process; TTL 24h, renewed hourly
 *   while it is held), so other processes using portlease never get it, until this process
 *   exits, `releasePort(port)` or `clearLockedPorts()`; get-port only remembers ports
 *   inside one process, for 15-30 s;
 * - the fallback is a port in 20000-29999 (below the kernel's ephemeral range, where
 *   bind(0) and outbound connections take theirs), not one the kernel picks;
 * - a port is free when 0.0.0.0, 127.0.0.1 and :: can all be bound, and no container engine
 *   publishes it; with `host`, that host is probed as well;
 * - `reserve` is accepted and changes nothing (every port is held as if reserved);
 * - bad options throw a `UsageError` naming the option, not a TypeError.
 */
import { DEFAULT_TTL_MS, renewWhileHeld } from '../job/host-registry.js';
import {
  DEFAULT_RANGE,
  formatRange,
  RuntimeError,
  selfOwner,
  UsageError,
  type Lease as LeaseRecord,
  type PortRange,
  type Registry,
} from '../core/index.js';
import { kernelPorts, tryListen } from '../core/probe.js';
import { libraryRegistry, warn } from './lease.js';

const NAME = 'PORT';

/** Ports this process leased through getPort: port -> its lease. */
const held = new Map<number, { registry: Registry; id: string; stopRenewal: () => void }>();
/** A clearLockedPorts() in progress: getPort waits for it, as get-port's sync clear would. */
let clearing: Promise<void> = Promise.resolve();

function checkPort(p: unknown, label: string): number {
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) {
    throw new UsageError(
      `${label}: ${typeof p === 'number' ? String(p) : typeof p} is not a port; give whole numbers 1-65535`,
    );
  }
  return p;
}

function iterableOf(v: unknown, label: string): Iterable<unknown> {
  if (typeof v === 'object' && v !== null && Symbol.iterator in v) return v as Iterable<unknown>;
  throw new UsageError(
    `${label}: must be a number or an iterable of numbers, like portNumbers(3000, 3100)`,
  );
}

/** The preferred ports without the excluded ones, as runs of consecutive ascending ports. */
function* runs(preferred: Iterable<unknown>, exclude: ReadonlySet<number>): Generator<PortRange> {
  let run: PortRange | undefined;
  for (const item of preferred) {
    const p = checkPort(item, 'port');
    if (p === 0 || exclude.has(p)) continue;
    if (run !== undefined && p === run.hi + 1) {
      run.hi = p;
      continue;
    }
    if (run !== undefined) yield run;
    run = { lo: p, hi: p };
  }
  if (run !== undefined) yield run;
}

/** Parts of `range` that lie outside every range in `out`. */
function without(range: PortRange, out: readonly PortRange[]): PortRange[] {
  let parts = [range];
  for (const o of out) {
    parts = parts.flatMap((r) =>
      o.hi < r.lo || o.lo > r.hi
        ? [r]
        : [
            ...(o.lo > r.lo ? [{ lo: r.lo, hi: o.lo - 1 }] : []),
            ...(o.hi < r.hi ? [{ lo: o.hi + 1, hi: r.hi }] : []),
          ],
    );
  }
  return parts;
}

function isRangeFull(err: unknown, range: PortRange): boolean {
  return (
    err instanceof RuntimeError && err.message.startsWith(`range ${formatRange(range)} has no `)
  );
}

/**
 * Get a free TCP port, leased host-wide to this process. get-port 7's options and order;
 * see the module comment for what differs.
 */
export async function getPort(options?: unknown): Promise<number> {
  await clearing;
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new UsageError('getPort: options must be an object, like { port: 3000 }');
  }
  const o = (options ?? {}) as Record<string, unknown>;
  let preferred: Iterable<unknown> = [];
  if (typeof o.port === 'number') preferred = [checkPort(o.port, 'port')];
  else if (o.port !== undefined && o.port !== null) preferred = iterableOf(o.port, 'port');
  const exclude = new Set<number>();
  if (o.exclude !== undefined) {
    for (const p of iterableOf(o.exclude, 'exclude')) exclude.add(checkPort(p, 'exclude'));
  }
  const host = o.host;
  if (host !== undefined && (typeof host !== 'string' || host.trim() === '')) {
    throw new UsageError('host: give an IPv4 or IPv6 address of this host, like 127.0.0.1');
  }

  const registry = libraryRegistry(undefined);
  const owner = selfOwner();
  const kernel = kernelPorts();
  /** Leased but not handed out (excluded, or busy on `host`): given back at the end. */
  const passed: LeaseRecord[] = [];

  const take = async (range: PortRange, fallback: boolean): Promise<number | null> => {
    for (;;) {
      let record: LeaseRecord;
      try {
        ({ lease: record } = await registry.allocate({
          names: [NAME],
          range,
          strategy: fallback ? 'random' : 'sequential',
          owner,
          ttlMs: DEFAULT_TTL_MS,
          labels: { via: 'getPort' },
          // A port the caller named is theirs to choose, even in the ephemeral range.
          allowEphemeral: !fallback,
        }));
      } catch (err) {
        if (isRangeFull(err, range)) return null;
        throw err;
      }
      const port = record.ports[NAME] as number;
      if (exclude.has(port)) {
        passed.push(record);
        continue;
      }
      if (typeof host === 'string') {
        const code = await tryListen(port, host);
        if (code === 'EADDRINUSE' || code === 'EACCES') {
          passed.push(record);
          continue;
        }
        if (code !== null) {
          await registry.release({ lease: record.id });
          throw new UsageError(
            `host: cannot listen on ${JSON.stringify(host)} (${code}); give an address of this host`,
          );
        }
      }
      const stopRenewal = renewWhileHeld(registry, record.id, DEFAULT_TTL_MS, (message) => {
        warn(`getPort: ${message}`);
      });
      held.set(port, { registry, id: record.id, stopRenewal });
      return port;
    }
  };

  try {
    for (const run of runs(preferred, exclude)) {
      // The kernel's reserved ports are never leased: leave them out rather than fail.
      for (const part of without(run, kernel.reserved)) {
        const port = await take(part, false);
        if (port !== null) return port;
      }
    }
    const port = await take(DEFAULT_RANGE, true);
    if (port === null) throw new RuntimeError(`no free port in ${formatRange(DEFAULT_RANGE)}`);
    return port;
  } finally {
    for (const record of passed) await registry.release({ lease: record.id });
  }
}

/** Give back a port from getPort. A port this process does not hold is ignored. */
export async function releasePort(port: number): Promise<void> {
  const h = held.get(port);
  if (h === undefined) return;
  held.delete(port);
  h.stopRenewal();
  await h.registry.release({ lease: h.id });
}

/**
 * Give back every port this process got from getPort (get-port's name; there it forgets the
 * ports it remembers). getPort calls made after it wait until it is done.
 */
export function clearLockedPorts(): Promise<void> {
  const all = [...held.keys()];
  const done = clearing.then(async () => {
    for (const p of all) await releasePort(p);
  });
  clearing = done.catch(() => undefined);
  return done;
}

const minPort = 1024;
const maxPort = 65_535;

/** get-port's `portNumbers`: the ports from `from` to `to`, inclusive (same checks, same errors). */
export function portNumbers(from: number, to: number): Iterable<number> {
  if (!Number.isInteger(from) || !Number.isInteger(to)) {
    throw new TypeError('`from` and `to` must be integer numbers');
  }
  if (from < minPort || from > maxPort) {
    throw new RangeError(`'from' must be between ${minPort} and ${maxPort}`);
  }
  if (to < minPort || to > maxPort) {
    throw new RangeError(`'to' must be between ${minPort} and ${maxPort}`);
  }
  if (from > to) {
    throw new RangeError('`to` must be greater than or equal to `from`');
  }
  const generator = function* (from: number, to: number): Generator<number> {
    for (let port = from; port <= to; port++) yield port;
  };
  return generator(from, to);
}
