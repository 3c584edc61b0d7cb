/**
 * `lease(options)`: the CLI's `allocate` as a function. Every option goes through the
 * core's parsers, so a bad one is a `UsageError` with the CLI's one-line message (the label
 * is the option's name: `range`, not `--range`), thrown before the registry is touched.
 */
import { resolve } from 'node:path';
import {
  createHostRegistry,
  debugEnabled,
  DEFAULT_TTL_MS,
  registryDir,
  renewWhileHeld,
} from '../job/host-registry.js';
import {
  checkKey,
  checkNames,
  countNames,
  parseCount,
  parseDuration,
  parseRange,
  parseStrategy,
  UsageError,
  type AllocateRequest,
  type Lease as Record_,
  type PortRange,
  type Registry,
} from '../core/index.js';
import { ownerDefaults } from '../core/owner.js';
import { ownerOption } from './owner.js';
import type { Lease } from './types.js';

const KNOWN = new Set([
  'names',
  'count',
  'range',
  'contiguous',
  'key',
  'strategy',
  'ttl',
  'owner',
  'wait',
  'registry',
  'allowEphemeral',
]);

export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  return v === null ? 'null' : typeof v;
}

function stringOption(v: unknown, label: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`${label}: ${show(v)} is not a string`);
  return v;
}

export function boolOption(v: unknown, label: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean')
    throw new UsageError(`${label}: ${show(v)} is not a boolean; use true or false`);
  return v;
}

/** `range` in any of its forms, through the core's parser. */
export function rangeOption(v: unknown, label = 'range'): PortRange | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return parseRange(v, label);
  let lo: unknown;
  let hi: unknown;
  if (Array.isArray(v) && v.length === 2) [lo, hi] = v as unknown[];
  else if (typeof v === 'object' && v !== null && 'lo' in v && 'hi' in v) ({ lo, hi } = v);
  if (typeof lo === 'number' && typeof hi === 'number') return parseRange(`${lo}-${hi}`, label);
  throw new UsageError(
    `${label}: ${show(v)} is not a port range; use 'LO-HI', { lo, hi } or [lo, hi] with 1 <= LO <= HI <= 65535`,
  );
}

/** A duration option: a string for the core's parser, or whole milliseconds. */
export function durationOption(v: unknown, label: string, allowZero = false): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return parseDuration(v, label, { allowZero });
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) {
      throw new UsageError(
        `${label}: ${v} is not a duration; give whole milliseconds or a string like 90s, 15m, 6h`,
      );
    }
    return parseDuration(`${v}ms`, label, { allowZero });
  }
  throw new UsageError(
    `${label}: ${show(v)} is not a duration; use a string like 90s, 15m, 6h or milliseconds`,
  );
}

/**
 * Build the core's request from library options; every value checked, nothing touched yet.
 * `fn` names the function in messages; `extra` are the options it takes besides lease()'s.
 */
export function leaseRequest(
  options: unknown,
  fn = 'lease',
  extra: readonly string[] = [],
): AllocateRequest & { registry: string | undefined } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new UsageError(`${fn}: options must be an object, like { names: ['WEB_PORT'] }`);
  }
  for (const k of Object.keys(options)) {
    if (!KNOWN.has(k) && !extra.includes(k)) {
      throw new UsageError(
        `${fn}: unknown option ${JSON.stringify(k)}; use ${[...KNOWN, ...extra].join(', ')}`,
      );
    }
  }
  const o = options as Record<string, unknown>;
  let names: string[];
  if (o.count !== undefined) {
    if (o.names !== undefined) throw new UsageError('count: give either names or count, not both');
    if (typeof o.count !== 'number')
      throw new UsageError(`count: ${show(o.count)} is not a number`);
    names = countNames(parseCount(String(o.count), 'count'));
  } else {
    if (o.names === undefined) {
      throw new UsageError(`${fn}: no port names given; give names (like ['WEB_PORT']) or count`);
    }
    if (!Array.isArray(o.names) || !o.names.every((n) => typeof n === 'string')) {
      throw new UsageError(`names: ${show(o.names)} is not an array of strings, like ['WEB_PORT']`);
    }
    names = checkNames(o.names, 'names');
  }
  const key = stringOption(o.key, 'key');
  const strategy = stringOption(o.strategy, 'strategy');
  const registry = stringOption(o.registry, 'registry');
  const owner = ownerOption(o.owner);
  // As in the CLI: a directory's bundle has the directory's key and no TTL unless one is given.
  const byOwner = ownerDefaults(owner, DEFAULT_TTL_MS);
  const ttl = o.ttl === null ? null : (durationOption(o.ttl, 'ttl') ?? byOwner.ttlMs);
  return {
    names,
    range: rangeOption(o.range),
    contiguous: boolOption(o.contiguous, 'contiguous'),
    key: key !== undefined ? checkKey(key, 'key') : byOwner.key,
    strategy: strategy === undefined ? 'hash' : parseStrategy(strategy, 'strategy'),
    ttlMs: ttl,
    waitMs: durationOption(o.wait, 'wait', true) ?? 0,
    owner,
    allowEphemeral: boolOption(o.allowEphemeral, 'allowEphemeral'),
    registry: registry === undefined ? undefined : registryDir(registry, 'registry'),
  };
}

/**
 * One Registry per directory for the whole process, so what a registry remembers between
 * operations (the state it last saw under the lock, the record lines it validated) serves
 * every later call: a jest worker's hundredth getPort() does not validate every record
 * again. Every operation still runs under the host-wide lock, which serializes concurrent
 * calls in this process as it does across processes, and across worker threads (each has a
 * map of its own; the lock tells threads apart: docs/adr/0003-thread-identity.md).
 */
const registries = new Map<string, Registry>();

/** The Registry the library uses for `dir` (undefined: $PORTLEASE_REGISTRY or the default). */
export function libraryRegistry(dir: string | undefined): Registry {
  const env = process.env;
  // One Registry however the directory is spelled (`reg`, `./reg/`, absolute): resolved.
  const path = resolve(registryDir(dir, 'registry', env));
  const debug = debugEnabled(env);
  const id = `${debug ? 'debug' : 'quiet'}:${path}`;
  let registry = registries.get(id);
  if (registry === undefined) {
    registry = createHostRegistry(path, {
      env,
      warn,
      debug: debug
        ? (m) => {
            process.stderr.write(`portlease: debug: ${m}\n`);
          }
        : undefined,
    });
    registries.set(id, registry);
  }
  return registry;
}

/** A warning from the library: process.emitWarning, type PortleaseWarning (one line). */
export function warn(message: string): void {
  process.emitWarning(message, { type: 'PortleaseWarning' });
}

/**
 * The library's view of a lease record, bound to the registry it lives in. `stopRenewal`
 * (renewWhileHeld's stop, when this process renews it) is called on release.
 */
export function toLease(record: Record_, registry: Registry, stopRenewal?: () => void): Lease {
  let released: Promise<void> | undefined;
  const release = (): Promise<void> => {
    stopRenewal?.();
    released ??= registry.release({ lease: record.id }).then(
      () => undefined,
      (err: unknown) => {
        released = undefined; // not given back: a later call may try again
        throw err;
      },
    );
    return released;
  };
  return Object.freeze({
    id: record.id,
    key: record.key,
    ports: Object.freeze({ ...record.ports }),
    expires: record.expires === null ? null : new Date(record.expires),
    registry: registry.dir,
    release,
    [Symbol.asyncDispose]: release,
  });
}

/**
 * Lease ports host-wide. The same `key` while its lease lives gives the same lease back.
 *
 * ```ts
 * await using l = await lease({ names: ['WEB_PORT', 'DB_PORT'], range: '21000-21063' });
 * startServer(l.ports.WEB_PORT);
 * ```
 */
export async function lease(options: unknown): Promise<Lease> {
  const { registry: dir, ...req } = leaseRequest(options);
  const registry = libraryRegistry(dir);
  const { lease: record, reused } = await registry.allocate(req);
  // The default TTL is renewed while this process holds the lease (as exec and listen() do):
  // a process may run for days. An explicit ttl is a hard bound; a live lease of the same
  // key that was already there is renewed by whoever took it.
  const renewTtlMs = defaultTtlMs(options, req.ttlMs);
  const stop =
    renewTtlMs === null || reused
      ? undefined
      : renewWhileHeld(registry, record.id, renewTtlMs, (message) => {
          warn(`lease: ${message}`);
        });
  return toLease(record, registry, stop);
}

/** The TTL to renew a lease to while it is held: the default one, when no ttl was given. */
export function defaultTtlMs(options: unknown, ttlMs: number | null | undefined): number | null {
  return (options as Record<string, unknown>).ttl === undefined ? (ttlMs ?? null) : null;
}
