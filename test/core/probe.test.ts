import { describe, expect, it } from 'vitest';
import { parseEphemeral, parseReserved } from '../../src/core/probe.js';

describe('kernel port ranges', () => {
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
