/**
 * The container step's tests against a real engine: the engine setup
 * (scripts/docker-test-env.sh), the test image, and small engine queries for assertions. The
 * step itself runs under the runner harness (harness/runner.ts, CONTAINER_ACTION).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { CONTAINER_ACTION, loadAction, type StepResult } from '../../harness/runner.js';
import { ROOT } from '../helpers.js';

export const IMAGE = 'portlease-test/busybox:latest';
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
  const action = loadAction(CONTAINER_ACTION);
  for (const f of [action.main, action.post]) {
    if (f !== null && !existsSync(f)) throw new Error(`${f} is missing: run npm run build`);
  }
}

/** The saved state of the container step (what post gets). */
export function savedState(r: StepResult): { lease: string; container: string | null } {
  const text = r.state['portlease-container'];
  if (text === undefined) throw new Error(`no state saved:\n${r.stdout}`);
  return JSON.parse(text) as { lease: string; container: string | null };
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
