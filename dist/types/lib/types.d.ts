/**
 * The library's public types, kept apart from the code so that the published declarations
 * (dist/types) hold these and nothing of the engine's internals.
 */
import type { Strategy } from '../registry/parse.js';
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
 * `'pid:N'` or `{ pid: N }` (while that process runs).
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
    /** The lease ends after this even if its owner lives. Default `'24h'`; `null`: no TTL (needs an owner). */
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
    /** When the TTL ends it, or null (no TTL). */
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
