/**
 * Parsing and validation of everything a user can pass in, shared by the CLI, the action
 * and the container step. Each parser throws a `UsageError` whose one line names the input
 * (`label`) and says what would be accepted.
 */
import { UsageError } from './errors.js';

export type Strategy = 'hash' | 'random' | 'sequential';
export const STRATEGIES: readonly Strategy[] = ['hash', 'random', 'sequential'];

export interface PortRange {
  lo: number;
  hi: number;
}

/** Default range: below every common kernel's ephemeral range (Linux 32768+, BSD/Windows 49152+). */
export const DEFAULT_RANGE: PortRange = { lo: 20000, hi: 29999 };

/** At most this many ports in one lease. */
export const MAX_PORTS_PER_LEASE = 256;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_NAME_LENGTH = 128;

/** A lease id, as `allocate` makes them: pl_ + lower-case letters and digits. */
export const LEASE_ID = /^pl_[a-z0-9]{6,40}$/;
/** A label key in a lease record. */
export const LABEL_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** `text` with each control character (newline, tab, ...) replaced by a space. */
export function withoutControlChars(text: string): string {
  return text.replace(new RegExp(CONTROL_CHARS.source, 'g'), ' ');
}

function show(value: string): string {
  return JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value);
}

/**
 * Names a port may not have: each becomes an environment variable (exec, the action's env,
 * the container step's output), and these would clobber what the shell, the dynamic loader,
 * Node or the runner rely on. Compared case-insensitively.
 */
export const RESERVED_NAMES: readonly string[] = [
  'PATH',
  'HOME',
  'SHELL',
  'USER',
  'PWD',
  'TMPDIR',
  'LANG',
  'IFS',
  'CI',
];
export const RESERVED_PREFIXES: readonly string[] = [
  'GITHUB_',
  'RUNNER_',
  'ACTIONS_',
  'INPUT_',
  'STATE_',
  'NODE_',
  'LD_',
];

/** One environment-variable-shaped name, not a reserved one. */
export function checkName(name: string, label: string): string {
  if (!ENV_NAME.test(name) || name.length > MAX_NAME_LENGTH) {
    throw new UsageError(
      `${label}: ${show(name)} is not a valid name; use letters, digits and _ , not starting with a digit (like DB_PORT), at most ${MAX_NAME_LENGTH} characters`,
    );
  }
  const upper = name.toUpperCase();
  if (RESERVED_NAMES.includes(upper) || RESERVED_PREFIXES.some((p) => upper.startsWith(p))) {
    throw new UsageError(
      `${label}: ${show(name)} is reserved (it would overwrite a variable the shell, the runner or later steps rely on: ${RESERVED_NAMES.join(', ')}, ${RESERVED_PREFIXES.map((p) => p + '*').join(', ')}); choose another name, like WEB_PORT`,
    );
  }
  return name;
}

/** A list of port names: each valid, none repeated, at least one. */
export function checkNames(names: readonly string[], label: string): string[] {
  if (names.length === 0) {
    throw new UsageError(`${label}: no port names given; name at least one, like WEB_PORT`);
  }
  if (names.length > MAX_PORTS_PER_LEASE) {
    throw new UsageError(
      `${label}: ${names.length} names given; at most ${MAX_PORTS_PER_LEASE} ports per lease`,
    );
  }
  const seen = new Set<string>();
  for (const name of names) {
    checkName(name, label);
    if (seen.has(name)) throw new UsageError(`${label}: ${show(name)} is named twice`);
    seen.add(name);
  }
  return [...names];
}

/** Names from free text: separated by whitespace, commas or newlines (the action's `ports`). */
export function parseNameList(text: string, label: string): string[] {
  const names = text.split(/[\s,]+/).filter((s) => s.length > 0);
  return checkNames(names, label);
}

/** `--count N`: N ports named PORT_1..PORT_N. */
export function parseCount(text: string, label: string): number {
  if (!/^\d+$/.test(text.trim())) {
    throw new UsageError(
      `${label}: ${show(text)} is not a whole number; give 1 to ${MAX_PORTS_PER_LEASE}`,
    );
  }
  const n = Number(text.trim());
  if (n < 1 || n > MAX_PORTS_PER_LEASE) {
    throw new UsageError(`${label}: ${n} is out of bounds; give 1 to ${MAX_PORTS_PER_LEASE}`);
  }
  return n;
}

export function countNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `PORT_${i + 1}`);
}

/** `LO-HI` (inclusive), both in 1-65535, LO <= HI. A single port `P` means P-P. */
export function parseRange(text: string, label: string): PortRange {
  const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(text);
  const accepted = 'use LO-HI with 1 <= LO <= HI <= 65535, like 20000-29999';
  if (!m) throw new UsageError(`${label}: ${show(text)} is not a port range; ${accepted}`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi > 65535 || lo > 65535 || hi < 1) {
    throw new UsageError(`${label}: ${show(text)} is outside 1-65535; ${accepted}`);
  }
  if (lo > hi) throw new UsageError(`${label}: ${show(text)} is reversed; ${accepted}`);
  return { lo, hi };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UNITS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY };

/** Units from the largest down: in a compound duration each comes once, in this order. */
const UNIT_ORDER = ['d', 'h', 'm', 's', 'ms'];

/**
 * A duration: `90s`, `15m`, `6h`, `2d`, `500ms`, compound `1h30m` (each unit once, largest
 * first), or bare seconds `300`. `allowZero` lets `0` through (for `--wait 0`). Returns
 * milliseconds.
 */
export function parseDuration(
  text: string,
  label: string,
  opts: { allowZero?: boolean; max?: number } = {},
): number {
  const accepted = `use a duration like 90s, 15m, 6h, 2d or 1h30m${opts.allowZero ? ', or 0' : ''}`;
  const t = text.trim();
  let ms: number;
  if (/^\d+$/.test(t)) {
    ms = Number(t) * 1000;
  } else {
    const re = /(\d+)(ms|s|m|h|d)/gy;
    let total = 0;
    let pos = 0;
    let any = false;
    let lastUnit = -1;
    for (let m = re.exec(t); m !== null; m = re.exec(t)) {
      const unit = UNIT_ORDER.indexOf(m[2] ?? '');
      if (unit <= lastUnit) {
        throw new UsageError(
          `${label}: ${show(text)} is not a duration: give each unit once, largest first (d, h, m, s, ms), like 1h30m`,
        );
      }
      lastUnit = unit;
      total += Number(m[1]) * (UNITS[m[2] ?? ''] ?? Number.NaN);
      pos = re.lastIndex;
      any = true;
    }
    if (!any || pos !== t.length) {
      throw new UsageError(`${label}: ${show(text)} is not a duration; ${accepted}`);
    }
    ms = total;
  }
  if (!Number.isFinite(ms)) throw new UsageError(`${label}: ${show(text)} is too large`);
  if (ms === 0 && !opts.allowZero) {
    throw new UsageError(`${label}: ${show(text)} is zero; ${accepted}`);
  }
  const max = opts.max ?? 366 * DAY;
  if (ms > max) {
    throw new UsageError(`${label}: ${show(text)} is longer than ${formatDuration(max)}`);
  }
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY}d`;
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  if (ms % MINUTE === 0) return `${ms / MINUTE}m`;
  if (ms % SECOND === 0) return `${ms / SECOND}s`;
  return `${ms}ms`;
}

export function parseStrategy(text: string, label: string): Strategy {
  const t = text.trim();
  if ((STRATEGIES as readonly string[]).includes(t)) return t as Strategy;
  throw new UsageError(`${label}: ${show(text)} is not a strategy; use ${STRATEGIES.join(', ')}`);
}

/** A process id: a whole number from 1 up. Whether it runs is checked by the caller. */
export function parsePid(text: string, label: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > 0x3fffffff) {
    throw new UsageError(`${label}: ${show(text)} is not a process id; give a whole number >= 1`);
  }
  return Number(t);
}

/** A lease key: free text, 1-200 printable characters. */
export function checkKey(key: string, label: string): string {
  if (key.length === 0 || key.length > 200 || CONTROL_CHARS.test(key)) {
    throw new UsageError(
      `${label}: ${show(key)} is not a valid key; use 1-200 printable characters, no newlines`,
    );
  }
  return key;
}

/** A lease id as printed by `allocate` (pl_ + letters/digits). */
export function checkLeaseId(id: string, label: string): string {
  if (!LEASE_ID.test(id)) {
    throw new UsageError(`${label}: ${show(id)} is not a lease id; ids look like pl_k3v9x2m4q8`);
  }
  return id;
}

/** true/false in the forms GitHub's YAML 1.2 core schema accepts. */
export function parseBoolean(text: string, label: string): boolean {
  const t = text.trim();
  if (['true', 'True', 'TRUE'].includes(t)) return true;
  if (['false', 'False', 'FALSE'].includes(t)) return false;
  throw new UsageError(`${label}: ${show(text)} is not a boolean; use true or false`);
}
