/**
 * The default lease key and the run labels (src/job/key.ts), from recorded job
 * environments: pure functions, no @actions/core.
 */
import { describe, expect, it } from 'vitest';
import { defaultKey, runLabels } from '../../src/job/key.js';
import { checkKey, describeProcess } from '../../src/core/index.js';
import { jobEnv } from '../../harness/runner.js';

const ID = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4);

describe('defaultKey', () => {
  const owner = describeProcess(process.pid);

  it('is stable within a job and step, and a valid key', () => {
    const env = jobEnv('a');
    const key = defaultKey(env, owner);
    expect(defaultKey({ ...env }, owner)).toBe(key);
    expect(checkKey(key, 'key')).toBe(key);
    expect(key).toContain('octo/portlease-demo/9876543210-1/test/');
  });

  it('differs between matrix legs, runs, attempts and steps', () => {
    const base = defaultKey(jobEnv('a'), owner);
    const other = new Set([
      defaultKey(jobEnv('b'), owner),
      defaultKey({ ...jobEnv('a'), RUNNER_TRACKING_ID: 'github_other' }, owner),
      defaultKey({ ...jobEnv('a'), GITHUB_RUN_ATTEMPT: '2' }, owner),
      defaultKey({ ...jobEnv('a'), GITHUB_ACTION: '__octo_portlease_2' }, owner),
      defaultKey({ ...jobEnv('a'), GITHUB_RUN_ID: '1' }, owner),
    ]);
    expect(other.size).toBe(5);
    expect(other.has(base)).toBe(false);
  });

  it('differs between two runner workers even when every variable is the same', () => {
    const env = jobEnv('same');
    const a = defaultKey(env, owner);
    const b = defaultKey(env, describeProcess(process.ppid));
    const c = defaultKey(env, { kind: 'container', id: ID, host: 'h', boot: null });
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('stays a valid key with long or odd variables, and without any', () => {
    const env = {
      ...jobEnv('x'),
      GITHUB_REPOSITORY: 'o/' + 'r'.repeat(300),
      GITHUB_JOB: 'job with spaces\nand a newline',
    };
    const key = defaultKey(env, owner);
    expect(key.length).toBeLessThanOrEqual(200);
    expect(checkKey(key, 'key')).toBe(key);
    expect(checkKey(defaultKey({}, null), 'key')).toBeTruthy();
  });
});

describe('runLabels', () => {
  it('records repository, run, attempt, job and runner, without control characters', () => {
    const labels = runLabels({ ...jobEnv('l'), GITHUB_JOB: 'te\nst' });
    expect(labels).toMatchObject({
      repository: 'octo/portlease-demo',
      run_id: '9876543210',
      run_attempt: '1',
      job: 'te st',
      runner: 'runner-l',
    });
  });
});
