/**
 * `portlease service` (the container step's engine code from the CLI) against the real
 * Docker engine, and podman where present: services started at once answer on distinct
 * ports; SIGTERM to the CLI leaves no container and no lease; a detached service is
 * removed by `release --lease` and, once its owner is dead, by `gc`.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cli, collect, listLeases, NODE, tempDir, testRange } from '../helpers.js';
import { podman } from '../prerequisites.js';
import {
  containersWith,
  ensureDocker,
  HTTPD,
  httpGet,
  IMAGE,
  removeContainersOf,
} from './steps.js';

const registries: string[] = [];
function registry(): string {
  const dir = tempDir();
  registries.push(dir);
  return dir;
}

const noPodman = podman();
const engines = ['docker', ...(noPodman === null ? ['podman'] : [])];
if (process.env.CI === 'true' && noPodman !== null) {
  throw new Error(`${noPodman}; CI must provide it (.ci/run installs it)`);
}

beforeAll(() => {
  ensureDocker();
}, 900_000);

afterAll(async () => {
  for (const e of engines) await removeContainersOf(e, registries);
});

function serviceArgs(
  engineName: string,
  reg: string,
  range: string,
  extra: string[] = [],
): string[] {
  return [
    'service',
    'WEB_PORT',
    '--image',
    IMAGE,
    '--container-port',
    '80',
    '--args',
    HTTPD,
    '--engine',
    engineName,
    `--options=${engineName === 'podman' ? '--runtime runc' : ''}`,
    '--registry',
    reg,
    '--range',
    range,
    '--ttl',
    '10m',
    ...extra,
  ];
}

describe.each(engines)('portlease service with %s', (engineName) => {
  it('starts 3 services at once, each answering on its own leased port', async () => {
    const reg = registry();
    const r = await testRange(20);
    const range = `${r.lo}-${r.hi}`;
    const runs = await Promise.all([0, 1, 2].map(() => cli(serviceArgs(engineName, reg, range))));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const started = runs.map(
      (run) => JSON.parse(run.stdout) as { lease: string; port: number; container: string },
    );
    const ports = started.map((s) => s.port);
    expect(new Set(ports).size).toBe(3);
    for (const s of started) {
      expect(s.port).toBeGreaterThanOrEqual(r.lo);
      expect(s.port).toBeLessThanOrEqual(r.hi);
      const page = await httpGet(s.port);
      expect(page.status).toBe(200);
      expect(page.body).toContain('portlease-test');
    }
    expect((await listLeases(reg)).map((l) => l.lease).sort()).toEqual(
      started.map((s) => s.lease).sort(),
    );
    // release --lease removes the service container with the lease
    for (const s of started) {
      const rel = await cli(['release', '--lease', s.lease, '--registry', reg]);
      expect(rel.code, rel.stderr).toBe(0);
      expect(rel.stderr).toContain(`removed container ${s.container.slice(0, 12)}`);
    }
    expect(await containersWith(engineName, `portlease.registry=${reg}`)).toEqual([]);
    expect(await listLeases(reg)).toEqual([]);
  });

  it('runs COMMAND with the port set, then removes the container and releases; SIGTERM does the same', async () => {
    const reg = registry();
    const r = await testRange(10);
    const range = `${r.lo}-${r.hi}`;
    // COMMAND sees WEB_PORT, reaches the service, and its status comes back
    const ok = await cli([
      ...serviceArgs(engineName, reg, range),
      '--',
      NODE,
      '-e',
      `fetch('http://127.0.0.1:' + process.env.WEB_PORT + '/').then(async (r) => {
         process.exit((await r.text()).includes('portlease-test') ? 7 : 1);
       })`,
    ]);
    expect(ok.code, ok.stderr).toBe(7);
    expect(await containersWith(engineName, `portlease.registry=${reg}`)).toEqual([]);
    expect(await listLeases(reg)).toEqual([]);

    // SIGTERM to the CLI while COMMAND runs: no container and no lease are left
    const child = spawn(
      NODE,
      [CLI, ...serviceArgs(engineName, reg, range), '--', 'sh', '-c', 'echo up; exec sleep 300'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const done = collect(child);
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('up')) resolve();
      });
    });
    expect(await containersWith(engineName, `portlease.registry=${reg}`)).toHaveLength(1);
    expect(await listLeases(reg)).toHaveLength(1);
    child.kill('SIGTERM');
    const end = await done;
    expect(end.code).toBe(143);
    expect(await containersWith(engineName, `portlease.registry=${reg}`)).toEqual([]);
    expect(await listLeases(reg)).toEqual([]);
  });

  it('a detached service whose owner died is removed by gc', async () => {
    const reg = registry();
    const r = await testRange(10);
    const owner = spawn('sleep', ['300']);
    const run = await cli([
      ...serviceArgs(engineName, reg, `${r.lo}-${r.hi}`),
      '--owner-pid',
      String(owner.pid),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const { container } = JSON.parse(run.stdout) as { container: string };
    // alive owner: gc keeps lease and container
    let gc = await cli(['gc', '--registry', reg]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(await containersWith(engineName, `portlease.registry=${reg}`)).toEqual([container]);
    owner.kill('SIGKILL');
    await new Promise((resolve) => owner.once('exit', resolve));
    gc = await cli(['gc', '--registry', reg]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toContain(`removed ${engineName} container ${container.slice(0, 12)}`);
    expect(await containersWith(engineName, `portlease.registry=${reg}`)).toEqual([]);
  });

  it('refuses bad flags with one line naming the flag, leasing nothing', async () => {
    const reg = registry();
    const cases: [string[], RegExp][] = [
      [['service', 'WEB', '--container-port', '80'], /^portlease: --image: required/],
      [['service', 'WEB', '--image', IMAGE], /^portlease: --container-port: required/],
      [
        ['service', 'WEB', '--image', IMAGE, '--container-port', '80/udp'],
        /^portlease: --container-port: "80\/udp": only TCP ports/,
      ],
      [
        ['service', 'WEB', '--image', IMAGE, '--container-port', '80', '--health', 'cmd'],
        /^portlease: --health-cmd: required with --health cmd/,
      ],
      [
        ['service', 'WEB', '--image', IMAGE, '--container-port', '80', '--env', 'NOEQUALS'],
        /^portlease: --env: "NOEQUALS" is not KEY=VALUE/,
      ],
      [
        ['service', 'WEB', '--image', IMAGE, '--container-port', '80', '--options=-p 1:1'],
        /^portlease: --options: "-p" is not accepted/,
      ],
      [
        ['service', 'A', 'B', '--image', IMAGE, '--container-port', '80'],
        /^portlease: service: one NAME/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await cli([...args, '--registry', reg]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(message);
    }
    expect(await containersWith(engineName, `portlease.registry=${reg}`)).toEqual([]);
  });
});
