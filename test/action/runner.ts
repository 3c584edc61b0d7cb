/**
 * The runner protocol, for tests of the built action: stand-in runner workers that run
 * dist/main/index.js and dist/post/index.js as their children, with INPUT_* variables
 * (defaults from action.yml, as the runner fills them in), fresh GITHUB_OUTPUT, GITHUB_ENV,
 * GITHUB_STATE and GITHUB_STEP_SUMMARY files per step, and STATE_* for the post step
 * taken from what main wrote to GITHUB_STATE.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NODE, ROOT, tempDir } from '../helpers.js';

export const MAIN = join(ROOT, 'dist/main/index.js');
export const POST = join(ROOT, 'dist/post/index.js');
const WORKER = join(ROOT, 'test/action/worker.ts');

/** Defaults of an action's inputs, read from its action.yml as the runner reads them. */
export function actionDefaults(actionYml = 'action.yml'): Record<string, string> {
  const text = readFileSync(join(ROOT, actionYml), 'utf8');
  const block = /^inputs:\n([\s\S]*?)^\S/m.exec(text)?.[1] ?? '';
  const out: Record<string, string> = {};
  let current: string | undefined;
  for (const line of block.split('\n')) {
    const name = /^ {2}([a-z][a-z0-9-]*):\s*$/.exec(line);
    if (name) current = name[1];
    const def = /^ {4}default:\s*'([^']*)'\s*$/.exec(line);
    if (def && current !== undefined) out[current] = def[1] ?? '';
  }
  return out;
}

/** INPUT_<NAME> as the runner names it: upper case, spaces to underscores (hyphens stay). */
export function inputEnv(
  inputs: Record<string, string>,
  actionYml = 'action.yml',
): Record<string, string> {
  const all = { ...actionDefaults(actionYml), ...inputs };
  return Object.fromEntries(
    Object.entries(all).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v]),
  );
}

/** Parse a file-command file: `name<<DELIMITER` blocks (and legacy `name=value` lines). */
export function parseFileCommands(text: string): [string, string][] {
  const out: [string, string][] = [];
  const lines = text.split(/\r?\n/);
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
      out.push([name, value.join('\n')]);
      i = j;
    } else {
      const eq = line.indexOf('=');
      if (eq <= 0) throw new Error(`malformed file-command line ${JSON.stringify(line)}`);
      out.push([line.slice(0, eq), line.slice(eq + 1)]);
    }
  }
  return out;
}

function asMap(pairs: [string, string][]): Record<string, string> {
  return Object.fromEntries(pairs);
}

export interface StepResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Raw file contents, for "nothing written" checks. */
  files: { output: string; env: string; state: string; summary: string };
  outputs: Record<string, string>;
  env: Record<string, string>;
  state: Record<string, string>;
  /** `::error::` lines. */
  errors: string[];
  warnings: string[];
}

interface Reply {
  id: number;
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The job-level environment a runner gives every step (same for every matrix leg but the runner's own). */
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

export class StandInWorker {
  private nextId = 1;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly pid: number,
    private readonly waiting: Map<number, (r: Reply) => void>,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else
        child.once('exit', () => {
          resolve();
        });
    });
  }

  static async start(): Promise<StandInWorker> {
    const child = spawn(NODE, [WORKER], { stdio: ['pipe', 'pipe', 'pipe'] });
    const rl = createInterface({ input: child.stdout });
    const waiting = new Map<number, (r: Reply) => void>();
    const ready = new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => {
        reject(new Error(`stand-in worker exited (${code})`));
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
    const pid = await ready;
    return new StandInWorker(child, pid, waiting);
  }

  private request(script: string, env: Record<string, string>): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin.write(JSON.stringify({ id, script, env }) + '\n');
    });
  }

  /** Run one step as the runner does: fresh file-command files, the given env. */
  async step(script: string, env: Record<string, string>): Promise<StepResult> {
    const dir = tempDir();
    const files = {
      GITHUB_OUTPUT: join(dir, 'output'),
      GITHUB_ENV: join(dir, 'env'),
      GITHUB_STATE: join(dir, 'state'),
      GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    };
    for (const f of Object.values(files)) writeFileSync(f, '');
    const reply = await this.request(script, { ...env, ...files });
    const read = (f: string): string => readFileSync(f, 'utf8');
    const raw = {
      output: read(files.GITHUB_OUTPUT),
      env: read(files.GITHUB_ENV),
      state: read(files.GITHUB_STATE),
      summary: read(files.GITHUB_STEP_SUMMARY),
    };
    const lines = reply.stdout.split('\n');
    return {
      code: reply.code,
      signal: reply.signal,
      stdout: reply.stdout,
      stderr: reply.stderr,
      files: raw,
      outputs: asMap(parseFileCommands(raw.output)),
      env: asMap(parseFileCommands(raw.env)),
      state: asMap(parseFileCommands(raw.state)),
      errors: lines.filter((l) => l.startsWith('::error::')),
      warnings: lines.filter((l) => l.startsWith('::warning::')),
    };
  }

  /** The main step with these inputs. */
  main(inputs: Record<string, string>, env: Record<string, string>): Promise<StepResult> {
    return this.step(MAIN, { ...env, ...inputEnv(inputs) });
  }

  /** The post step, with STATE_* from what main saved (the runner passes inputs again too). */
  post(
    state: Record<string, string>,
    inputs: Record<string, string>,
    env: Record<string, string>,
  ): Promise<StepResult> {
    const stateEnv = Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v]));
    return this.step(POST, { ...env, ...inputEnv(inputs), ...stateEnv });
  }

  /** A runner that dies without running post steps. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }
}
