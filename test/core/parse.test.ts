import { describe, expect, it } from 'vitest';
import {
  parseBoolean,
  parseDuration,
  parseNameList,
  parseRange,
  UsageError,
} from '../../src/core/index.js';

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
});
