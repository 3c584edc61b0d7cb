/**
 * The same behaviour with podman. Where podman is not installed the suite is skipped with the
 * reason printed, and under CI it fails (test/prerequisites.ts): CI installs podman.
 */
import { beforeAll } from 'vitest';
import { describeWith, podman } from '../prerequisites.js';
import { ensureDocker } from './steps.js';
import { containerSuite } from './suite.js';

describeWith(podman(), 'container step with podman', () => {
  beforeAll(() => {
    ensureDocker(); // also imports the test image into podman
  }, 900_000);
  containerSuite('podman');
});
