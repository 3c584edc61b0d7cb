/**
 * A lock holder's liveness socket (its beacon) and the probe that asks the kernel about
 * someone else's. The holder listens on `lock/s.<pid>.<random>` from before it links its
 * generation until after it writes `.done`; a contender's connect() answering ECONNREFUSED
 * on an existing socket file proves the listener gone (docs/adr/0001-lock-takeover.md).
 */
import { chmodSync, linkSync, lstatSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { errnoCode } from './errors.js';
import { tryUnlink } from './lock-dir.js';
import { randomSuffix } from './text.js';

/** sun_path holds 108 bytes on Linux (104 on macOS), the terminating NUL included. */
export const SOCKET_PATH_MAX = process.platform === 'linux' ? 107 : 103;
/** How long a contender waits for connect() on a holder's socket before calling it alive. */
const PROBE_TIMEOUT_MS = 1000;

export type Probe = 'dead' | 'alive' | 'missing';

/**
 * Ask the kernel whether anyone listens on a holder's socket. ECONNREFUSED on an existing
 * socket file is proof that its listener is gone; every other answer means alive, except a
 * missing (or replaced) socket file, which proves nothing.
 */
export function probeSocket(path: string): Promise<Probe> {
  try {
    // connect() to a regular file also answers ECONNREFUSED: only a socket counts.
    if (!lstatSync(path).isSocket()) return Promise.resolve('missing');
  } catch (err) {
    return Promise.resolve(errnoCode(err) === 'ENOENT' ? 'missing' : 'alive');
  }
  return new Promise((resolve) => {
    const s = connect({ path });
    const done = (p: Probe): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(p);
    };
    const timer = setTimeout(() => {
      done('alive');
    }, PROBE_TIMEOUT_MS);
    s.once('connect', () => {
      done('alive');
    });
    s.once('error', (err) => {
      const code = errnoCode(err);
      done(code === 'ECONNREFUSED' ? 'dead' : code === 'ENOENT' ? 'missing' : 'alive');
    });
  });
}

/** The holder's liveness socket: listening from before the link until after `.done`. */
export interface Beacon {
  name: string;
  close(): void;
}

export async function openBeacon(
  dir: string,
  debug?: (msg: string) => void,
): Promise<Beacon | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const name = `s.${process.pid}.${randomSuffix(8)}`;
    const path = join(dir, name);
    if (Buffer.byteLength(path) > SOCKET_PATH_MAX) {
      debug?.(`lock: ${path} is too long for a unix socket; the pid rules alone prove death`);
      return null;
    }
    const server = createServer((c) => {
      c.destroy();
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      server.close();
      if (errnoCode(err) === 'EADDRINUSE') continue;
      debug?.(
        `lock: cannot listen on ${path} (${errnoCode(err) ?? String(err)}); the pid rules alone prove death`,
      );
      return null;
    }
    server.on('error', () => undefined); // an accept error must not end the process
    server.unref();
    try {
      chmodSync(path, 0o666); // any user may connect(); umask does not apply
    } catch {
      // others then get EACCES, which they count as alive: safe
    }
    // The name the holder record gives is a second hard link to the socket. Node unlinks a
    // socket's own path when its server closes, and so when a worker thread is terminated
    // while it holds the lock (its handles are closed): the path would then be missing, which
    // proves nothing, and the pid rules would call the holder's live process alive for as
    // long as it runs. The second name outlives any close: nobody listens on it any more, so
    // connect() answers ECONNREFUSED, the kernel's proof that the holder is gone.
    const alias = `s.${process.pid}.${randomSuffix(8)}`;
    let named = name;
    try {
      linkSync(path, join(dir, alias));
      named = alias;
    } catch {
      // no hard links here: the socket's own path, as before
    }
    return {
      name: named,
      close(): void {
        server.close();
        tryUnlink(path);
        if (named !== name) tryUnlink(join(dir, named));
      },
    };
  }
  return null;
}
