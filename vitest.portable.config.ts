import { defineConfig } from 'vitest/config';

/**
 * The engine's tests that run on any host (Linux, macOS, Windows): `npm run test:portable`.
 * CI runs them on GitHub's macOS and Windows runners; everything else needs Linux (a second
 * Unix user, /proc, strace, pid namespaces, container engines) and runs on ubuntu-latest.
 */
export default defineConfig({
  test: {
    include: [
      'test/registry/parse.test.ts',
      'test/registry/choose.test.ts',
      'test/registry/probe.test.ts',
      'test/registry/request.test.ts',
      'test/registry/memo.test.ts',
      'test/registry/fsretry.test.ts',
      'test/registry/portable.test.ts',
      'test/workflows.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
