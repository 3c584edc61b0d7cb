/**
 * The same behaviour with podman, where podman is installed (skipped otherwise).
 */
import { beforeAll, describe } from 'vitest';
import { ensureDocker, hasPodman } from './steps.js';
import { containerSuite } from './suite.js';

describe.skipIf(!hasPodman())('container step with podman', () => {
  beforeAll(() => {
    ensureDocker(); // also imports the test image into podman
  }, 900_000);
  containerSuite('podman');
});
