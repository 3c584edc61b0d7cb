/**
 * The container step against the real Docker engine (started by scripts/docker-test-env.sh;
 * the tests fail, never skip, when it cannot be started).
 */
import { beforeAll, describe } from 'vitest';
import { ensureDocker } from './steps.js';
import { containerSuite } from './suite.js';

describe('container step with docker', () => {
  beforeAll(() => {
    ensureDocker();
  }, 900_000);
  containerSuite('docker');
});
