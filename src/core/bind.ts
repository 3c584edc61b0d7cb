/**
 * Listening on a leased port while the lease is held: the part `portlease exec --listen`
 * (src/cli) and the library's `listen()` (src/lib) share. Which address (a literal IP of
 * this host, checked before any lease is taken) and how a server is bound (exclusively,
 * with one error that names the address and the errno).
 */
import { isIP, type Server } from 'node:net';
import { ListenError, UsageError } from './errors.js';
import { tryListen } from './probe.js';

/** The listen host when none is given. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';

const ACCEPTED_HOSTS =
  'use 127.0.0.1 (the default), 0.0.0.0, ::, ::1 or another IP address of this host';

/** `host:port`, with brackets around an IPv6 address. */
export function showAddress(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * A listen host: a literal IPv4 or IPv6 address (no names: a name may resolve to several
 * addresses, or to another one tomorrow). Whether it is an address of this host is
 * checkListenHost's question.
 */
export function parseListenHost(text: string, label: string): string {
  const t = text.trim();
  if (isIP(t) !== 0) return t;
  throw new UsageError(
    `${label}: ${JSON.stringify(t.slice(0, 60))} is not an IP address; ${ACCEPTED_HOSTS}`,
  );
}

/**
 * Can this host listen on `host` at all? Binds a throwaway socket on port 0 there, so that a
 * host that is not local (EADDRNOTAVAIL) or an address family the host lacks is a
 * UsageError before any lease is taken.
 */
export async function checkListenHost(host: string, label: string): Promise<void> {
  const code = await tryListen(0, host);
  if (code !== null) {
    throw new UsageError(
      `${label}: cannot listen on ${host} (${code}${code === 'EADDRNOTAVAIL' ? ': not an address of this host' : ''}); ${ACCEPTED_HOSTS}`,
    );
  }
}

export interface BindOptions {
  backlog?: number | undefined;
  /** For '::': IPv6 only (else Node's default, dual-stack). */
  ipv6Only?: boolean | undefined;
  /** Starts the error message, like `exec --listen` or `listen`. */
  label: string;
}

/**
 * `server.listen()` on `port` at `host`, exclusively (never shared with cluster workers).
 * Rejects with a ListenError naming the address and the errno. The listeners it adds are
 * removed either way, so a server given by a caller keeps only its own.
 */
export function bindServer(
  server: Server,
  port: number,
  host: string,
  opts: BindOptions,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const code = err.code ?? 'EUNKNOWN';
      const why =
        code === 'EADDRINUSE'
          ? ': a process outside the registry holds it'
          : code === 'EADDRNOTAVAIL'
            ? ': not an address of this host'
            : code === 'EACCES'
              ? ': permission denied'
              : '';
      reject(
        new ListenError(
          `${opts.label}: cannot listen on ${showAddress(host, port)} (${code}${why})`,
          { code, host, port },
        ),
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({
      port,
      host,
      exclusive: true,
      ...(opts.backlog === undefined ? {} : { backlog: opts.backlog }),
      ...(opts.ipv6Only === true ? { ipv6Only: true } : {}),
    });
  });
}

/** Close a server and wait for its 'close' (its connections ended). A closed one is done. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => {
      resolve();
    });
  });
}
