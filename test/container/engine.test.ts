/**
 * src/engines (the container-engine adapter) against the real engines: published host ports (Docker API on
 * its socket, and the docker / podman CLIs), orphan removal scoped to one registry, and
 * container liveness. Quiet and empty where no engine answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import {
  containerLivenessChecker,
  publishedPorts,
  removeOrphanContainers,
} from '../../src/engines/host.js';
import type { EngineName } from '../../src/engines/engine.js';
import { parsePortsColumn } from '../../src/engines/ps.js';
import { bootId } from '../../src/core/owner.js';
import { tempDir } from '../helpers.js';
import { itWith, podman } from '../prerequisites.js';
import { containersWith, engine, ensureDocker, HTTPD, IMAGE, rmArgs } from './steps.js';

const made: [EngineName, string][] = [];

async function start(name: EngineName, labels: string[]): Promise<{ id: string; port: number }> {
  const args = ['run', '-d', '-p', '127.0.0.1::80'];
  for (const l of labels) args.push('--label', l);
  const id = await engine(name, [...args, IMAGE, ...HTTPD.split(' ')]);
  made.push([name, id]);
  const mapping = await engine(name, ['port', id, '80/tcp']);
  const port = Number(/:(\d+)\s*$/m.exec(mapping)?.[1]);
  expect(port).toBeGreaterThan(0);
  return { id, port };
}

beforeAll(() => {
  ensureDocker();
}, 900_000);

afterAll(async () => {
  for (const [name, id] of made) {
    await engine(name, rmArgs(name, id)).catch(() => undefined);
  }
});

describe('parsePortsColumn', () => {
  it.each<[string, number[]]>([
    ['', []],
    ['80/tcp', []],
    ['127.0.0.1:8080->80/tcp', [8080]],
    ['0.0.0.0:5432->5432/tcp, :::5432->5432/tcp', [5432, 5432]],
    ['0.0.0.0:8000-8002->8000-8002/tcp', [8000, 8001, 8002]],
    ['0.0.0.0:53->53/udp, 127.0.0.1:9000->9000/tcp', [9000]],
  ])('%j', (text, ports) => {
    expect(parsePortsColumn(text)).toEqual(ports);
  });
});

describe('publishedPorts', () => {
  it('is [] at once and quietly when no engine is installed or answering', async () => {
    const debug: string[] = [];
    const env = { PATH: tempDir(), DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    expect(await publishedPorts({ env, debug: (m) => debug.push(m) })).toEqual([]);
    expect(debug).toEqual([]);
    // a socket path that exists but no daemon behind it, and a CLI that fails: still []
    const bin = tempDir();
    const answers = await publishedPorts({
      env: { PATH: `${bin}:/usr/bin:/bin`, DOCKER_HOST: 'tcp://127.0.0.1:1' },
      engines: ['docker'],
      timeoutMs: 5000,
      debug: (m) => debug.push(m),
    });
    expect(answers).toEqual([]);
  });

  it('sees a port docker publishes, through the API socket and through the CLI', async () => {
    const { port } = await start('docker', ['portlease-test.published=1']);
    expect(await publishedPorts({ engines: ['docker'] })).toContain(port);
    // DOCKER_CONTEXT set: the CLI is asked instead of the socket
    const viaCli = await publishedPorts({
      engines: ['docker'],
      env: { ...process.env, DOCKER_CONTEXT: 'default' },
    });
    expect(viaCli).toContain(port);
  });

  itWith(podman(), 'sees a port podman publishes', async () => {
    const { port } = await start('podman', ['portlease-test.published=1']);
    expect(await publishedPorts({ engines: ['podman'] })).toContain(port);
  });
});

describe('removeOrphanContainers', () => {
  it('removes only containers of its own registry whose lease is not live', async () => {
    const mine = tempDir();
    const other = tempDir();
    const orphan = await start('docker', [
      'portlease.lease=pl_orphan01',
      `portlease.registry=${mine}`,
    ]);
    const live = await start('docker', [
      'portlease.lease=pl_live0001',
      `portlease.registry=${mine}`,
    ]);
    const elsewhere = await start('docker', [
      'portlease.lease=pl_elsewhere',
      `portlease.registry=${other}`,
    ]);
    const ids = async (): Promise<string[]> =>
      [
        ...(await containersWith('docker', `portlease.registry=${mine}`)),
        ...(await containersWith('docker', `portlease.registry=${other}`)),
      ].sort();
    const all = [orphan.id, live.id, elsewhere.id].sort();

    const warnings: string[] = [];
    const dry = await removeOrphanContainers(() => Promise.resolve(['pl_live0001']), {
      engines: ['docker'],
      registry: mine,
      dryRun: true,
      warn: (m) => warnings.push(m),
    });
    expect(dry.map((c) => [c.id, c.lease, c.removed])).toEqual([[orphan.id, 'pl_orphan01', false]]);
    expect(await ids()).toEqual(all);

    // the live set is read only after listing
    let asked = 0;
    const done = await removeOrphanContainers(
      () => {
        asked++;
        return Promise.resolve(['pl_live0001']);
      },
      { engines: ['docker'], registry: mine, warn: (m) => warnings.push(m) },
    );
    expect(asked).toBe(1);
    expect(done.map((c) => [c.id, c.removed])).toEqual([[orphan.id, true]]);
    expect(await ids()).toEqual([live.id, elsewhere.id].sort());
    expect(warnings).toEqual([]);
  });
});

describe('container liveness', () => {
  it('is alive while the container runs, dead once it is gone, unknown without an engine', async () => {
    const { id } = await start('docker', ['portlease-test.liveness=1']);
    const check = containerLivenessChecker({ engines: ['docker'] });
    const here = { id, host: 'job-container-hostname', boot: bootId() };
    expect(await check(here)).toBe('alive');
    expect(await check({ id, host: hostname(), boot: null })).toBe('alive');
    expect(await check({ id, host: 'another-host', boot: null })).toBe('unknown');
    expect(await check({ id, host: 'another-host', boot: 'another-boot' })).toBe('unknown');
    expect(await check({ id, host: hostname(), boot: 'another-boot' })).toBe('dead');
    await engine('docker', ['rm', '-f', '-v', id]);
    expect(await check(here)).toBe('dead');
    const none = containerLivenessChecker({
      env: { PATH: tempDir(), DOCKER_HOST: 'unix:///nonexistent.sock' },
    });
    expect(await none({ id, host: hostname(), boot: bootId() })).toBe('unknown');
  });
});
