/**
 * `portlease serve`: one warm process that answers lease requests over a Unix stream socket
 * (JSON lines; the protocol is in docs/cli.md). It is not a second registry: every request
 * is the CLI's, built by the same functions (args.ts) and run through the same Registry,
 * lock and store, so the CLI, the action, the library and the server mix on one registry.
 * It only saves the start-up of a process per request.
 *
 * A lease it makes is owned by the client that asked (the `pid` it names, with that
 * process's start time, or the owner it names), never by the server: when the server dies,
 * its clients' leases live on with their owners. Release and renew need the token the
 * server handed out with the lease (kept in memory only), so a client can end no lease it
 * did not make here.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import {
  checkLeaseId,
  describeError,
  describeProcess,
  errnoCode,
  parseDuration,
  PortleaseError,
  RuntimeError,
  UsageError,
  type ProcessOwner,
  type Registry,
} from '../core/index.js';
import { ensureRegistryDir } from '../core/dirs.js';
import { randomSuffix } from '../core/text.js';
import { SERVER_BUSY_PORTS_MAX_AGE_MS } from '../job/host-registry.js';
import { VERSION } from '../version.js';
import {
  allocateRequest,
  askedPorts,
  leaseJson,
  ownerFrom,
  registryFrom,
  str,
  type Io,
  type Values,
} from './args.js';
import { listenOn, socketState, SOCKET_PATH_MAX } from './unix-socket.js';

/** A request line longer than this closes the connection (after one error reply). */
export const MAX_REQUEST_BYTES = 64 * 1024;

const ALLOCATE_FIELDS = [
  'id',
  'op',
  'pid',
  'names',
  'count',
  'range',
  'contiguous',
  'key',
  'strategy',
  'ttl',
  'wait',
  'owner',
  'allow_ephemeral',
];

type Request = Record<string, unknown>;
type Reply = Record<string, unknown>;

/** A request the protocol refuses: code 2, like the CLI's exit status for bad usage. */
function bad(message: string): UsageError {
  return new UsageError(message);
}

function field(
  req: Request,
  name: string,
  type: 'string' | 'boolean',
): string | boolean | undefined {
  const v = req[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== type) throw bad(`${name}: ${JSON.stringify(v)} is not a ${type}`);
  return v as string | boolean;
}

/**
 * The request's `pid`: a running process, which owns the lease unless `owner` says otherwise
 * (described once, with its start time, as `--owner-pid` would describe it).
 */
function clientProcess(req: Request): ProcessOwner {
  const pid = req.pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1) {
    throw bad(
      `pid: ${JSON.stringify(pid ?? null)} is not a process id; give the asking process's pid`,
    );
  }
  const owner = describeProcess(pid);
  if (owner === null) throw bad(`pid: ${pid} is not a running process`);
  return owner;
}

/**
 * The protocol's allocate request as the CLI's flags, so the CLI's checks and messages apply;
 * `client` is the owner when the request names none.
 */
function allocateFlags(req: Request): {
  values: Values;
  names: string[];
  client: ProcessOwner | null;
} {
  for (const k of Object.keys(req)) {
    if (!ALLOCATE_FIELDS.includes(k)) {
      throw bad(
        `allocate: unknown field ${JSON.stringify(k)}; use ${ALLOCATE_FIELDS.slice(2).join(', ')}`,
      );
    }
  }
  const client = clientProcess(req);
  const values: Values = {};
  for (const name of ['range', 'key', 'strategy', 'ttl', 'wait', 'owner'] as const) {
    const v = field(req, name, 'string');
    if (v !== undefined) values[name] = v;
  }
  if (field(req, 'contiguous', 'boolean') === true) values.contiguous = true;
  if (field(req, 'allow_ephemeral', 'boolean') === true) values['allow-ephemeral'] = true;
  const owner = str(values, 'owner')?.trim();
  if (owner === 'session' || owner === 'job') {
    // Bare forms name the caller's own session or job: here that would be the server's.
    throw bad(
      `owner: "${owner}" would name the server's ${owner}; use pid:N, session:SID, dir:PATH or none`,
    );
  }
  if (req.count !== undefined) {
    if (typeof req.count !== 'number')
      throw bad(`count: ${JSON.stringify(req.count)} is not a number`);
    values.count = String(req.count);
  }
  let names: string[] = [];
  if (req.names !== undefined) {
    if (!Array.isArray(req.names) || !req.names.every((n) => typeof n === 'string')) {
      throw bad('names: give an array of port names, like ["WEB_PORT"]');
    }
    names = req.names;
  }
  return { values, names, client: owner === undefined ? client : null };
}

/** What one server keeps: its registry, and the token of each lease it made. */
class LeaseServer {
  private readonly tokens = new Map<string, string>();
  constructor(
    private readonly registry: Registry,
    private readonly io: Io,
  ) {}

  async handle(req: Request): Promise<Reply> {
    switch (req.op) {
      case 'allocate':
        return this.allocate(req);
      case 'release':
        return this.release(req);
      case 'renew':
        return this.renew(req);
      case 'list':
        for (const k of Object.keys(req)) {
          if (k !== 'id' && k !== 'op')
            throw bad(`list: unknown field ${JSON.stringify(k)}; list takes none`);
        }
        return {
          leases: (await this.registry.list()).map((s) =>
            leaseJson(s.lease, { liveness: s.liveness }),
          ),
        };
      default:
        throw bad(
          `op: ${JSON.stringify(req.op ?? null)} is not an operation; use allocate, release, renew or list`,
        );
    }
  }

  private async allocate(req: Request): Promise<Reply> {
    const { values, names, client } = allocateFlags(req);
    // The client's own process, as --owner-pid would give it (explicit: it renews a key's owner).
    const choice =
      client === null
        ? ownerFrom(values, this.io)
        : { owner: client, describe: `owner is pid ${client.pid}`, explicit: true };
    const request = allocateRequest(values, names, choice);
    const { lease, reused } = await this.registry.allocate(request);
    // A lease handed back for its key is not this client's, even when this server made it
    // for another client: its token stays with whoever got it first.
    let token: string | null = null;
    if (!reused) {
      token = randomSuffix(24);
      this.tokens.set(lease.id, token);
      await this.forgetGone();
    }
    return {
      lease: lease.id,
      key: lease.key,
      ports: askedPorts(lease, request.names),
      expires: lease.expires,
      reused,
      token,
    };
  }

  /** Token count at which forgetGone next looks for leases that are gone. */
  private pruneAt = 1024;

  /**
   * Forget the tokens of leases that are gone (their owners exited, gc removed them), so a
   * server that runs for weeks keeps only what can still be released: once the map has
   * doubled since the last look.
   */
  private async forgetGone(): Promise<void> {
    if (this.tokens.size < this.pruneAt) return;
    const live = new Set((await this.registry.list()).map((s) => s.lease.id));
    for (const id of this.tokens.keys()) if (!live.has(id)) this.tokens.delete(id);
    this.pruneAt = Math.max(1024, this.tokens.size * 2);
  }

  /** The lease a release or renew names, if the client holds its token. */
  private owned(req: Request, op: string, extra: readonly string[]): string {
    const allowed = ['id', 'op', 'lease', 'token', ...extra];
    for (const k of Object.keys(req)) {
      if (!allowed.includes(k))
        throw bad(`${op}: unknown field ${JSON.stringify(k)}; use ${allowed.slice(2).join(', ')}`);
    }
    const id = checkLeaseId(String(field(req, 'lease', 'string') ?? ''), 'lease');
    const token = field(req, 'token', 'string');
    if (token === undefined || this.tokens.get(id) !== token) {
      throw bad(
        `token: lease ${id} was not leased through this server with that token; it is released by its owner, by portlease release, or when its owner exits`,
      );
    }
    return id;
  }

  private async release(req: Request): Promise<Reply> {
    const id = this.owned(req, 'release', []);
    const gone = await this.registry.release({ lease: id });
    this.tokens.delete(id);
    return { released: gone !== null };
  }

  private async renew(req: Request): Promise<Reply> {
    const id = this.owned(req, 'renew', ['ttl']);
    const ttl = field(req, 'ttl', 'string');
    if (ttl === undefined) throw bad('ttl: give the new TTL, like "1h"');
    const lease = await this.registry.update(id, { ttlMs: parseDuration(ttl as string, 'ttl') });
    if (lease === null) {
      this.tokens.delete(id);
      throw new RuntimeError(
        `lease: ${id} is gone (released, or its owner exited); nothing renewed`,
      );
    }
    return { expires: lease.expires };
  }
}

/** One reply line for a failed request: the CLI's message and exit status. */
function failure(err: unknown, io: Io): Reply {
  if (err instanceof PortleaseError) {
    return { ok: false, error: err.message, code: err instanceof UsageError ? 2 : 1 };
  }
  io.err(`portlease: warning: serve: unexpected error: ${describeError(err)}`);
  return { ok: false, error: `unexpected error: ${describeError(err)}`, code: 1 };
}

/** Serve one connection: its requests in order, each answered with one line. */
function serveConnection(socket: Socket, server: LeaseServer, io: Io): void {
  let buffered = '';
  let chain: Promise<void> = Promise.resolve();
  const answer = (reply: Reply): void => {
    if (!socket.destroyed) socket.write(JSON.stringify(reply) + '\n');
  };
  const run = (line: string): void => {
    chain = chain.then(async () => {
      let req: unknown;
      try {
        req = JSON.parse(line);
      } catch {
        answer({ ok: false, error: 'request: not JSON; send one JSON object per line', code: 2 });
        return;
      }
      if (typeof req !== 'object' || req === null || Array.isArray(req)) {
        answer({
          ok: false,
          error: 'request: not a JSON object; send {"op": ...} per line',
          code: 2,
        });
        return;
      }
      const r = req as Request;
      const id = r.id === undefined ? {} : { id: r.id };
      try {
        answer({ ...id, ok: true, ...(await server.handle(r)) });
      } catch (err) {
        answer({ ...id, ...failure(err, io) });
      }
    });
  };
  const conn = { closing: false };
  const tooLong = (): void => {
    conn.closing = true;
    buffered = '';
    chain = chain.then(() => {
      answer({
        ok: false,
        error: `request: a line over ${MAX_REQUEST_BYTES} bytes; closing`,
        code: 2,
      });
      socket.end();
    });
  };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    if (conn.closing) return;
    buffered += chunk;
    for (;;) {
      const nl = buffered.indexOf('\n');
      if (nl < 0) break;
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) {
        tooLong();
        return;
      }
      if (line !== '') run(line);
    }
    if (Buffer.byteLength(buffered) > MAX_REQUEST_BYTES) tooLong();
  });
  socket.on('error', () => undefined); // a client that went away: nothing to answer
}

/** `portlease serve`: returns the exit status once the server has stopped. */

export async function cmdServe(values: Values, io: Io): Promise<number> {
  const registry = registryFrom(values, io, SERVER_BUSY_PORTS_MAX_AGE_MS);
  const idleText = str(values, 'idle');
  const idleMs = idleText === undefined ? null : parseDuration(idleText, '--idle');
  const path = resolve(str(values, 'socket') ?? join(registry.dir, 'serve.sock'));
  if (Buffer.byteLength(path) > SOCKET_PATH_MAX) {
    throw new UsageError(
      `--socket: ${path} is longer than ${SOCKET_PATH_MAX} bytes, too long for a Unix socket; name a shorter path`,
    );
  }
  if (str(values, 'socket') === undefined) ensureRegistryDir(registry.dir);
  const state = await socketState(path);
  if (state === 'not-socket') {
    throw new UsageError(
      `--socket: ${path} exists and is not a socket; name another path or remove it`,
    );
  }
  if (state === 'listening')
    throw new RuntimeError(`--socket: a server already answers on ${path}`);
  if (state === 'stale') unlinkSync(path);

  const lease = new LeaseServer(registry, io);
  const sockets = new Set<Socket>();
  let idleTimer: NodeJS.Timeout | undefined;
  let stop!: () => void;
  const stopped = new Promise<void>((resolveStop) => (stop = resolveStop));
  const armIdle = (): void => {
    clearTimeout(idleTimer);
    if (idleMs !== null && sockets.size === 0) idleTimer = setTimeout(stop, idleMs);
  };
  const server = createServer((socket) => {
    sockets.add(socket);
    clearTimeout(idleTimer);
    socket.once('close', () => {
      sockets.delete(socket);
      armIdle();
    });
    serveConnection(socket, lease, io);
  });
  server.on('error', (err) => {
    io.err(`portlease: warning: serve: ${describeError(err)}`);
  });
  try {
    await listenOn(server, path);
  } catch (err) {
    throw new RuntimeError(
      `--socket: cannot listen on ${path} (${errnoCode(err) ?? describeError(err)})`,
    );
  }
  const ino = lstatSync(path).ino;
  try {
    chmodSync(path, 0o666); // every user of the registry may connect; umask does not apply
  } catch (err) {
    io.err(
      `portlease: warning: serve: cannot open ${path} to other users (${errnoCode(err) ?? describeError(err)})`,
    );
  }
  io.out(JSON.stringify({ socket: path, pid: process.pid, version: VERSION }));
  armIdle();

  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const s of signals) process.on(s, stop);
  const onEnd = (): void => {
    stop();
  };
  if (values['exit-on-eof'] === true) {
    process.stdin.on('end', onEnd);
    process.stdin.on('error', onEnd);
    process.stdin.resume();
  }
  await stopped;
  for (const s of signals) process.off(s, stop);
  process.stdin.off('end', onEnd);
  process.stdin.pause();
  clearTimeout(idleTimer);
  await new Promise<void>((resolveClose) => {
    server.close(() => {
      resolveClose();
    });
    for (const s of sockets) s.destroy();
  });
  try {
    // Only our own socket: another server may have replaced it meanwhile.
    if (lstatSync(path).ino === ino) unlinkSync(path);
  } catch {
    // gone already
  }
  return 0;
}
