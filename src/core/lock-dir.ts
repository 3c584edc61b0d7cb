/**
 * The lock directory `<registry>/lock/` and the names in it (lock.ts tells what they mean):
 * generations `g000000000041`, their release marks `g000000000041.done`, holder-record temp
 * files `t.<pid>.<random>` and liveness sockets `s.<pid>.<random>`. Making the directory,
 * listing its generations, and the two file helpers every lock module uses. No state.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, RuntimeError } from './errors.js';

/** The last generation number: 15 digits (far below 2^53, so numbers stay exact). */
export const MAX_GENERATION = 999_999_999_999_999;
export const GEN = /^g(\d{12,15})$/;
export const DONE = /^g(\d{12,15})\.done$/;
export const TEMP = /^t\.(\d+)\.[0-9a-z]+$/;
export const SOCK = /^s\.\d+\.[0-9a-z]+$/;

export const genName = (g: number): string => `g${String(g).padStart(12, '0')}`;

/** The generation a name stands for, only for names in genName's own spelling. */
export function numberOf(name: string, re: RegExp, suffix: string): number | null {
  const m = re.exec(name);
  if (!m) return null;
  const g = Number(m[1]);
  return genName(g) + suffix === name ? g : null;
}

export interface Listing {
  max: number;
  maxDone: boolean;
  names: string[];
}

export function list(dir: string): Listing {
  const names = readdirSync(dir);
  let max = 0;
  const done = new Set<number>();
  for (const n of names) {
    const g = numberOf(n, GEN, '');
    if (g !== null) {
      max = Math.max(max, g);
      continue;
    }
    const d = numberOf(n, DONE, '.done');
    if (d !== null) done.add(d);
  }
  return { max, maxDone: done.has(max), names };
}

/** The lock directory, made if need be; `id` is its identity (device and inode). */
export function ensureLockDir(registryDir: string): { dir: string; id: string } {
  const dir = join(registryDir, 'lock');
  try {
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
  const st = lstatSync(dir, { bigint: true });
  if (!st.isDirectory()) {
    throw new RuntimeError(
      `registry lock ${dir} is not a directory (a symlink or a file); remove it`,
    );
  }
  return { dir, id: `${st.dev}:${st.ino}` };
}

export function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or not ours to remove: either way nothing to do
  }
}
