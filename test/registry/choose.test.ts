import { describe, expect, it } from 'vitest';
import { choosePorts, fnv1a } from '../../src/registry/choose.js';

describe('choosePorts', () => {
  const range = { lo: 100, hi: 109 };
  const usableExcept =
    (bad: number[]) =>
    (p: number): Promise<boolean> =>
      Promise.resolve(!bad.includes(p));

  it('scans from the start and wraps', async () => {
    expect(
      await choosePorts({
        count: 3,
        range,
        contiguous: false,
        start: 108,
        usable: usableExcept([109]),
      }),
    ).toEqual([108, 100, 101]);
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
    expect(
      await choosePorts({
        count: 4,
        range,
        contiguous: true,
        start: 109,
        usable: usableExcept([]),
      }),
    ).toEqual([106, 107, 108, 109]);
    expect(
      await choosePorts({
        count: 11,
        range,
        contiguous: true,
        start: 100,
        usable: usableExcept([]),
      }),
    ).toBeNull();
    expect(
      await choosePorts({
        count: 5,
        range,
        contiguous: true,
        start: 100,
        usable: usableExcept([104]),
      }),
    ).toEqual([105, 106, 107, 108, 109]);
    expect(
      await choosePorts({
        count: 5,
        range,
        contiguous: true,
        start: 100,
        usable: usableExcept([104, 105]),
      }),
    ).toBeNull();
  });

  it('hashes keys stably (FNV-1a)', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
  });
});
