/**
 * What a GitHub job's lease is called and labelled, from the job's environment:
 *
 * - `defaultKey(env, owner)`: the lease key when the `key` input is empty: unique per job on
 *   the host (run id, attempt, job, runner name, RUNNER_TRACKING_ID and the owner's
 *   identity), stable within the job so a re-run step gets its lease back, and per step
 *   (GITHUB_ACTION), so two portlease steps in one job never share a key.
 * - `runLabels(env)`: labels for a lease (repository, run id, attempt, job, runner name,
 *   workflow), shown by `portlease list`.
 *
 * Pure functions of their arguments; no @actions/* (the shells pass the environment).
 */
import { createHash } from 'node:crypto';
import { withoutControlChars, type Owner } from '../core/index.js';

/** Labels recorded with a lease (shown by `portlease list`). */
export function runLabels(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const pick: [string, string | undefined][] = [
    ['repository', env.GITHUB_REPOSITORY],
    ['run_id', env.GITHUB_RUN_ID],
    ['run_attempt', env.GITHUB_RUN_ATTEMPT],
    ['job', env.GITHUB_JOB],
    ['runner', env.RUNNER_NAME],
    ['workflow', env.GITHUB_WORKFLOW],
  ];
  const out: Record<string, string> = {};
  for (const [k, v] of pick) {
    if (v !== undefined && v !== '') out[k] = withoutControlChars(v).slice(0, 200);
  }
  return out;
}

/** A short, stable identity of an owner for keys (pid + start time, or container id). */
function ownerIdentity(owner: Owner | null): string {
  if (owner === null) return 'none';
  switch (owner.kind) {
    case 'container':
      return `container:${owner.id}`;
    case 'dir':
      return `dir:${owner.path}:${owner.host}`;
    case 'session':
      return `session:${owner.sid}:${owner.start ?? '?'}:${owner.boot ?? '?'}:${owner.host}`;
    case 'process':
    case 'tree':
      return `pid:${owner.pid}:${owner.start ?? '?'}:${owner.boot ?? '?'}:${owner.host}`;
  }
}

/**
 * The default lease key: `gh/<repo>/<run>-<attempt>/<job>/<step>#<digest>`. The readable part
 * helps `portlease list`; the digest (over every job- and step-identifying variable and the
 * owner) makes it unique per job on the host: two matrix legs share run, job and step, but
 * never their runner worker process or RUNNER_TRACKING_ID.
 */
export function defaultKey(env: NodeJS.ProcessEnv, owner: Owner | null): string {
  const parts = [
    env.GITHUB_REPOSITORY,
    env.GITHUB_RUN_ID,
    env.GITHUB_RUN_ATTEMPT,
    env.GITHUB_JOB,
    env.GITHUB_ACTION,
    env.RUNNER_NAME,
    env.RUNNER_TRACKING_ID,
    ownerIdentity(owner),
  ].map((p) => p ?? '');
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
  const clean = (s: string | undefined, max: number): string =>
    (s ?? '-').replace(/[^A-Za-z0-9_.\-/]/g, '_').slice(0, max) || '-';
  return `gh/${clean(env.GITHUB_REPOSITORY, 80)}/${clean(env.GITHUB_RUN_ID, 20)}-${clean(env.GITHUB_RUN_ATTEMPT, 5)}/${clean(env.GITHUB_JOB, 40)}/${clean(env.GITHUB_ACTION, 30)}#${digest}`;
}
