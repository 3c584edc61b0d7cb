/**
 * Choosing ports inside a range: where to start looking (strategy), and how to take them
 * (a bundle of single ports, or one contiguous block). Knows nothing of files or locks: the
 * caller says whether a port is usable.
 */
import type { PortRange, Strategy } from './parse.js';

/** 32-bit FNV-1a: stable across processes, platforms and Node versions. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The first port to look at. `hash`: a stable function of the key; `random`; `sequential`: LO. */
export function startPort(range: PortRange, strategy: Strategy, key: string): number {
  const span = range.hi - range.lo + 1;
  switch (strategy) {
    case 'sequential':
      return range.lo;
    case 'random':
      return range.lo + Math.floor(Math.random() * span);
    case 'hash':
      return range.lo + (fnv1a(key) % span);
  }
}

export interface ChooseInput {
  count: number;
  range: PortRange;
  contiguous: boolean;
  start: number;
  /** Is this port usable right now? Asked at most once per port per call. */
  usable: (port: number) => Promise<boolean>;
}

/**
 * Pick `count` ports, scanning from `start` to the top of the range and wrapping to the
 * bottom. Contiguous blocks do not wrap (they must fit below HI). Returns null when the
 * range cannot supply them.
 */
export async function choosePorts(input: ChooseInput): Promise<number[] | null> {
  const { count, range, start } = input;
  const span = range.hi - range.lo + 1;
  const known = new Map<number, boolean>();
  const usable = async (p: number): Promise<boolean> => {
    let ok = known.get(p);
    if (ok === undefined) {
      ok = await input.usable(p);
      known.set(p, ok);
    }
    return ok;
  };

  if (!input.contiguous) {
    const got: number[] = [];
    for (let i = 0; i < span && got.length < count; i++) {
      const p = range.lo + ((start - range.lo + i) % span);
      if (await usable(p)) got.push(p);
    }
    return got.length === count ? got : null;
  }

  if (count > span) return null;
  // Block starts, in scan order; a block [b, b+count-1] must lie inside the range.
  const lastStart = range.hi - count + 1;
  const starts = lastStart - range.lo + 1;
  const first = Math.min(start, lastStart);
  for (let i = 0; i < starts;) {
    const b = range.lo + ((first - range.lo + i) % starts);
    let bad = -1;
    for (let j = 0; j < count; j++) {
      if (!(await usable(b + j))) {
        bad = j;
        break;
      }
    }
    if (bad < 0) return Array.from({ length: count }, (_, j) => b + j);
    // No block starting at b..b+bad can work; skip them (unless that wraps past the end).
    const next = b + bad + 1;
    i += next <= lastStart ? bad + 1 : 1;
  }
  return null;
}

/** Are these ports one block of consecutive numbers (in any order)? */
export function isBlock(ports: readonly number[]): boolean {
  if (ports.length === 0) return true;
  const lo = Math.min(...ports);
  const hi = Math.max(...ports);
  return hi - lo + 1 === ports.length && new Set(ports).size === ports.length;
}

/**
 * `count` more ports that make one consecutive block together with `held` (itself a block),
 * inside `range`: the block is extended downwards, upwards or both. Returns the new ports
 * (lowest first), or null when no such block is free.
 */
export async function extendBlock(
  held: readonly number[],
  count: number,
  range: PortRange,
  usable: (port: number) => Promise<boolean>,
): Promise<number[] | null> {
  if (!isBlock(held) || held.length === 0) return null;
  const lo = Math.min(...held);
  const hi = Math.max(...held);
  const size = hi - lo + 1 + count;
  const known = new Map<number, boolean>();
  const ok = async (p: number): Promise<boolean> => {
    let v = known.get(p);
    if (v === undefined) {
      v = await usable(p);
      known.set(p, v);
    }
    return v;
  };
  // Block starts b with b <= lo and b + size - 1 >= hi, nearest to the held block's start first.
  for (let b = lo; b >= Math.max(range.lo, hi - size + 1); b--) {
    const end = b + size - 1;
    if (end > range.hi) continue;
    const fresh: number[] = [];
    for (let p = b; p <= end; p++) if (p < lo || p > hi) fresh.push(p);
    let all = true;
    for (const p of fresh) {
      if (!(await ok(p))) {
        all = false;
        break;
      }
    }
    if (all) return fresh;
  }
  return null;
}
