export type Strategy = 'hash' | 'random' | 'sequential';
export declare const STRATEGIES: readonly Strategy[];
export interface PortRange {
    lo: number;
    hi: number;
}
/** Default range: below every common kernel's ephemeral range (Linux 32768+, BSD/Windows 49152+). */
export declare const DEFAULT_RANGE: PortRange;
/** At most this many ports in one lease. */
export declare const MAX_PORTS_PER_LEASE = 256;
/** A lease id, as `allocate` makes them: pl_ + lower-case letters and digits. */
export declare const LEASE_ID: RegExp;
/** A label key in a lease record. */
export declare const LABEL_KEY: RegExp;
export declare const CONTROL_CHARS: RegExp;
/** `text` with each control character (newline, tab, ...) replaced by a space. */
export declare function withoutControlChars(text: string): string;
/**
 * Names a port may not have: each becomes an environment variable (exec, the action's env,
 * the container step's output), and these would clobber what the shell, the dynamic loader,
 * Node or the runner rely on. Compared case-insensitively.
 */
export declare const RESERVED_NAMES: readonly string[];
export declare const RESERVED_PREFIXES: readonly string[];
/** One environment-variable-shaped name, not a reserved one. */
export declare function checkName(name: string, label: string): string;
/** A list of port names: each valid, none repeated, at least one. */
export declare function checkNames(names: readonly string[], label: string): string[];
/** Names from free text: separated by whitespace, commas or newlines (the action's `ports`). */
export declare function parseNameList(text: string, label: string): string[];
/** `--count N`: N ports named PORT_1..PORT_N. */
export declare function parseCount(text: string, label: string): number;
export declare function countNames(n: number): string[];
/** `LO-HI` (inclusive), both in 1-65535, LO <= HI. A single port `P` means P-P. */
export declare function parseRange(text: string, label: string): PortRange;
/**
 * A duration: `90s`, `15m`, `6h`, `2d`, `500ms`, compound `1h30m` (each unit once, largest
 * first), or bare seconds `300`. `allowZero` lets `0` through (for `--wait 0`). Returns
 * milliseconds.
 */
export declare function parseDuration(text: string, label: string, opts?: {
    allowZero?: boolean;
    max?: number;
}): number;
export declare function formatDuration(ms: number): string;
export declare function parseStrategy(text: string, label: string): Strategy;
/** A process id: a whole number from 1 up. Whether it runs is checked by the caller. */
export declare function parsePid(text: string, label: string): number;
/** A lease key: free text, 1-200 printable characters. */
export declare function checkKey(key: string, label: string): string;
/** A lease id as printed by `allocate` (pl_ + letters/digits). */
export declare function checkLeaseId(id: string, label: string): string;
/** true/false in the forms GitHub's YAML 1.2 core schema accepts. */
export declare function parseBoolean(text: string, label: string): boolean;
