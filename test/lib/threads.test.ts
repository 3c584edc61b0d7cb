/**
 * Worker threads of one process are holders of their own (DESIGN.md, invariant 1: "the unit
 * that holds the lock or asks for a lease is a thread, not a process"). Threads in plain
 * Node (test/fixtures/threads.ts on the built library), threads and processes on one
 * registry, one registry directory spelled four ways, and a real test runner (vitest
 * --pool=threads on test/fixtures/threads-runner/) against the real get-port as the control.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { Registry, type PortRange } from '../../src/core/index.js';
import type { Bound } from '../fixtures/threads-runner/take-and-bind.js';
import type { Go, Released, Took } from '../fixtures/threads.js';
import { collect, fixture, listLeases, NODE, ROOT, tempDir, testRange } from '../helpers.js';

const LIB = join(ROOT, 'dist/lib/index.js');

/**
 * The fixture's environment: no container engine to ask (no docker or podman on PATH,
 * DOCKER_HOST not a socket). Each call asks the engine for its published ports before it
 * takes the lock; a `docker ps` per call spreads the calls out in time (and costs a process
 * each), so calls would meet under the lock less often than they do on a host without one.
 */
function noEngine(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: tempDir(), DOCKER_HOST: 'tcp://127.0.0.1:9' };
}

/** A test/fixtures/threads.ts process: THREADS worker threads (0: its main thread) on LIB. */
class Threads {
  readonly child: ChildProcess;
  readonly done: ReturnType<typeof collect>;
  private readonly replies: AsyncIterator<string>;

  constructor(threads: number, opts: SpawnOptions = {}) {
    this.child = fixture('threads', [LIB, String(threads)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: noEngine(),
      ...opts,
    });
    this.replies = createInterface({ input: this.child.stdout as NodeJS.ReadableStream })[
      Symbol.asyncIterator
    ]();
    this.done = collect(this.child);
  }

  private async reply(): Promise<unknown> {
    const next = await this.replies.next();
    if (next.done === true) {
      const r = await this.done;
      throw new Error(`threads fixture exited (${String(r.code)}): ${r.stderr}`);
    }
    return JSON.parse(next.value);
  }

  ready(): Promise<unknown> {
    return this.reply();
  }

  /** Every thread makes its calls; what each got, and the warnings raised. */
  send(go: Go): Promise<{ took: Took[]; warnings: string[] }>;
  send(release: 'release'): Promise<{ released: Released[]; warnings: string[] }>;
  async send(r: Go | 'release'): Promise<unknown> {
    this.child.stdin?.write(JSON.stringify(r === 'release' ? { release: true } : { go: r }) + '\n');
    return this.reply();
  }

  /** Close stdin; the process ends; its exit code and stderr. */
  async end(): Promise<{ code: number | null; stderr: string }> {
    this.child.stdin?.end();
    const { code, stderr } = await this.done;
    return { code, stderr };
  }
}

/** Every port any of `took` got, once per time it was handed out. */
const portsOf = (took: readonly Took[]): number[] => took.flatMap((t) => t.ports);
const duplicates = (ports: readonly number[]): number => ports.length - new Set(ports).size;
const distinct = (msgs: readonly string[]): string[] => [...new Set(msgs)].slice(0, 3);

/** What a round's checks counted; every number but `ports` is 0 when all went well. */
interface Tally {
  ports: number;
  duplicates: number;
  outOfRange: number;
  errors: number;
  warnings: number;
  /** Ports handed out that `portlease list --json` did not show as leased while held. */
  notListed: number;
  /** Live leases left in the registry after every thread released. */
  leftAfterRelease: number;
  /** Anything the child wrote on stderr, or a non-zero exit. */
  stderr: string;
  samples: string[];
}

function tally(): Tally {
  return {
    ports: 0,
    duplicates: 0,
    outOfRange: 0,
    errors: 0,
    warnings: 0,
    notListed: 0,
    leftAfterRelease: 0,
    stderr: '',
    samples: [],
  };
}

function clean(ports: number): Tally {
  return { ...tally(), ports };
}

/** `portlease list --json`'s leased ports (a failure to list counts as an error). */
async function listedPorts(registry: string, t: Tally): Promise<Set<number>> {
  try {
    return new Set((await listLeases(registry)).flatMap((l) => Object.values(l.ports)));
  } catch (err) {
    t.errors++;
    t.samples = distinct([...t.samples, String(err)]);
    return new Set();
  }
}

/**
 * One round on `procs` (all at once): every process's threads make their calls on
 * `registries`, the ports are checked against each other and against `portlease list`, then
 * released and the registry checked empty.
 */
async function round(procs: readonly Threads[], go: (i: number) => Go, t: Tally): Promise<void> {
  const took = await Promise.all(procs.map((p, i) => p.send(go(i))));
  const all = took.flatMap((r) => portsOf(r.took));
  const errors = took.flatMap((r) => r.took.flatMap((x) => x.errors));
  const warnings = took.flatMap((r) => r.warnings);
  const { range, registries } = go(0);
  const registry = registries[0] ?? '';
  t.ports += all.length;
  t.duplicates += duplicates(all);
  t.outOfRange += all.filter((p) => p < range[0] || p > range[1]).length;
  t.errors += errors.length;
  t.warnings += warnings.length;
  const listed = await listedPorts(registry, t);
  t.notListed += all.filter((p) => !listed.has(p)).length;
  const released = await Promise.all(procs.map((p) => p.send('release')));
  const releaseErrors = released.flatMap((r) => r.released.flatMap((x) => x.errors));
  const releaseWarnings = released.flatMap((r) => r.warnings);
  t.errors += releaseErrors.length;
  t.warnings += releaseWarnings.length;
  t.leftAfterRelease += (await new Registry(registry).list()).length;
  t.samples = distinct([
    ...t.samples,
    ...errors,
    ...warnings,
    ...releaseErrors,
    ...releaseWarnings,
  ]);
}

async function endAll(procs: readonly Threads[], t: Tally): Promise<void> {
  for (const p of procs) {
    const { code, stderr } = await p.end();
    if (code !== 0 || stderr !== '') t.stderr += `exit ${String(code)}: ${stderr.slice(0, 500)}`;
  }
}

const ROUNDS = 20;

describe('threads in plain Node', () => {
  for (const mode of ['getPort', 'lease'] as const) {
    it(`8 threads x 5 ${mode}() at once, ${ROUNDS} rounds: every call gets a port, none twice, all leased until released, no error, no warning`, async () => {
      // getPort: one port a call; lease: WEB_PORT and DB_PORT.
      const range = await testRange(mode === 'getPort' ? 64 : 128);
      const procs = [new Threads(8)];
      await Promise.all(procs.map((p) => p.ready()));
      const t = tally();
      try {
        for (let r = 0; r < ROUNDS; r++) {
          const registry = join(tempDir(), 'reg');
          await round(
            procs,
            () => ({
              mode,
              registries: [registry],
              range: [range.lo, range.hi],
              calls: 5,
              parallel: false,
            }),
            t,
          );
        }
      } finally {
        await endAll(procs, t);
      }
      expect(t).toEqual(clean(ROUNDS * 8 * 5 * (mode === 'getPort' ? 1 : 2)));
    });
  }
});

describe('threads and processes mixed on one registry', () => {
  it('4 threads of one process and 3 other processes, 5 calls each at once, 10 rounds (getPort and lease): 0 duplicates, 0 errors', async () => {
    const range = await testRange(96);
    const procs = [new Threads(4), new Threads(0), new Threads(0), new Threads(0)];
    await Promise.all(procs.map((p) => p.ready()));
    const t = tally();
    try {
      for (let r = 0; r < 10; r++) {
        const registry = join(tempDir(), 'reg');
        await round(
          procs,
          () => ({
            mode: r % 2 === 0 ? 'getPort' : 'lease',
            registries: [registry],
            range: [range.lo, range.hi],
            calls: 5,
            parallel: false,
          }),
          t,
        );
      }
    } finally {
      await endAll(procs, t);
    }
    // 7 callers x 5 calls; getPort rounds one port a call, lease rounds two.
    expect(t).toEqual(clean(5 * 7 * 5 * 1 + 5 * 7 * 5 * 2));
  });
});

describe('one registry directory spelled four ways', () => {
  // reg, ./reg, /abs/reg, /abs/reg/: one directory, one lock, one set of leases.
  const spellings = (cwd: string, name: string): string[] => {
    const abs = join(cwd, name);
    return [name, `./${name}`, abs, `${abs}/`];
  };

  for (const [what, threads, calls] of [
    ['in one thread: 24 lease() calls at once', 0, 24],
    ['across 4 threads: 6 lease() calls at once in each', 4, 6],
  ] as const) {
    it(`${what}, spread over the four spellings, 5 rounds: every call succeeds, all ports distinct`, async () => {
      const range = await testRange(64);
      const cwd = tempDir();
      const procs = [new Threads(threads, { cwd })];
      await Promise.all(procs.map((p) => p.ready()));
      const t = tally();
      try {
        for (let r = 0; r < 5; r++) {
          const names = spellings(cwd, `reg${r}`);
          // The absolute spelling first: round() lists and checks the registry through it.
          const registries = [names[2] ?? '', names[0] ?? '', names[1] ?? '', names[3] ?? ''];
          await round(
            procs,
            () => ({
              mode: 'lease',
              registries,
              range: [range.lo, range.hi],
              calls,
              parallel: true,
            }),
            t,
          );
        }
        // Nothing but the five registries (no `reg0/` or `./reg0` of its own).
        expect(readdirSync(cwd).sort()).toEqual([0, 1, 2, 3, 4].map((r) => `reg${r}`));
      } finally {
        await endAll(procs, t);
      }
      expect(t).toEqual(clean(5 * 24 * 2));
    });
  }
});

describe('threads in a real test runner', () => {
  const project = join(ROOT, 'test/fixtures/threads-runner');
  const vitest = join(ROOT, 'node_modules/.bin/vitest');

  interface Report {
    success: boolean;
    numTotalTests: number;
    numPassedTests: number;
    testResults: { name: string; status: string }[];
  }

  /** `vitest run --pool=threads` on the fixture project with `lib` (a path or "get-port"). */
  async function runProject(
    lib: string,
    range: PortRange,
  ): Promise<{ report: Report; bound: Bound[]; code: number | null; stderr: string }> {
    const out = tempDir();
    const env: NodeJS.ProcessEnv = {};
    // The child is a vitest of its own, not a worker of this one.
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VITEST')) env[k] = v;
    Object.assign(env, {
      PORTLEASE_REGISTRY: join(tempDir(), 'reg'),
      THREADS_RUNNER_LIB: lib,
      THREADS_RUNNER_RANGE: `${range.lo}-${range.hi}`,
      THREADS_RUNNER_FILES: '8',
      THREADS_RUNNER_OUT: out,
    });
    const run = await collect(
      spawn(
        NODE,
        [
          vitest,
          'run',
          '--root',
          project,
          '--config',
          join(project, 'vitest.config.ts'),
          '--pool=threads',
          '--reporter=json',
          '--outputFile',
          join(out, 'report.json'),
        ],
        { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
    const bound = readdirSync(out)
      .filter((f) => f.startsWith('bound-'))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as Bound);
    return { report, bound, code: run.code, stderr: run.stderr };
  }

  /** What a run shows: files that passed, ports, duplicates, EADDRINUSE, other errors. */
  function outcome(run: Awaited<ReturnType<typeof runProject>>): Record<string, unknown> {
    const ports = run.bound.flatMap((b) => b.ports);
    const errors = run.bound.flatMap((b) => b.errors);
    const inUse = errors.filter((e) => e.endsWith('EADDRINUSE'));
    return {
      files: run.report.testResults.length,
      passed: run.report.testResults.filter((r) => r.status === 'passed').length,
      reported: run.bound.length,
      ports: ports.length,
      duplicates: duplicates(ports),
      eaddrinuse: inUse.length,
      errors: errors.length - inUse.length,
      samples: distinct(errors.filter((e) => !e.endsWith('EADDRINUSE'))),
      // Worker threads of one process, one per file: what this test is about.
      processes: new Set(run.bound.map((b) => b.pid)).size,
      threads: new Set(run.bound.map((b) => b.thread)).size,
    };
  }

  it('8 files take 3 ports each with getPort(), all before any binds: with portlease 0 EADDRINUSE, 0 errors, all passed; with get-port (the control) they collide', async () => {
    const range = await testRange(32);
    // The control: the same project on the real get-port, whose memory of the ports it gave
    // out is one worker thread's: every file scans the same range from its start.
    const control = outcome(await runProject('get-port', range));
    expect(control).toMatchObject({ files: 8, reported: 8, processes: 1, threads: 8, errors: 0 });
    expect(control.duplicates).toBeGreaterThan(0);
    expect(control.eaddrinuse).toBeGreaterThan(0);
    expect(control.passed).toBeLessThan(8);

    for (let r = 0; r < 2; r++) {
      const run = await runProject(LIB, range);
      expect({ ...outcome(run), code: run.code }).toEqual({
        files: 8,
        passed: 8,
        reported: 8,
        ports: 24,
        duplicates: 0,
        eaddrinuse: 0,
        errors: 0,
        samples: [],
        processes: 1,
        threads: 8,
        code: 0,
      });
      expect(run.report.success).toBe(true);
    }
  });
});
