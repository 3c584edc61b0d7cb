import { describe, expect, it } from 'vitest';
import { choosePorts, fnv1a } from '../../src/core/choose.js';

describe('choosePorts', () => {
  const range = { lo: 100, hi: 109 };
  const usableExcept =
    (bad: number[]) =>
    (p: number): Promise<boolean> =>
      Promise.resolve(!bad.includes(p));
  /** choosePorts over `range`, every port usable but `bad`. */
  const choose = (count: number, contiguous: boolean, start: number, bad: number[] = []) =>
    choosePorts({ count, range, contiguous, start, usable: usableExcept(bad) });

  it('scans from the start and wraps', async () => {
    expect(await choose(3, false, 108, [109])).toEqual([108, 100, 101]);
  });

  it('finds blocks that fit below the top, skipping past a bad port', async () => {
    const asked: number[] = [];
    const usable = (p: number): Promise<boolean> => {
      asked.push(p);
      return Promise.resolve(p !== 103);
    };
    expect(await choosePorts({ count: 4, range, contiguous: true, start: 100, usable })).toEqual([
      104, 105, 106, 107,
    ]);
    expect(new Set(asked).size).toBe(asked.length); // each port asked once
    expect(await choose(4, true, 109)).toEqual([106, 107, 108, 109]);
    expect(await choose(11, true, 100)).toBeNull();
    expect(await choose(5, true, 100, [104])).toEqual([105, 106, 107, 108, 109]);
    expect(await choose(5, true, 100, [104, 105])).toBeNull();
  });

  it('hashes keys stably (FNV-1a)', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
  });
});
