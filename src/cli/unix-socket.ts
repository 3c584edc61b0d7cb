/**
 * What the two socket servers (`serve`, `portserver`) share about a Unix stream socket path:
 * its length limit, whether someone listens on it, and listening on it.
 */
import { lstatSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { errnoCode } from '../core/index.js';

/** The longest socket path (the lock's liveness sockets obey it too). */
export { SOCKET_PATH_MAX } from '../core/lock-beacon.js';

/**
 * What is at `path`: nothing, a file that is not a socket, a socket someone listens on, or a
 * stale one (connect() answers ECONNREFUSED: its listener is gone). An lstat error other than
 * ENOENT is thrown.
 */
export function socketState(path: string): Promise<'none' | 'not-socket' | 'listening' | 'stale'> {
  try {
    if (!lstatSync(path).isSocket()) return Promise.resolve('not-socket');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return Promise.resolve('none');
    throw err;
  }
  return new Promise((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve('listening');
    });
    s.once('error', (err) => {
      resolve(errnoCode(err) === 'ECONNREFUSED' ? 'stale' : 'listening');
    });
  });
}

/** Listen on `path`; rejects with the listen error. */
export function listenOn(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
