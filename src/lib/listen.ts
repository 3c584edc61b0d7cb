/**
 * `listen(options)`: lease ports and listen on them while the lease is held, so that from
 * the moment listen() returns no process can take them, inside the registry or outside it
 * (the library's side of `portlease exec --listen`).
 *
 * Order: every option checked, and the host tried (port 0), before the registry is touched;
 * then lease, then bind each port. A leased port that a process outside the registry bound
 * in the instant between the lease and the bind (EADDRINUSE) is given back and the lease
 * taken again (the allocator's probe then skips the port that process holds), up to
 * ATTEMPTS times; any other failure closes what was bound, releases, and throws. The lease
 * is released when the last server closes; the owner is the calling process (as lease()),
 * so it is reclaimed once the process is gone.
 */
import { Server, type Socket } from 'node:net';
import {
  describeError,
  ListenError,
  UsageError,
  type Lease as LeaseRecord,
  type Registry,
} from '../core/index.js';
import { bindServer, checkListenHost, DEFAULT_LISTEN_HOST, parseListenHost } from '../core/bind.js';
import { renewWhileHeld } from '../job/host-registry.js';
import { boolOption, defaultTtlMs, leaseRequest, libraryRegistry, show, warn } from './lease.js';
import type { Listening } from './types.js';

/** listen()'s options besides lease()'s. */
const EXTRA = ['host', 'backlog', 'ipv6Only', 'servers'] as const;

/** Leases taken in a row whose port an outside process took before the bind. */
export const ATTEMPTS = 3;

/**
 * The server listen() creates for a name without one: a net.Server that keeps connections
 * arriving before the caller attaches a 'connection' handler, and hands them to the first
 * one attached (a plain net.Server would leave them to nobody). Closing it drops the kept ones.
 */
class HeldServer extends Server {
  /** Kept sockets, each with the error handler that ends it quietly until someone takes it. */
  private readonly held = new Map<Socket, () => void>();
  private readonly hold = (socket: Socket): void => {
    if (this.listenerCount('connection') > 1) return;
    const onError = (): void => {
      socket.destroy();
    };
    this.held.set(socket, onError);
    socket.on('error', onError);
    socket.once('close', () => this.held.delete(socket));
  };

  constructor() {
    super();
    this.on('connection', this.hold);
    const onNew = (event: string | symbol, listener: unknown): void => {
      if (event !== 'connection' || listener === this.hold) return;
      this.off('newListener', onNew);
      // 'newListener' comes before the listener is added: hand over once it is there.
      queueMicrotask(() => {
        this.off('connection', this.hold);
        for (const [socket, onError] of [...this.held]) {
          this.held.delete(socket);
          socket.off('error', onError);
          if (!socket.destroyed) this.emit('connection', socket);
        }
      });
    };
    this.on('newListener', onNew);
  }

  override close(callback?: (err?: Error) => void): this {
    for (const socket of this.held.keys()) socket.destroy();
    this.held.clear();
    return super.close(callback);
  }
}

function hostOption(v: unknown): string {
  if (v === undefined) return DEFAULT_LISTEN_HOST;
  if (typeof v !== 'string') {
    throw new UsageError(`host: ${show(v)} is not a string; give an IP address, like 127.0.0.1`);
  }
  return parseListenHost(v, 'host');
}

function backlogOption(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw new UsageError(
      `backlog: ${typeof v === 'number' ? String(v) : show(v)} is not a backlog; give a whole number 1-65535`,
    );
  }
  return v;
}

function serversOption(v: unknown, names: readonly string[]): Map<string, Server> {
  const out = new Map<string, Server>();
  if (v === undefined) return out;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new UsageError(
      `servers: ${show(v)} is not an object; give { NAME: server }, like { WEB_PORT: http.createServer(handler) }`,
    );
  }
  for (const [name, server] of Object.entries(v)) {
    if (!names.includes(name)) {
      throw new UsageError(
        `servers: ${JSON.stringify(name.slice(0, 60))} is not one of the names (${names.join(', ')})`,
      );
    }
    if (!(server instanceof Server)) {
      throw new UsageError(
        `servers.${name}: ${show(server)} is not a net.Server; give one like http.createServer(handler) or net.createServer()`,
      );
    }
    if (server.listening) {
      throw new UsageError(
        `servers.${name}: the server is listening already; give one that is not listening yet`,
      );
    }
    const same = [...out].find(([, s]) => s === server);
    if (same !== undefined) {
      throw new UsageError(
        `servers.${name}: the same server as servers.${same[0]}; give one server per name`,
      );
    }
    out.set(name, server);
  }
  return out;
}

/** The result: the lease, its servers, and the release once the last server has closed. */
function listening(
  record: LeaseRecord,
  reused: boolean,
  registry: Registry,
  host: string,
  servers: ReadonlyMap<string, Server>,
  renewTtlMs: number | null,
): Listening {
  const ports = Object.fromEntries([...servers.keys()].map((n) => [n, record.ports[n] as number]));
  const open = new Set(servers.values());
  let closing = false;
  let released: Promise<void> | undefined;
  // A live lease of the same key that was someone else's is left as it is (as exec does).
  const release = (): Promise<void> =>
    (released ??= reused
      ? Promise.resolve()
      : registry.release({ lease: record.id }).then(
          () => undefined,
          (err: unknown) => {
            released = undefined; // not given back: a later close() may try again
            throw err;
          },
        ));
  // A lease with the default TTL is renewed while its servers listen (as exec does): a
  // server may run for days. An explicit ttl is a hard bound.
  const stopRenewal =
    renewTtlMs === null || reused
      ? undefined
      : renewWhileHeld(registry, record.id, renewTtlMs, (message) => {
          warn(`listen: ${message}`);
        });
  const allClosed = new Promise<void>((resolve) => {
    for (const server of open) {
      // (A failed attempt's 'close' came before this: it is emitted on the next tick when
      // nothing was connected, and a server listening again never emits a stale one.)
      const onClose = (): void => {
        server.off('close', onClose);
        open.delete(server);
        if (open.size === 0) resolve();
      };
      server.on('close', onClose);
    }
  });
  void allClosed
    .then(() => {
      stopRenewal?.();
      return release();
    })
    .catch((err: unknown) => {
      if (!closing) {
        warn(
          `listen: could not release ${record.id}: ${describeError(err)}; it ends when this process exits or at its TTL`,
        );
      }
    });
  const close = async (): Promise<void> => {
    closing = true;
    for (const server of open) if (server.listening) server.close();
    await allClosed;
    await release();
  };
  return Object.freeze({
    id: record.id,
    key: record.key,
    ports: Object.freeze(ports),
    expires: record.expires === null ? null : new Date(record.expires),
    registry: registry.dir,
    host,
    // net.Servers, listening: what ListeningServer (and any ServerLike given) describes.
    servers: Object.freeze(Object.fromEntries(servers)),
    close,
    [Symbol.asyncDispose]: close,
  });
}

/**
 * Lease ports and listen on them while the lease is held. See the module comment; the
 * public declaration (index.ts) says what it takes and gives.
 */
export async function listen(options: unknown): Promise<Listening> {
  const { registry: dir, ...req } = leaseRequest(options, 'listen', EXTRA);
  const o = options as Record<string, unknown>;
  const host = hostOption(o.host);
  const backlog = backlogOption(o.backlog);
  const ipv6Only = boolOption(o.ipv6Only, 'ipv6Only');
  if (ipv6Only && host !== '::') {
    throw new UsageError(`ipv6Only: only with host '::' (host is ${JSON.stringify(host)})`);
  }
  const given = serversOption(o.servers, req.names);
  await checkListenHost(host, 'host');

  const registry = libraryRegistry(dir);
  const servers = new Map(req.names.map((n) => [n, given.get(n) ?? new HeldServer()]));
  const taken: number[] = [];
  for (let attempt = 1; ; attempt++) {
    const { lease: record, reused } = await registry.allocate(req);
    const bound: Server[] = [];
    try {
      for (const [name, server] of servers) {
        await bindServer(server, record.ports[name] as number, host, {
          backlog,
          ipv6Only,
          label: 'listen',
        });
        bound.push(server);
      }
      return listening(record, reused, registry, host, servers, defaultTtlMs(options, req.ttlMs));
    } catch (err) {
      // Unbound at once (the listening socket closes now; 'close' waits for connections).
      for (const server of bound) server.close();
      if (!reused) {
        await registry.release({ lease: record.id }).catch((e: unknown) => {
          warn(
            `listen: could not release ${record.id}: ${describeError(e)}; it ends when this process exits or at its TTL`,
          );
        });
      }
      if (!(err instanceof ListenError) || err.code !== 'EADDRINUSE' || reused) throw err;
      taken.push(err.port);
      if (attempt >= ATTEMPTS) {
        throw new ListenError(
          `${err.message}; ${ATTEMPTS} leases in a row lost a port that way (${taken.join(', ')}), giving up`,
          err,
        );
      }
    }
  }
}
