/**
 * The portlease library: `import { lease, listen, getPort, portNumbers } from 'portlease'`.
 *
 * Errors: `UsageError` (bad input; nothing was changed) and `RuntimeError` (the work could
 * not be done: range full, registry not writable; `ListenError`, a RuntimeError with the
 * errno `code`, `host` and `port`: a leased port could not be listened on), all
 * `PortleaseError`s whose message is the CLI's one line (naming the option:
 * `range: "x" is not a port range; ...`).
 *
 * The functions are declared here, over the implementation modules, so that the published
 * declarations hold the public types only.
 */
import * as ports from './get-port.js';
import { lease as leaseImpl } from './lease.js';
import { listen as listenImpl } from './listen.js';
import type {
  GetPortOptions,
  Lease,
  LeaseOptions,
  ListenOptions,
  Listening,
  ServerMap,
} from './types.js';

export type {
  DurationOption,
  GetPortOptions,
  Lease,
  LeaseOptions,
  ListenOptions,
  Listening,
  ListeningServer,
  OwnerOption,
  RangeOption,
  ServerLike,
  ServerMap,
  Strategy,
} from './types.js';
export { ListenError, PortleaseError, RuntimeError, UsageError } from '../core/errors.js';

/**
 * Lease ports host-wide, as `portlease allocate` does. The owner defaults to the calling
 * process: the lease ends when it is released, when that process exits, or after its TTL.
 *
 * ```ts
 * await using l = await lease({ names: ['WEB_PORT', 'DB_PORT'], range: '21000-21063' });
 * server.listen(l.ports.WEB_PORT);
 * ```
 */
export function lease(options: LeaseOptions): Promise<Lease> {
  return leaseImpl(options);
}

/**
 * Lease ports (lease()'s options) and listen on them while the lease is held: from the moment
 * it returns, no process can take them, inside the registry or outside it. `servers` binds
 * your own servers (`http.createServer(handler)`, any net.Server not listening yet); names
 * without one get a new net.Server. The lease is released when the last server closes
 * (`close()`, or each server's `close()`) and reclaimed when the process exits.
 *
 * ```ts
 * const web = await listen({ names: ['WEB_PORT'], servers: { WEB_PORT: http.createServer(app) } });
 * console.log(`http://127.0.0.1:${web.ports.WEB_PORT}/`);
 * ```
 *
 * `host` (default `'127.0.0.1'`): a literal IP of this host (`'0.0.0.0'`, `'::'`, ...);
 * `backlog`, `ipv6Only`: Node's listen options. A port that a process outside the registry
 * takes in the instant between the lease and the bind is given back and another leased
 * (3 leases at most); other failures close what was bound, release, and throw a
 * `ListenError` naming the address.
 */
export function listen<S extends ServerMap = ServerMap>(
  options: ListenOptions<S>,
): Promise<Listening<S>> {
  return listenImpl(options) as Promise<Listening<S>>;
}

/**
 * get-port 7's `getPort`: the preferred ports (`port`) in order, each taken when free,
 * else any port in 20000-29999; never one in `exclude`. The port is leased host-wide to the
 * calling process until it exits, or `releasePort(port)` / `clearLockedPorts()`, so that
 * no other portlease user (another jest worker, another job) gets it meanwhile.
 */
export function getPort(options?: GetPortOptions): Promise<number> {
  return ports.getPort(options);
}

/** Give back a port from `getPort`. A port this process does not hold is ignored. */
export function releasePort(port: number): Promise<void> {
  return ports.releasePort(port);
}

/** Give back every port this process got from `getPort`; later `getPort` calls wait for it. */
export function clearLockedPorts(): Promise<void> {
  return ports.clearLockedPorts();
}

/**
 * get-port's `portNumbers(from, to)`: the ports `from`..`to` (1024-65535, from <= to),
 * with get-port's TypeError/RangeError for anything else.
 */
export function portNumbers(from: number, to: number): Iterable<number> {
  return ports.portNumbers(from, to);
}

export default getPort;
