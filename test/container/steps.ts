/**
 * The container step run as the runner runs it: the built dist/container-main and
 * dist/container-post as children of a stand-in Runner.Worker (test/action/runner.ts), with
 * INPUT_* from container/action.yml's defaults plus the workflow's inputs, file commands,
 * and STATE_* in post. Plus the real engine setup (scripts/docker-test-env.sh) and small
 * engine queries for assertions.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { cli, ROOT } from '../helpers.js';
import { inputEnv as actionInputEnv, StandInWorker, type StepResult } from '../action/runner.js';

export const IMAGE = 'portlease-test/busybox:latest';
export const CONTAINER_MAIN = join(ROOT, 'dist/container-main/index.js');
export const CONTAINER_POST = join(ROOT, 'dist/container-post/index.js');
/** busybox httpd serving /www/index.html ("portlease-test") on port 80, in the foreground. */
export const HTTPD = 'httpd -f -p 80 -h /www';

/**
 * Make sure the engine runs and the test image exists (idempotent). Throws, so the tests
 * fail loudly, when docker cannot be brought up.
 */
export function ensureDocker(): void {
  const r = spawnSync('sh', [join(ROOT, 'scripts/docker-test-env.sh')], {
    encoding: 'utf8',
    timeout: 900_000,
  });
  if (r.status !== 0) {
    throw new Error(
      `scripts/docker-test-env.sh failed (status ${String(r.status)}, ${r.error?.message ?? ''}):\n${r.stderr}`,
    );
  }
  for (const f of [CONTAINER_MAIN, CONTAINER_POST]) {
    if (!existsSync(f))
      throw new Error(`${f} is missing: run npm run build -- container-main container-post`);
  }
}

export function hasPodman(): boolean {
  return spawnSync('podman', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** INPUT_* for the container step, with container/action.yml's defaults. */
export function inputEnv(inputs: Record<string, string>): Record<string, string> {
  return actionInputEnv(inputs, 'container/action.yml');
}

export function containerMain(
  worker: StandInWorker,
  inputs: Record<string, string>,
  env: Record<string, string>,
): Promise<StepResult> {
  return worker.step(CONTAINER_MAIN, { ...env, ...inputEnv(inputs) });
}

export function containerPost(
  worker: StandInWorker,
  state: Record<string, string>,
  inputs: Record<string, string>,
  env: Record<string, string>,
): Promise<StepResult> {
  const stateEnv = Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v]));
  return worker.step(CONTAINER_POST, { ...env, ...inputEnv(inputs), ...stateEnv });
}

/** The saved state of the container step (what post gets). */
export function savedState(r: StepResult): { lease: string; container: string | null } {
  const text = r.state['portlease-container'];
  if (text === undefined) throw new Error(`no state saved:\n${r.stdout}`);
  return JSON.parse(text) as { lease: string; container: string | null };
}

export function expectOk(r: StepResult): void {
  if (r.code !== 0 || r.errors.length > 0) {
    throw new Error(`step failed (${String(r.code)}):\n${r.stdout}\n${r.stderr}`);
  }
}

/** Run the engine CLI (argv, no shell); stdout trimmed, throws on failure. */
export function engine(name: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(name, args, { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${name} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout.trim());
    });
  });
}

/** Ids of containers (any state) with this label (`key` or `key=value`). */
export async function containersWith(name: string, label: string): Promise<string[]> {
  const out = await engine(name, ['ps', '-a', '-q', '--no-trunc', '--filter', `label=${label}`]);
  return out === '' ? [] : out.split('\n');
}

/** `rm -f -v` for the engine (podman: no 10 s grace period). */
export function rmArgs(name: string, id: string): string[] {
  return name === 'podman' ? ['rm', '-f', '-v', '--time', '0', id] : ['rm', '-f', '-v', id];
}

/** Remove every container this test file made (labelled with one of its registries). */
export async function removeContainersOf(name: string, registries: string[]): Promise<void> {
  for (const reg of registries) {
    for (const id of await containersWith(name, `portlease.registry=${reg}`).catch(() => [])) {
      await engine(name, rmArgs(name, id)).catch(() => undefined);
    }
  }
}

/** GET / on 127.0.0.1:port: status and body. */
export function httpGet(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/', timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export interface Listed {
  lease: string;
  key: string;
  ports: Record<string, number>;
  labels: Record<string, string>;
}

export async function listLeases(registry: string): Promise<Listed[]> {
  const r = await cli(['list', '--json', '--registry', registry]);
  if (r.code !== 0) throw new Error(`portlease list failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Listed[];
}
