/**
 * The GitHub runner protocol, as the runner speaks it to a JavaScript action, for the tests,
 * the demo and the benchmark (one implementation; nothing here ships in dist/):
 *
 * - the action's metadata read from its action.yml: inputs with their defaults, `runs.using`,
 *   `runs.main`, `runs.post` (paths relative to the action.yml, as the runner resolves them);
 * - INPUT_<NAME> for every declared input (the workflow's value, else the default, else ''),
 *   and an error for an input the action does not declare;
 * - fresh GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE and GITHUB_STEP_SUMMARY files per step,
 *   parsed back after it (`name<<DELIMITER` blocks and `name=value` lines);
 * - STATE_<name> in the post step, from what main wrote to GITHUB_STATE;
 * - a stand-in Runner.Worker: a long-lived process whose children the steps are, so that an
 *   action that owns its leases by its parent process sees a runner worker, and SIGKILLing
 *   it is a runner that dies without running post steps.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { parseActionYaml, type YamlMap, type YamlValue } from './action-yml.js';
import { NODE, ROOT } from './paths.js';

const WORKER = join(ROOT, 'harness/worker.ts');

export interface Action {
  /** Absolute path of the action.yml. */
  file: string;
  name: string;
  /** Declared inputs and their defaults (null: no default, the runner passes ''). */
  inputs: ReadonlyMap<string, string | null>;
  /** `runs.using`, e.g. node24. */
  using: string;
  /** Absolute paths of `runs.main` and `runs.post`. */
  main: string;
  post: string | null;
}

const actions = new Map<string, Action>();

function field(map: YamlMap, key: string): YamlValue | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

function text(v: YamlValue | undefined, what: string, file: string): string {
  if (typeof v !== 'string' || v === '') throw new Error(`${file}: ${what} must be a string`);
  return v;
}

/** Read an action.yml (absolute, or relative to the repository root), once per process. */
export function loadAction(path: string): Action {
  const file = isAbsolute(path) ? path : join(ROOT, path);
  const cached = actions.get(file);
  if (cached !== undefined) return cached;
  const doc = parseActionYaml(readFileSync(file, 'utf8'), file);
  const inputs = new Map<string, string | null>();
  const declared = field(doc, 'inputs') ?? {};
  if (typeof declared === 'string') throw new Error(`${file}: inputs must be a mapping`);
  for (const [name, spec] of Object.entries(declared)) {
    if (typeof spec === 'string') throw new Error(`${file}: input ${name} must be a mapping`);
    const def = field(spec, 'default');
    if (typeof def === 'object') throw new Error(`${file}: input ${name}: default is not a string`);
    if (def?.includes('${{') === true) {
      throw new Error(`${file}: input ${name}: expressions in defaults are not evaluated here`);
    }
    inputs.set(name, def ?? null);
  }
  const runs = field(doc, 'runs');
  if (typeof runs !== 'object') throw new Error(`${file}: runs must be a mapping`);
  const using = text(field(runs, 'using'), 'runs.using', file);
  if (!/^node\d+$/.test(using))
    throw new Error(`${file}: runs.using ${using} is not a node runtime`);
  const post = field(runs, 'post');
  const action: Action = {
    file,
    name: text(field(doc, 'name'), 'name', file),
    inputs,
    using,
    main: resolve(dirname(file), text(field(runs, 'main'), 'runs.main', file)),
    post: post === undefined ? null : resolve(dirname(file), text(post, 'runs.post', file)),
  };
  actions.set(file, action);
  return action;
}

/** The lease action (action.yml) and the container step (container/action.yml). */
export const LEASE_ACTION = 'action.yml';
export const CONTAINER_ACTION = 'container/action.yml';

/**
 * INPUT_* as the runner sets them: every declared input, from the workflow's `with:` or else
 * its default or else ''; the name upper-cased with spaces as underscores (hyphens stay).
 * An input the action does not declare is a mistake in the caller: it throws.
 */
export function inputEnv(action: Action, given: Record<string, string>): Record<string, string> {
  for (const name of Object.keys(given)) {
    if (!action.inputs.has(name)) {
      throw new Error(
        `${action.file} declares no input ${JSON.stringify(name)} (it has: ${[...action.inputs.keys()].join(', ')})`,
      );
    }
  }
  const env: Record<string, string> = {};
  for (const [name, def] of action.inputs) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = given[name] ?? def ?? '';
  }
  return env;
}

/** STATE_<name> for a post step, from what main saved. */
export function stateEnv(state: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v]));
}

/** Parse a file-command file: `name<<DELIMITER` blocks (and legacy `name=value` lines). */
export function parseFileCommands(content: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = content.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name = '', delim = ''] = heredoc;
      const value: string[] = [];
      let j = i + 1;
      while (j < lines.length && lines[j] !== delim) value.push(lines[j++] ?? '');
      if (j >= lines.length) throw new Error(`unterminated ${name}<<${delim}`);
      out[name] = value.join('\n');
      i = j;
    } else {
      const eq = line.indexOf('=');
      if (eq <= 0) throw new Error(`malformed file-command line ${JSON.stringify(line)}`);
      out[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return out;
}

/**
 * The job-level environment a runner gives every step of a job; `leg` tells matrix legs (and
 * their runners) apart. RUNNER_DEBUG=1 (step debug logging on) unless `extra` says otherwise.
 */
export function jobEnv(leg: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_REPOSITORY: 'octo/portlease-demo',
    GITHUB_RUN_ID: '9876543210',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'test',
    GITHUB_WORKFLOW: 'CI',
    GITHUB_ACTION: '__octo_portlease',
    RUNNER_NAME: `runner-${leg}`,
    RUNNER_TRACKING_ID: `github_${leg}-tracking`,
    RUNNER_DEBUG: '1',
    ...extra,
  };
}

/** A process the stand-in worker ran: exit, output and wall time from spawn to close. */
export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface StepResult extends Run {
  /** Raw file contents, for "nothing written" checks. */
  files: { output: string; env: string; state: string; summary: string };
  outputs: Record<string, string>;
  env: Record<string, string>;
  state: Record<string, string>;
  /** `::error::` lines on stdout. */
  errors: string[];
  warnings: string[];
}

/** Throw with the step's output unless it exited 0 without an `::error::` line. */
export function checkStep(r: StepResult, what = 'step'): void {
  if (r.code !== 0 || r.errors.length > 0) {
    throw new Error(
      `${what} failed (exit ${String(r.code ?? r.signal)}):\n${r.stdout}\n${r.stderr}`,
    );
  }
}

interface Reply extends Run {
  id: number;
}

export class StandInWorker {
  readonly pid: number;
  /** RUNNER_TEMP of this runner; each step's file-command files are made below it. */
  readonly temp: string;
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly waiting: Map<number, (r: Reply) => void>;
  private readonly exited: Promise<void>;
  private nextId = 1;
  private steps = 0;

  private constructor(
    child: ChildProcessByStdio<Writable, Readable, null>,
    pid: number,
    waiting: Map<number, (r: Reply) => void>,
  ) {
    this.child = child;
    this.pid = pid;
    this.waiting = waiting;
    this.temp = mkdtempSync(join(tmpdir(), 'portlease-runner-'));
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else
        child.once('exit', () => {
          resolve();
        });
    });
  }

  static async start(): Promise<StandInWorker> {
    const child = spawn(NODE, [WORKER], { stdio: ['pipe', 'pipe', 'inherit'] });
    const rl = createInterface({ input: child.stdout });
    const waiting = new Map<number, (r: Reply) => void>();
    const ready = new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => {
        reject(new Error(`stand-in worker exited (${String(code)})`));
      });
      rl.on('line', (line) => {
        const msg = JSON.parse(line) as { ready?: number } & Reply;
        if (msg.ready !== undefined) resolve(msg.ready);
        else {
          waiting.get(msg.id)?.(msg);
          waiting.delete(msg.id);
        }
      });
    });
    return new StandInWorker(child, await ready, waiting);
  }

  /** Run `node ARGV...` as a child of this worker, with exactly `env`. */
  run(argv: string[], env: Record<string, string>): Promise<Run> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin.write(JSON.stringify({ id, argv, env }) + '\n');
    });
  }

  /** Run one step as the runner does: fresh file-command files, the given env. */
  async step(script: string, env: Record<string, string>): Promise<StepResult> {
    const dir = join(this.temp, `step-${String(++this.steps)}`);
    mkdirSync(dir);
    const files = {
      GITHUB_OUTPUT: join(dir, 'output'),
      GITHUB_ENV: join(dir, 'env'),
      GITHUB_STATE: join(dir, 'state'),
      GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    };
    for (const f of Object.values(files)) writeFileSync(f, '');
    const run = await this.run([script], { RUNNER_TEMP: this.temp, ...env, ...files });
    const read = (f: string): string => readFileSync(f, 'utf8');
    const raw = {
      output: read(files.GITHUB_OUTPUT),
      env: read(files.GITHUB_ENV),
      state: read(files.GITHUB_STATE),
      summary: read(files.GITHUB_STEP_SUMMARY),
    };
    const lines = run.stdout.split('\n');
    return {
      ...run,
      files: raw,
      outputs: parseFileCommands(raw.output),
      env: parseFileCommands(raw.env),
      state: parseFileCommands(raw.state),
      errors: lines.filter((l) => l.startsWith('::error::')),
      warnings: lines.filter((l) => l.startsWith('::warning::')),
    };
  }

  /** The action's main step with these workflow inputs (an action.yml path or a loaded one). */
  main(
    action: string | Action,
    inputs: Record<string, string>,
    env: Record<string, string>,
  ): Promise<StepResult> {
    const a = typeof action === 'string' ? loadAction(action) : action;
    return this.step(entry(a, a.main), { ...env, ...inputEnv(a, inputs) });
  }

  /** The post step: STATE_* from what main saved, and the inputs again (as the runner does). */
  post(
    action: string | Action,
    state: Record<string, string>,
    inputs: Record<string, string>,
    env: Record<string, string>,
  ): Promise<StepResult> {
    const a = typeof action === 'string' ? loadAction(action) : action;
    if (a.post === null) throw new Error(`${a.file} has no post step`);
    return this.step(entry(a, a.post), { ...env, ...inputEnv(a, inputs), ...stateEnv(state) });
  }

  /** A runner that dies without running post steps. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
    rmSync(this.temp, { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
    rmSync(this.temp, { recursive: true, force: true });
  }
}

/** The script of a step, checked against the runtime action.yml asks for. */
function entry(action: Action, script: string): string {
  const major = process.versions.node.split('.')[0] ?? '';
  if (action.using !== `node${major}`) {
    throw new Error(
      `${action.file} runs on ${action.using}; the harness runs Node ${process.version} (run through npm: the node@24 devDependency)`,
    );
  }
  return script;
}
