/**
 * sharedQuery: the lease server's one answer of the container engines for a burst of
 * allocations (createHostRegistry's busyPortsMaxAgeMs).
 */
import { describe, expect, it } from 'vitest';
import { sharedQuery } from '../../src/job/host-registry.js';

describe('sharedQuery', () => {
  it('shares one answer while it runs and for maxAgeMs after it started, then asks again', async () => {
    let asked = 0;
    const q = sharedQuery(async () => {
      asked++;
      await new Promise((r) => setTimeout(r, 20));
      return asked;
    }, 150);
    const [a, b] = await Promise.all([q(), q()]);
    expect([a, b, asked]).toEqual([1, 1, 1]);
    expect(await q()).toBe(1); // still young
    await new Promise((r) => setTimeout(r, 200));
    expect(await q()).toBe(2);
    expect(asked).toBe(2);
  });

  it('never reuses a failed answer', async () => {
    let asked = 0;
    const q = sharedQuery(() => {
      asked++;
      return asked === 1 ? Promise.reject(new Error('engine down')) : Promise.resolve([80]);
    }, 10_000);
    await expect(q()).rejects.toThrow('engine down');
    expect(await q()).toEqual([80]);
    expect(asked).toBe(2);
  });
});
