/**
 * `portlease portserver` and `portlease exec --portserver`: portpicker's portserver protocol
 * (Python's `portpicker`, Google's; its reference server is `portserver.py`) over the lease
 * registry, so a suite that calls `portpicker.pick_unused_port()` gets host-safe ports with
 * no code change.
 *
 * The protocol, as portpicker's client speaks it: it connects to the Unix stream socket
 * named by PORTSERVER_ADDRESS (a leading '@' is the abstract namespace, Linux), sends its pid
 * in ASCII and '\n', and reads once (recv(1024)): `PORT\n` is a port; anything else (an empty
 * reply) makes it print "Portserver failed to find a port." and pick a port by itself.
 *
 * Every port handed out is a lease in the registry (the same lock and store as the CLI):
 * owned by the asking pid with its start time, so it ends when that process dies (gc, or the
 * next allocation reclaims it), never owned by this server. A request that is not a live
 * process's pid (0, 1, this server, a pid that is gone, garbage, an over-long line, silence)
 * gets an empty reply and changes nothing. Only a request that cannot be served (range full,
 * registry not writable) is logged, as one warning line.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONTROL_CHARS,
  DEFAULT_RANGE,
  describeError,
  describeProcess,
  errnoCode,
  formatRange,
  parseRange,
  RuntimeError,
  UsageError,
  type Lease,
  type PortRange,
  type ProcessOwner,
  type Registry,
} from '../core/index.js';
import { processLiveness } from '../core/owner.js';
import { checkRequest } from '../core/request.js';
import { DEFAULT_TTL_MS } from '../job/host-registry.js';
import { logTo, str, type Io, type Values } from './args.js';
import { supervise } from './supervise.js';
import { listenOn, socketState, SOCKET_PATH_MAX } from './unix-socket.js';

/** The reference portserver's default: clients already set PORTSERVER_ADDRESS to it. */
export const DEFAULT_PORTSERVER_ADDRESS = '@unittest-portserver';

/** `portlease portserver`'s own flags (plus --registry and --help). */
export const PORTSERVER_OPTIONS = {
  address: { type: 'string' },
  range: { type: 'string' },
  'allow-ephemeral': { type: 'boolean' },
} as const;

/** A request is a pid and '\n': at most 32 bytes (the reference server takes 20). */
const MAX_REQUEST_BYTES = 32;
/** A connection that has sent no whole request by then gets the empty reply. */
const REQUEST_TIMEOUT_MS = 5_000;
/** The name every portserver lease's one port has. */
const PORT_NAME = 'PORT';

/**
 * Check a portserver address as portpicker writes it: `@NAME` (abstract namespace on Linux;
 * a named pipe on Windows, as portpicker maps it) or a socket path. Returns it unchanged.
 */
export function parseAddress(text: string, label: string): string {
  const show = JSON.stringify(text);
  if (text === '' || text === '@') {
    throw new UsageError(`${label}: empty address; give @NAME (abstract socket) or a socket path`);
  }
  if (CONTROL_CHARS.test(text)) {
    throw new UsageError(`${label}: ${show} has control characters; give @NAME or a socket path`);
  }
  if (text.startsWith('@') && process.platform !== 'linux' && process.platform !== 'win32') {
    throw new UsageError(
      `${label}: ${show}: abstract socket addresses (@NAME) need Linux; give a socket path`,
    );
  }
  if (Buffer.byteLength(text) > SOCKET_PATH_MAX) {
    throw new UsageError(
      `${label}: ${show} is longer than a socket address may be (${SOCKET_PATH_MAX} bytes); use a shorter one`,
    );
  }
  return text;
}

let abstractOk: Promise<boolean> | undefined;

/**
 * Does this Node bind an abstract name as exactly that name? Node 20's libuv pads it with
 * NULs to the whole sun_path, a different address, which portpicker's client (exact length)
 * gets ECONNREFUSED from; Node 24's does not. Found out once, with a socket of our own and
 * /proc/net/unix (unreadable: assumed to work).
 */
export function abstractNamesWork(): Promise<boolean> {
  abstractOk ??= new Promise<boolean>((resolve) => {
    const name = `portlease-probe-${process.pid}-${randomBytes(6).toString('hex')}`;
    const probe = createServer();
    probe.once('error', () => {
      resolve(false);
    });
    probe.listen(`\0${name}`, () => {
      let table: string | null = null;
      try {
        table = readFileSync('/proc/net/unix', 'latin1');
      } catch {
        // no /proc: nothing to tell by
      }
      probe.close();
      resolve(table === null || table.split('\n').some((l) => l.endsWith(` @${name}`)));
    });
  });
  return abstractOk;
}

/** What Node listens on for a portpicker address. */
function listenPath(address: string): string {
  if (!address.startsWith('@')) return address;
  return process.platform === 'win32'
    ? `\\\\.\\pipe\\${address.slice(1)}`
    : `\0${address.slice(1)}`;
}

export interface PortserverConfig {
  registry: Registry;
  /** `@NAME` or a socket path (parseAddress). */
  address: string;
  range?: PortRange;
  allowEphemeral?: boolean;
  /** One line, for a request that could not be served. */
  warn: (message: string) => void;
  debug?: (message: string) => void;
  /** Pids never served besides 0 and 1 (this process: its leases would never end). */
  refusePids?: readonly number[];
}

export interface Portserver {
  address: string;
  /** How many ports were handed out. */
  served: () => number;
  /**
   * Stop: no new connections, requests not yet read get the empty reply, requests being
   * served are answered. With `releaseDead`, the leases handed out whose owner is provably
   * dead now are released (exec, after its tree is gone); the others stay with their owner.
   */
  close: (opts?: { releaseDead?: boolean }) => Promise<void>;
}

/** Check what every request will be checked against, before anything listens. */
export function checkPortserverRequest(cfg: PortserverConfig): void {
  checkRequest(
    request(cfg, describeProcess(process.pid) as ProcessOwner, 'check'),
    cfg.registry.dir,
    undefined,
  );
}

function request(
  cfg: PortserverConfig,
  owner: ProcessOwner,
  key: string,
): Parameters<Registry['allocate']>[0] {
  return {
    names: [PORT_NAME],
    range: cfg.range ?? DEFAULT_RANGE,
    key,
    strategy: 'random',
    ttlMs: DEFAULT_TTL_MS,
    owner,
    waitMs: 0,
    labels: { source: 'portserver', address: cfg.address },
    allowEphemeral: cfg.allowEphemeral === true,
  };
}

/** Listen on `address`; a path socket nobody listens on any more (a crash) is replaced. */
async function listen(server: Server, address: string): Promise<void> {
  const path = listenPath(address);
  try {
    await listenOn(server, path);
  } catch (err) {
    const stale =
      errnoCode(err) === 'EADDRINUSE' &&
      !address.startsWith('@') &&
      (await socketState(path).catch(() => 'none')) === 'stale';
    if (!stale) throw listenError(address, err);
    unlinkSync(path);
    try {
      await listenOn(server, path);
    } catch (again) {
      throw listenError(address, again);
    }
  }
}

function listenError(address: string, err: unknown): RuntimeError {
  const code = errnoCode(err);
  if (code === 'EADDRINUSE') {
    return new RuntimeError(
      `portserver: ${address} is in use (another portserver listens there); stop it or give another --address`,
    );
  }
  return new RuntimeError(`portserver: cannot listen on ${address}: ${code ?? describeError(err)}`);
}

/** Start serving portpicker's protocol on `cfg.address`. Resolves once it listens. */
export async function startPortserver(cfg: PortserverConfig): Promise<Portserver> {
  const { registry } = cfg;
  const debug = cfg.debug ?? ((): void => undefined);
  const refused = new Set([0, 1, process.pid, ...(cfg.refusePids ?? [])]);
  const nonce = randomBytes(4).toString('hex');
  let count = 0;
  let served = 0;
  let closing = false;
  const conns = new Set<Socket>();
  const waiting = new Set<Socket>(); // connections whose request is not read yet
  const inflight = new Set<Promise<void>>();
  const handed = new Map<string, ProcessOwner>(); // lease id -> owner
  // Allocations one at a time: they would queue on the registry's lock anyway, and polling
  // for it from one process is slower than a queue. Reading requests never waits here.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };

  const serve = async (sock: Socket, owner: ProcessOwner): Promise<void> => {
    const key = `portserver:pid:${owner.pid}:${nonce}-${++count}`;
    let lease: Lease;
    try {
      ({ lease } = await serial(() => registry.allocate(request(cfg, owner, key))));
    } catch (err) {
      cfg.warn(
        `portserver: no port for pid ${owner.pid}: ${describeError(err).split('\n')[0] ?? ''}; answered nothing (the client picks a port by itself)`,
      );
      sock.end();
      return;
    }
    const port = lease.ports[PORT_NAME] as number;
    const delivered = await new Promise<boolean>((resolve) => {
      if (sock.destroyed || !sock.writable) {
        resolve(false);
        return;
      }
      sock.write(`${port}\n`, (err) => {
        resolve(err == null);
      });
      sock.end();
    });
    if (!delivered) {
      // Nobody learnt the port: a lease for nothing would only keep it from others.
      debug(`portserver: pid ${owner.pid} left before port ${port} was sent; releasing`);
      await serial(() => registry.release({ lease: lease.id })).catch((err: unknown) => {
        cfg.warn(`portserver: could not release ${lease.id}: ${describeError(err)}`);
      });
      return;
    }
    served++;
    handed.set(lease.id, owner);
    debug(`portserver: port ${port} to pid ${owner.pid} (lease ${lease.id})`);
  };

  const onConnection = (sock: Socket): void => {
    sock.on('error', () => undefined); // a client that vanished: nothing to answer
    conns.add(sock);
    sock.once('close', () => conns.delete(sock));
    if (closing) {
      sock.end();
      return;
    }
    waiting.add(sock);
    let buf = Buffer.alloc(0);
    let decided = false;
    const decide = (): boolean => {
      if (decided) return false;
      decided = true;
      waiting.delete(sock);
      clearTimeout(timer);
      return true;
    };
    const refuse = (why: string): void => {
      if (!decide()) return;
      debug(`portserver: empty reply: ${why}`);
      sock.end();
      // A client that never closes its end: gone after a while anyway.
      setTimeout(() => sock.destroy(), REQUEST_TIMEOUT_MS).unref();
    };
    const timer = setTimeout(() => {
      refuse(`no request within ${REQUEST_TIMEOUT_MS / 1000}s`);
    }, REQUEST_TIMEOUT_MS);
    const handle = (line: Buffer): void => {
      const text = line.toString('latin1');
      if (!/^[0-9]{1,10}$/.test(text)) {
        refuse(`not a pid: ${JSON.stringify(text.slice(0, MAX_REQUEST_BYTES))}`);
        return;
      }
      const pid = Number(text);
      if (refused.has(pid) || pid > 0x3fffffff) {
        refuse(`pid ${pid} is not served`);
        return;
      }
      const owner = describeProcess(pid);
      if (owner === null) {
        refuse(`no process ${pid}`);
        return;
      }
      decide();
      const p = serve(sock, owner).finally(() => inflight.delete(p));
      inflight.add(p);
    };
    sock.on('data', (chunk: Buffer) => {
      if (decided) return;
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(10);
      if (nl < 0) {
        if (buf.length > MAX_REQUEST_BYTES) refuse(`more than ${MAX_REQUEST_BYTES} bytes`);
      } else if (nl !== buf.length - 1) refuse('bytes after the newline');
      else handle(buf.subarray(0, nl));
    });
    sock.on('end', () => {
      // A request without its newline is taken at end of input (`printf 123 | nc -U ...`).
      if (decided) return;
      if (buf.length === 0) refuse('closed without a request');
      else handle(buf);
    });
  };

  if (process.platform === 'linux' && cfg.address.startsWith('@') && !(await abstractNamesWork())) {
    throw new RuntimeError(
      `portserver: ${cfg.address}: this Node (${process.version}) binds abstract socket names padded with NUL bytes, which portpicker's clients cannot reach; run portlease under Node 22 or later, or give a socket path (--address /run/portserver.sock)`,
    );
  }
  const server = createServer({ allowHalfOpen: true }, onConnection);
  await listen(server, cfg.address);
  debug(`portserver: listening on ${cfg.address}`);

  return {
    address: cfg.address,
    served: () => served,
    close: async (opts = {}) => {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      for (const sock of waiting) sock.end();
      waiting.clear();
      await Promise.allSettled([...inflight]);
      // Every answer is with the kernel now: clients that keep their end open are let go.
      for (const sock of conns) sock.destroy();
      await closed;
      // libuv removes a path socket on close; make sure, if it is still a socket.
      if (!cfg.address.startsWith('@')) {
        try {
          if (lstatSync(cfg.address).isSocket()) unlinkSync(cfg.address);
        } catch {
          // gone already
        }
      }
      if (opts.releaseDead !== true) return;
      for (const [id, owner] of handed) {
        if (processLiveness(owner) !== 'dead') continue;
        await registry.release({ lease: id }).catch((err: unknown) => {
          cfg.warn(`portserver: could not release ${id}: ${describeError(err)}`);
        });
      }
    },
  };
}

/**
 * `portlease portserver [--address ADDR] [--range LO-HI] [--registry DIR]`: serve until
 * SIGINT, SIGTERM or SIGHUP, then exit 0. Prints one JSON line on stdout once it listens.
 */
export async function cmdPortserver(
  values: Values,
  io: Io,
  makeRegistry: () => Registry,
): Promise<number> {
  const address = parseAddress(str(values, 'address') ?? DEFAULT_PORTSERVER_ADDRESS, '--address');
  const rangeText = str(values, 'range');
  const range = rangeText === undefined ? DEFAULT_RANGE : parseRange(rangeText, '--range');
  const cfg: PortserverConfig = {
    registry: makeRegistry(),
    address,
    range,
    allowEphemeral: values['allow-ephemeral'] === true,
    ...logTo(io),
  };
  checkPortserverRequest(cfg);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  let onSignal: (sig: NodeJS.Signals) => void = () => undefined;
  const stop = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = resolve;
    for (const sig of signals) process.on(sig, onSignal);
  });
  let ps: Portserver;
  try {
    ps = await startPortserver(cfg);
  } catch (err) {
    for (const sig of signals) process.off(sig, onSignal);
    throw err;
  }
  io.out(
    JSON.stringify({
      address,
      pid: process.pid,
      range: formatRange(range),
      registry: cfg.registry.dir,
    }),
  );
  const sig = await stop;
  for (const s of signals) process.off(s, onSignal);
  await ps.close();
  cfg.debug?.(`portserver: stopped by ${sig} after ${ps.served()} ports`);
  return 0;
}

/**
 * A fresh private address for exec's portserver: abstract where that works, else a socket in
 * a temp directory of this user's; `dispose` removes what it made.
 */
async function freshAddress(tag: string): Promise<{ address: string; dispose: () => void }> {
  if (
    process.platform === 'win32' ||
    (process.platform === 'linux' && (await abstractNamesWork()))
  ) {
    return { address: `@portlease-${tag}`, dispose: () => undefined };
  }
  const dir = mkdtempSync(join(tmpdir(), 'portlease-ps-')); // mode 0700: this user only
  return {
    address: join(dir, 's'),
    dispose: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ExecPortserver {
  env: { PORTSERVER_ADDRESS: string };
  /** Stop serving, and release the leases whose owner died (the command's tree is gone). */
  close: () => Promise<void>;
}

/**
 * exec --portserver: a portserver in this process for the command's tree, on a fresh
 * address named after `tag` (exec's lease id, else random).
 */
export async function startExecPortserver(opts: {
  registry: Registry;
  range: PortRange | undefined;
  allowEphemeral: boolean;
  tag?: string;
  io: Io;
}): Promise<ExecPortserver> {
  const where = await freshAddress(
    opts.tag ?? `exec-${process.pid}-${randomBytes(6).toString('hex')}`,
  );
  const cfg: PortserverConfig = {
    registry: opts.registry,
    address: where.address,
    range: opts.range,
    allowEphemeral: opts.allowEphemeral,
    warn: (m) => {
      opts.io.err(`portlease: warning: exec: ${m}`);
    },
    debug: logTo(opts.io).debug,
  };
  let ps: Portserver;
  try {
    checkPortserverRequest(cfg);
    ps = await startPortserver(cfg);
  } catch (err) {
    where.dispose();
    throw err;
  }
  return {
    env: { PORTSERVER_ADDRESS: where.address },
    close: async () => {
      try {
        await ps.close({ releaseDead: true });
      } finally {
        where.dispose();
      }
    },
  };
}

/** exec's flags that shape its own lease: refused when it leases none (--portserver alone). */
const OWN_LEASE_FLAGS = [
  'key',
  'contiguous',
  'strategy',
  'ttl',
  'wait',
  'write',
  'listen',
  'listen-host',
];

/**
 * `portlease exec --portserver -- COMMAND`: no port of exec's own, only the portserver for
 * the command's tree. The command is supervised as with ports (its session and process
 * group; there is no lease, so no PORTLEASE_LEASE cookie).
 */
export async function execPortserverOnly(opts: {
  values: Values;
  command: string[];
  graceMs: number;
  registry: () => Registry;
  io: Io;
}): Promise<number> {
  const { values, io } = opts;
  const flag = OWN_LEASE_FLAGS.find((f) => values[f] !== undefined);
  if (flag !== undefined) {
    throw new UsageError(
      `--${flag}: shapes exec's own lease, and with --portserver and no NAMEs there is none; name a port (like WEB_PORT) or leave out --${flag}`,
    );
  }
  const rangeText = str(values, 'range');
  const range = rangeText === undefined ? undefined : parseRange(rangeText, '--range');
  const ps = await startExecPortserver({
    registry: opts.registry(),
    range,
    allowEphemeral: values['allow-ephemeral'] === true,
    io,
  });
  io.err(`portlease: exec: portserver on ${ps.env.PORTSERVER_ADDRESS} (no ports of its own)`);
  let result;
  try {
    const [file, ...args] = opts.command as [string, ...string[]];
    result = await supervise({
      file,
      args,
      env: { ...io.env, ...ps.env },
      graceMs: opts.graceMs,
      cookie: null,
      onSpawn: () => Promise.resolve(),
      err: io.err,
    });
  } finally {
    await ps.close();
  }
  if (result.leftovers.length > 0) {
    io.err(
      `portlease: warning: exec: ${result.leftovers.length} process${result.leftovers.length === 1 ? '' : 'es'} of the command's tree did not exit after SIGKILL (${result.leftovers.slice(0, 10).join(', ')}); their portserver leases stay until they are gone`,
    );
  }
  return result.status;
}
