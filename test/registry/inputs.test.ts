import { describe, expect, it } from 'vitest';
import { choosePorts, fnv1a } from '../../src/registry/allocate.js';
import {
  parseBoolean,
  parseDuration,
  parseNameList,
  parseRange,
  UsageError,
} from '../../src/registry/index.js';
import { parseEphemeral, parseReserved } from '../../src/registry/probe.js';

describe('input parsers', () => {
  it('parses ranges, durations, name lists and booleans', () => {
    expect(parseRange('20000-20100', 'r')).toEqual({ lo: 20000, hi: 20100 });
    expect(parseRange(' 8080 ', 'r')).toEqual({ lo: 8080, hi: 8080 });
    expect(parseDuration('90s', 'd')).toBe(90_000);
    expect(parseDuration('1h30m', 'd')).toBe(5_400_000);
    expect(parseDuration('300', 'd')).toBe(300_000);
    expect(parseDuration('0', 'd', { allowZero: true })).toBe(0);
    expect(parseNameList('WEB_PORT, DB_PORT\n  CACHE\tQ', 'ports')).toEqual([
      'WEB_PORT',
      'DB_PORT',
      'CACHE',
      'Q',
    ]);
    expect(parseBoolean('True', 'b')).toBe(true);
    expect(parseBoolean('false', 'b')).toBe(false);
  });

  it.each([
    () => parseRange('5-1', 'range'),
    () => parseDuration('1h30', 'ttl'),
    () => parseDuration('', 'ttl'),
    () => parseNameList('  ,\n', 'ports'),
    () => parseNameList('A B-C', 'ports'),
    () => parseBoolean('yes', 'export-env'),
  ])('rejects bad values with a UsageError (%#)', (fn) => {
    expect(fn).toThrow(UsageError);
  });

  it('reads the kernel range files', () => {
    expect(parseEphemeral('32768\t60999\n')).toEqual({ lo: 32768, hi: 60999 });
    expect(parseEphemeral('garbage')).toBeNull();
    expect(parseReserved('8080,9000-9010\n')).toEqual([
      { lo: 8080, hi: 8080 },
      { lo: 9000, hi: 9010 },
    ]);
    expect(parseReserved('\n')).toEqual([]);
  });
});

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

describe('excludedCount', () => {
  it('counts the ports of a range inside a union of ranges', async () => {
    const { excludedCount } = await import('../../src/registry/index.js');
    const r = { lo: 100, hi: 199 };
    expect(excludedCount(r, [])).toBe(0);
    expect(excludedCount(r, [{ lo: 50, hi: 120 }])).toBe(21);
    expect(
      excludedCount(r, [
        { lo: 150, hi: 300 },
        { lo: 160, hi: 170 },
        { lo: 100, hi: 100 },
      ]),
    ).toBe(51);
    expect(excludedCount(r, [{ lo: 0, hi: 1000 }])).toBe(100);
    expect(excludedCount(r, [{ lo: 10, hi: 20 }])).toBe(0);
  });
});
