/**
 * The library's public types, kept apart from the code so that the published declarations
 * (dist/types) hold these and nothing of the core's internals.
 */
import type { Strategy } from '../core/parse.js';
export type { Strategy };
/** A port range: `'LO-HI'` (or one port `'P'`), `{ lo, hi }` or `[lo, hi]`, inclusive. */
export type RangeOption = string | {
    lo: number;
    hi: number;
} | readonly [number, number];
/** A duration: a string like `'90s'`, `'15m'`, `'6h'`, `'1h30m'`, or whole milliseconds. */
export type DurationOption = string | number;
/**
 * Who keeps a lease alive: `'self'` (the calling process; the default), `'none'` (TTL only),
 * `'pid:N'` or `{ pid: N }` (while that process runs), `'dir:PATH'` (while that directory
 * exists; no TTL unless given, and the key derives from the directory), `'session'` or
 * `'session:SID'` (while any process is in that Unix session), `'job'` (the GitHub Actions
 * job's Runner.Worker). The CLI's `--owner`, plus `'self'` and `{ pid: N }`.
 */
export type OwnerOption = string | {
    pid: number;
};
/** What `lease()` takes: the CLI's `allocate` options. */
export interface LeaseOptions {
    /** Port names (environment-variable names, like `WEB_PORT`). Give `names` or `count`. */
    names?: readonly string[];
    /** `count` ports named `PORT_1`..`PORT_N`. */
    count?: number;
    /** Ports to choose from. Default 20000-29999. */
    range?: RangeOption;
    /** One block of consecutive ports. */
    contiguous?: boolean;
    /** Same key while its lease lives: the same lease back. Default: a new key each time. */
    key?: string;
    /** Where to start looking: `'hash'` (of the key; default), `'random'`, `'sequential'`. */
    strategy?: Strategy;
    /**
     * The lease ends after this even if its owner lives. Default `'24h'`, renewed every hour
     * while this process holds the lease; an explicit `ttl` is a hard bound; `null`: no TTL
     * (needs an owner).
     */
    ttl?: DurationOption | null;
    /** Who keeps the lease alive. Default: the calling process. */
    owner?: OwnerOption;
    /** When the range is full, wait up to this long for a release. Default 0. */
    wait?: DurationOption;
    /** Registry directory. Default `$PORTLEASE_REGISTRY`, else the host-wide `/tmp/portlease`. */
    registry?: string;
    /** Allow ports inside the kernel's ephemeral range. Default false. */
    allowEphemeral?: boolean;
}
/** A live lease. Give it back with `release()`, or let `await using` do it. */
export interface Lease {
    /** The lease id, like `pl_k3v9x2m4q8`. */
    readonly id: string;
    readonly key: string;
    /** Port name -> port. */
    readonly ports: Readonly<Record<string, number>>;
    /**
     * When the TTL ends the lease as taken, or null (no TTL). With the default TTL it is
     * renewed every hour while this process holds the lease; an explicit `ttl` is a hard bound.
     */
    readonly expires: Date | null;
    /** The registry directory it lives in. */
    readonly registry: string;
    /** Give the lease back. Idempotent: a lease already gone is not an error. */
    release(): Promise<void>;
    /** `release()`, for `await using`. */
    [Symbol.asyncDispose](): Promise<void>;
}
/** get-port 7's options. */
export interface GetPortOptions {
    /** A preferred port or an iterable of preferred ports, tried in order. */
    readonly port?: number | Iterable<number>;
    /** Ports that should not be returned. */
    readonly exclude?: Iterable<number>;
    /** Accepted for get-port compatibility; every port is held until released anyway. */
    readonly reserve?: boolean;
    /** Also check that the port can be bound on this host (an IPv4 or IPv6 address). */
    readonly host?: string;
    /** Accepted for get-port compatibility (a listen option); the probes cover IPv4 and IPv6. */
    readonly ipv6Only?: boolean;
}
/**
 * What `listen()` can bind (its `servers` option): a Node `net.Server` that is not listening
 * yet, or any of its subclasses (`http.createServer(handler)`, `https`, `tls`, `http2`).
 * Declared by shape, so that these types need no `@types/node`; listen() checks at run time
 * that it is a `net.Server`.
 */
export interface ServerLike {
    readonly listening: boolean;
    listen(options: {
        port: number;
        host?: string;
    }, listeningListener?: () => void): unknown;
    close(callback?: (err?: Error) => void): unknown;
    address(): unknown;
}
/**
 * A server `listen()` created (a name without one in `servers`): a Node `net.Server`,
 * listening. Attach a `'connection'` handler; connections that arrive before the first one
 * is attached wait for it (none is dropped). Declared by shape, so that these types need no
 * `@types/node`; with them, `server as net.Server` gives the full type.
 */
export interface ListeningServer {
    readonly listening: boolean;
    /** `{ address, family, port }` while listening, else null. */
    address(): {
        address: string;
        family: string;
        port: number;
    } | string | null;
    /** Stop listening; the callback (and `'close'`) once every connection has ended. */
    close(callback?: (err?: Error) => void): this;
    on(event: string, listener: (...args: any[]) => void): this;
    once(event: string, listener: (...args: any[]) => void): this;
    off(event: string, listener: (...args: any[]) => void): this;
    getConnections(callback: (error: Error | null, count: number) => void): this;
    ref(): this;
    unref(): this;
}
/** Servers for some of the names: name -> a server that is not listening yet. */
export type ServerMap = Readonly<Record<string, ServerLike>>;
/** What `listen()` takes: `lease()`'s options, where to listen, and servers to bind. */
export interface ListenOptions<S extends ServerMap = ServerMap> extends LeaseOptions {
    /**
     * The address to listen on: a literal IP of this host. Default `'127.0.0.1'`; `'0.0.0.0'`
     * (every IPv4 address), `'::'` (every address, IPv4 too unless `ipv6Only`), `'::1'`, ...
     */
    host?: string;
    /** Node's `backlog` (pending connections). Default Node's (511). */
    backlog?: number;
    /** With `host: '::'`, IPv6 only (as Node's `ipv6Only`). Default false. */
    ipv6Only?: boolean;
    /**
     * Servers to bind, by name: `{ WEB_PORT: http.createServer(handler) }`. Names without one
     * get a new `net.Server`.
     */
    servers?: S;
}
/**
 * Listening servers on leased ports. The lease is held while any of them listens: it is
 * released when the last one closes (`close()`, or each server's own `close()`), and
 * reclaimed when the process exits.
 */
export interface Listening<S extends ServerMap = ServerMap> {
    /** The lease id, like `pl_k3v9x2m4q8`. */
    readonly id: string;
    readonly key: string;
    /** Port name -> port, for the names asked for. */
    readonly ports: Readonly<Record<string, number>>;
    /**
     * When the TTL ends the lease as taken, or null (no TTL). With the default TTL it is
     * renewed every hour while the servers listen; an explicit `ttl` is a hard bound.
     */
    readonly expires: Date | null;
    /** The registry directory it lives in. */
    readonly registry: string;
    /** The address the servers listen on. */
    readonly host: string;
    /** Port name -> its server, listening: the ones given in `servers`, and new net.Servers. */
    readonly servers: Readonly<S> & {
        readonly [name: string]: ListeningServer;
    };
    /**
     * Close every server, wait until each has closed (its connections ended), and release the
     * lease. Idempotent.
     */
    close(): Promise<void>;
    /** `close()`, for `await using`. */
    [Symbol.asyncDispose](): Promise<void>;
}
