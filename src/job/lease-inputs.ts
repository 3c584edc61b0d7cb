/**
 * The lease inputs both GitHub steps take (`range`, `key`, `strategy`, `ttl`, `wait`,
 * `registry`), read through a function the shell passes (the action passes core.getInput)
 * and checked with the core's parsers into one typed `LeaseInputs`.
 *
 * - `readLeaseInputs(read, opts?)`: throws `UsageError` whose one line names the input.
 *   Touches nothing on disk. Empty inputs take the defaults (`opts.ttlDefault` overrides the
 *   TTL default, a GitHub job's default timeout plus margin).
 * - `parseRegistryDir(text, env?)`: the `registry` input as an absolute directory.
 *
 * No @actions/* here: the shells own the runner protocol.
 */
import { isAbsolute, resolve } from 'node:path';
import {
  checkKey,
  CONTROL_CHARS,
  DEFAULT_RANGE,
  defaultRegistryDir,
  parseDuration,
  parseRange,
  parseStrategy,
  UsageError,
  type PortRange,
  type Strategy,
} from '../core/index.js';

/** A GitHub job's default timeout (timeout-minutes: 360) plus margin for queued post steps. */
export const DEFAULT_TTL = '6h30m';
export const DEFAULT_WAIT = '0';
/** The longest TTL accepted from a workflow: a self-hosted job's longest timeout (5 days) plus margin. */
const MAX_TTL_MS = 6 * 24 * 3_600_000;
const MAX_WAIT_MS = 6 * 3_600_000;

/** The value of a step input by name ('' when not given), e.g. core.getInput. */
export type InputReader = (name: string) => string;

export interface LeaseInputs {
  range: PortRange;
  /** The `key` input, or undefined when empty (then use `defaultKey`). */
  key: string | undefined;
  strategy: Strategy;
  ttlMs: number;
  waitMs: number;
  /** Absolute registry directory (input `registry`, else $PORTLEASE_REGISTRY, else /tmp/portlease). */
  registry: string;
}

export interface LeaseInputOptions {
  /** TTL when `ttl` is empty (default DEFAULT_TTL). */
  ttlDefault?: string;
  env?: NodeJS.ProcessEnv;
}

/** Read and validate the lease inputs. Throws UsageError naming the input; touches nothing. */
export function readLeaseInputs(read: InputReader, opts: LeaseInputOptions = {}): LeaseInputs {
  const env = opts.env ?? process.env;
  const input = (name: string): string => read(name).trim();
  const rangeText = input('range');
  const keyText = input('key');
  const strategyText = input('strategy');
  const ttlText = input('ttl') || (opts.ttlDefault ?? DEFAULT_TTL);
  const waitText = input('wait') || DEFAULT_WAIT;
  const registryText = input('registry');
  return {
    range: rangeText === '' ? { ...DEFAULT_RANGE } : parseRange(rangeText, 'range'),
    key: keyText === '' ? undefined : checkKey(keyText, 'key'),
    strategy: strategyText === '' ? 'hash' : parseStrategy(strategyText, 'strategy'),
    ttlMs: parseDuration(ttlText, 'ttl', { max: MAX_TTL_MS }),
    waitMs: parseDuration(waitText, 'wait', { allowZero: true, max: MAX_WAIT_MS }),
    registry: parseRegistryDir(registryText, env),
  };
}

/** The `registry` input: an absolute path without control characters; '' means the default. */
export function parseRegistryDir(text: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = text === '' ? defaultRegistryDir(env) : text;
  if (CONTROL_CHARS.test(dir)) {
    throw new UsageError(
      `registry: ${JSON.stringify(dir.slice(0, 60))} contains control characters; name a directory like /tmp/portlease`,
    );
  }
  if (!isAbsolute(dir)) {
    throw new UsageError(
      `registry: ${JSON.stringify(dir.slice(0, 60))} is not an absolute path; the registry is host-wide, name it like /tmp/portlease`,
    );
  }
  return resolve(dir);
}
