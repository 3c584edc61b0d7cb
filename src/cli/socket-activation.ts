/**
 * `exec --listen`: bind listening TCP sockets on leased ports while the lease is held, and
 * hand them to the command as inherited file descriptors 3, 4, ... with systemd's
 * socket-activation protocol (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES) plus NAME_FD=N for
 * servers that take a plain fd. From the lease on, the port is never unbound: no process
 * outside the registry can take it between the lease and the server's start.
 *
 * LISTEN_PID must be the command's own pid, which is not known before it starts: the
 * command is started through `/bin/sh -c 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"'`,
 * where `$$` is the shell's pid and `exec` keeps it for the command.
 */
import { createServer, type Server } from 'node:net';
import { bindServer, closeServer } from '../core/bind.js';
import { RuntimeError } from '../core/index.js';

/** The first inherited descriptor (0-2 are stdin, stdout, stderr). */
export const SD_LISTEN_FDS_START = 3;

export interface Listeners {
  /** Extra stdio entries for spawn: the sockets' descriptors, in name order (fd 3, 4, ...). */
  stdio: number[];
  /** LISTEN_FDS, LISTEN_FDNAMES and NAME_FD for each name. */
  env: Record<string, string>;
  /** The command wrapped so that LISTEN_PID is the command's own pid. */
  wrap(command: readonly string[]): string[];
  /** Close this process's copies (after spawn: the command keeps its own). Idempotent. */
  close(): Promise<void>;
}

/** The OS descriptor of a listening server (Node keeps it on the handle on POSIX). */
function descriptor(server: Server): number {
  const handle = (server as unknown as { _handle?: { fd?: unknown } })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new RuntimeError('exec --listen: the listening socket has no file descriptor here');
  }
  return fd;
}

async function listenOn(port: number, host: string): Promise<Server> {
  // No connection is ever accepted here: between this bind and closing this process's copy
  // right after starting the command, the event loop does not poll (the 'listening' and
  // 'spawn' events come by nextTick), so a client that connects meanwhile waits in the
  // backlog for the command (test/cli/listen-handoff.test.ts). Should a poll ever slip in, a
  // connection accepted here is closed rather than left hanging with nobody to serve it.
  const server = createServer();
  server.on('connection', (socket) => {
    socket.destroy();
  });
  await bindServer(server, port, host, { label: 'exec --listen', ipv6Only: host === '::' });
  return server;
}

/**
 * Listen on `ports` (name -> port, in the order given) at `host`. On any failure, the
 * sockets bound so far are closed and a RuntimeError names the port.
 */
export async function bindListeners(
  ports: readonly (readonly [string, number])[],
  host: string,
): Promise<Listeners> {
  const servers: Server[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(servers.splice(0).map(closeServer));
  };
  try {
    for (const [, port] of ports) servers.push(await listenOn(port, host));
  } catch (err) {
    await closeAll();
    throw err;
  }
  const env: Record<string, string> = {
    LISTEN_FDS: String(ports.length),
    LISTEN_FDNAMES: ports.map(([n]) => n).join(':'),
  };
  ports.forEach(([name], i) => {
    env[`${name}_FD`] = String(SD_LISTEN_FDS_START + i);
  });
  return {
    stdio: servers.map(descriptor),
    env,
    wrap: (command) => [
      '/bin/sh',
      '-c',
      'LISTEN_PID=$$; export LISTEN_PID; exec "$@"',
      'sh',
      ...command,
    ],
    close: closeAll,
  };
}
