/**
 * What the CLI's commands share: the parsed flags, the registry and owner they name, the
 * allocate request built from them, and the JSON a lease is shown as. The lease server
 * (serve.ts) builds its requests through the same functions, so its answers carry the
 * CLI's messages.
 */
import {
  checkKey,
  checkNames,
  countNames,
  defaultOwner,
  parseCount,
  parseDuration,
  parseOwnerSpec,
  parsePid,
  parseRange,
  parseStrategy,
  resolveOwner,
  UsageError,
  type AllocateRequest,
  type Lease,
  type OwnerChoice,
  type Registry,
} from '../core/index.js';
import { ownerDefaults } from '../core/owner.js';
import {
  createHostRegistry,
  debugEnabled,
  DEFAULT_TTL_MS,
  registryDir,
} from '../job/host-registry.js';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

/** Parsed flags: parseArgs' values. */
export type Values = Record<string, string | boolean | string[] | undefined>;

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** The CLI's warnings and (with PORTLEASE_DEBUG) debug lines, on stderr. */
export function logTo(io: Io): { warn: (m: string) => void; debug?: (m: string) => void } {
  return {
    warn: (m) => {
      io.err(`portlease: warning: ${m}`);
    },
    debug: debugEnabled(io.env)
      ? (m) => {
          io.err(`portlease: debug: ${m}`);
        }
      : undefined,
  };
}

export function registryFrom(values: Values, io: Io, busyPortsMaxAgeMs = 0): Registry {
  return createHostRegistry(registryDir(str(values, 'registry'), '--registry', io.env), {
    env: io.env,
    busyPortsMaxAgeMs,
    ...logTo(io),
  });
}

/** `--owner` / `--owner-pid`, else the default owner (docs/lifetimes.md). */
export function ownerFrom(values: Values, io: Io): OwnerChoice & { explicit: boolean } {
  const spec = str(values, 'owner');
  const pid = str(values, 'owner-pid');
  if (spec !== undefined && pid !== undefined) {
    throw new UsageError(
      '--owner-pid: give either --owner or --owner-pid (an alias of --owner pid:N), not both',
    );
  }
  if (pid !== undefined) {
    const spec = { kind: 'pid' as const, pid: parsePid(pid, '--owner-pid') };
    return { ...resolveOwner(spec, '--owner-pid'), explicit: true };
  }
  if (spec !== undefined) {
    return { ...resolveOwner(parseOwnerSpec(spec, '--owner'), '--owner'), explicit: true };
  }
  return { ...defaultOwner(io.env), explicit: false };
}

/** Build the allocate request from parsed flags; every value checked, nothing touched yet. */
export function allocateRequest(
  values: Values,
  positionals: string[],
  choice: OwnerChoice & { explicit: boolean },
): AllocateRequest {
  const owner = choice.owner;
  const countText = str(values, 'count');
  let names: string[];
  if (countText !== undefined) {
    if (positionals.length > 0) {
      throw new UsageError('--count: give either NAMEs or --count N, not both');
    }
    names = countNames(parseCount(countText, '--count'));
  } else {
    if (positionals.length === 0) {
      throw new UsageError(
        'allocate: no port names given; name at least one (like WEB_PORT) or use --count N',
      );
    }
    names = checkNames(positionals, 'NAME');
  }
  const rangeText = str(values, 'range');
  const key = str(values, 'key');
  const strategy = str(values, 'strategy');
  const ttl = str(values, 'ttl');
  const wait = str(values, 'wait');
  const byOwner = ownerDefaults(owner, DEFAULT_TTL_MS);
  return {
    names,
    range: rangeText === undefined ? undefined : parseRange(rangeText, '--range'),
    contiguous: values.contiguous === true ? true : undefined,
    key: key !== undefined ? checkKey(key, '--key') : byOwner.key,
    strategy: strategy === undefined ? 'hash' : parseStrategy(strategy, '--strategy'),
    ttlMs: ttl === undefined ? byOwner.ttlMs : parseDuration(ttl, '--ttl'),
    waitMs: wait === undefined ? 0 : parseDuration(wait, '--wait', { allowZero: true }),
    owner,
    renew: { ttl: ttl !== undefined, owner: choice.explicit },
    allowEphemeral: values['allow-ephemeral'] === true,
  };
}

/** The asked-for names with their ports (a key's lease may hold more). */
export function askedPorts(lease: Lease, names: readonly string[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, lease.ports[n] as number]));
}

export function leaseJson(
  lease: Lease,
  extra: Record<string, unknown> = {},
  ports: Record<string, number> = lease.ports,
): Record<string, unknown> {
  return {
    lease: lease.id,
    key: lease.key,
    ports,
    owner: lease.owner,
    expires: lease.expires,
    created: lease.created,
    range: lease.range,
    contiguous: lease.contiguous,
    labels: lease.labels,
    ...extra,
  };
}
