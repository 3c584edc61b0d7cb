/**
 * The recipes of docs/lifetimes.md, run as written (docs/examples/), with real servers:
 * a runner agent's parallel test runs, pytest-xdist workers, workers with their own
 * PostgreSQL and app server. (The worktree hook is exercised in test/cli/worktrees.test.ts.)
 * Tools they need are installed by scripts/lifetime-test-env.sh; a missing one fails here.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir, testRange } from '../helpers.js';
import { listJson, running, userEnv } from '../cli/shell.js';
import { itWith, pytest } from '../prerequisites.js';

const run = promisify(execFile);
const EXAMPLES = join(ROOT, 'docs/examples');

describe('recipes (docs/examples)', () => {
  it('runner-agent.sh: 5 test runs at once, 3 ports each, all distinct, nothing left behind', async () => {
    const r = await testRange(20);
    const dir = join(tempDir(), 'reg');
    const logs = tempDir();
    const { stdout } = await run('sh', [join(EXAMPLES, 'runner-agent.sh')], {
      env: userEnv(dir, { PORTLEASE_RANGE: `${r.lo}-${r.hi}`, LOG_DIR: logs }),
    });
    expect(stdout.trim().split('\n')).toEqual([1, 2, 3, 4, 5].map((i) => `run ${i}: passed`));
    const ports: number[] = [];
    const servers: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const log = readFileSync(join(logs, `run-${i}.log`), 'utf8');
      expect(log).toContain(`run ${i}: ok`);
      for (const m of log.matchAll(/_PORT=(\d+) server pid (\d+)/g)) {
        ports.push(Number(m[1]));
        servers.push(Number(m[2]));
      }
    }
    expect(ports).toHaveLength(15);
    expect(new Set(ports).size).toBe(15);
    for (const p of ports) expect(p >= r.lo && p <= r.hi).toBe(true);
    // The servers each run left running were ended by exec, and every lease released.
    expect(servers.filter(running)).toEqual([]);
    expect(await listJson(dir)).toEqual([]);
  });

  itWith(
    pytest(),
    'pytest-xdist/conftest.py: each worker its own ports, for its whole life',
    async () => {
      const r = await testRange(12);
      const dir = join(tempDir(), 'reg');
      const results = tempDir();
      const { stdout } = await run(
        '/usr/bin/python3',
        ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-n', '3', join(EXAMPLES, 'pytest-xdist')],
        {
          cwd: tempDir(),
          env: userEnv(dir, {
            PORTLEASE_RANGE: `${r.lo}-${r.hi}`,
            RESULTS: results,
            PYTHONDONTWRITEBYTECODE: '1',
          }),
        },
      );
      expect(stdout).toMatch(/8 passed/);
      const byWorker = readdirSync(results).map(
        (f) => new Set(readFileSync(join(results, f), 'utf8').trim().split('\n')),
      );
      expect(byWorker.length).toBeGreaterThanOrEqual(2);
      for (const w of byWorker) expect(w.size).toBe(1); // one bundle per worker, all its tests
      const all = byWorker.flatMap((w) => [...w][0]?.split(' ') ?? []);
      expect(new Set(all).size).toBe(all.length);
      expect(await listJson(dir)).toEqual([]);
      expect(existsSync(join(EXAMPLES, 'pytest-xdist/__pycache__'))).toBe(false);
    },
  );

  it('pg-workers.sh: 4 workers, each with its own PostgreSQL and app server, all ended after', async () => {
    expect(existsSync('/usr/lib/postgresql')).toBe(true); // scripts/lifetime-test-env.sh installs it
    const r = await testRange(16);
    const dir = join(tempDir(), 'reg');
    const { stdout } = await run('sh', [join(EXAMPLES, 'pg-workers.sh')], {
      env: userEnv(dir, { PORTLEASE_RANGE: `${r.lo}-${r.hi}`, WORKERS: '4' }),
      timeout: 180_000,
    });
    const lines = stdout.trim().split('\n').sort();
    expect(lines).toHaveLength(4);
    const ports: number[] = [];
    const pids: number[] = [];
    for (const [i, line] of lines.entries()) {
      const m = /^worker (\d): PGPORT=(\d+) APP_PORT=(\d+) postgres=(\d+) app=(\d+) ok$/.exec(line);
      expect(m?.[1]).toBe(String(i + 1));
      ports.push(Number(m?.[2]), Number(m?.[3]));
      pids.push(Number(m?.[4]), Number(m?.[5]));
    }
    expect(new Set(ports).size).toBe(8);
    // PostgreSQL (started by pg_ctl in a session of its own) and the app servers are gone.
    expect(pids.filter(running)).toEqual([]);
    expect(await listJson(dir)).toEqual([]);
  }, 240_000);
});
