import { describe, expect, it } from 'vitest';
import { excludedCount } from '../../src/core/request.js';

describe('excludedCount', () => {
  it('counts the ports of a range inside a union of ranges', () => {
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
