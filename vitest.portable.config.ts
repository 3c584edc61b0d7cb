import { defineConfig } from 'vitest/config';

/**
 * The core's tests that run on any host (Linux, macOS, Windows): `npm run test:portable`.
 * CI runs them on GitHub's macOS and Windows runners; everything else needs Linux (a second
 * Unix user, /proc, strace, pid namespaces, container engines) and runs on ubuntu-latest.
 */
export default defineConfig({
  test: {
    include: [
      'test/core/parse.test.ts',
      'test/core/choose.test.ts',
      'test/core/probe.test.ts',
      'test/core/request.test.ts',
      'test/core/memo.test.ts',
      'test/core/fsretry.test.ts',
      'test/core/portable.test.ts',
      'test/workflows.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
