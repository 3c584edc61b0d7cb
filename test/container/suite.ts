/**
 * The container step end to end against a real engine (docker, or podman): the built
 * bundles under stand-in runner workers, real temp registries, real containers and sockets.
 * Used by docker.test.ts and podman.test.ts.
 */
import { afterAll, expect, it } from 'vitest';
import { checkStep, CONTAINER_ACTION, jobEnv, StandInWorker } from '../../harness/runner.js';
import { cli, listLeases, tempDir, testRange } from '../helpers.js';
import { standInWorkers } from '../workers.js';
import {
  containersWith,
  engine,
  httpGet,
  HTTPD,
  IMAGE,
  removeContainersOf,
  rmArgs,
  savedState,
} from './steps.js';

export function containerSuite(name: 'docker' | 'podman'): void {
  const registries: string[] = [];
  const workers = standInWorkers();
  const outside: string[] = [];

  function registry(): string {
    const dir = tempDir();
    registries.push(dir);
    return dir;
  }

  afterAll(async () => {
    await removeContainersOf(name, registries);
    for (const id of outside) await engine(name, rmArgs(name, id)).catch(() => undefined);
  });

  const base = (reg: string, range: string): Record<string, string> => ({
    image: IMAGE,
    'container-port': '80',
    pull: 'never',
    engine: name,
    registry: reg,
    range,
  });

  it('gives three legs at once each a service on its own leased port, and post leaves nothing', async () => {
    const r = await testRange(12);
    const reg = registry();
    const range = `${r.lo}-${r.hi}`;
    const legs = ['a', 'b', 'c'];
    const ws = await workers.start(3);
    const inputs = [
      // default health (tcp), command split like shell words
      { ...base(reg, range), args: HTTPD, name: 'WEB_PORT' },
      // health: http; quoting kept through to the container, and its output in post's log group
      {
        ...base(reg, range),
        args: `sh -c 'echo "leg b says: hello"; exec ${HTTPD}'`,
        health: 'http',
      },
      // health from a HEALTHCHECK given in options (quoted words), and env values
      {
        ...base(reg, range),
        args: `sh -c 'echo "greeting=$GREETING"; exec ${HTTPD}'`,
        env: 'GREETING=hi there\n# a comment\n\nOTHER=x=y',
        options: `--health-cmd 'wget -q -O /dev/null http://127.0.0.1/' --health-interval 1s`,
        health: 'docker',
        name: 'C_PORT',
      },
    ];
    const mains = await Promise.all(
      ws.map((w, i) => w.main(CONTAINER_ACTION, inputs[i] ?? {}, jobEnv(legs[i] ?? 'x'))),
    );
    const names = ['WEB_PORT', 'SERVICE_PORT', 'C_PORT'];
    const ports: number[] = [];
    for (const [i, m] of mains.entries()) {
      checkStep(m);
      const port = Number(m.outputs.port);
      expect(port).toBeGreaterThanOrEqual(r.lo);
      expect(port).toBeLessThanOrEqual(r.hi);
      expect(m.env[names[i] ?? '']).toBe(String(port));
      expect(m.outputs['container-id']).toMatch(/^[0-9a-f]{64}$/);
      expect(m.outputs.lease).toMatch(/^pl_/);
      const labels = JSON.parse(
        await engine(name, [
          'container',
          'inspect',
          '--format',
          '{{json .Config.Labels}}',
          m.outputs['container-id'] ?? '',
        ]),
      ) as Record<string, string>;
      expect(labels['portlease.lease']).toBe(m.outputs.lease);
      expect(labels['portlease.registry']).toBe(reg);
      ports.push(port);
    }
    expect(new Set(ports).size).toBe(3);
    for (const port of ports) {
      const res = await httpGet(port);
      expect(res.status).toBe(200);
      expect(res.body).toContain('portlease-test');
    }
    const leases = await listLeases(reg);
    expect(leases.map((l) => l.lease).sort()).toEqual(mains.map((m) => m.outputs.lease).sort());

    const posts = await Promise.all(
      ws.map((w, i) =>
        w.post(CONTAINER_ACTION, mains[i]?.state ?? {}, inputs[i] ?? {}, jobEnv(legs[i] ?? 'x')),
      ),
    );
    for (const p of posts) {
      expect(p.code).toBe(0);
      expect(p.warnings).toEqual([]);
      expect(p.stdout).toMatch(/::group::Last \d+ log lines of container/);
      expect(p.stdout).toContain('Released lease pl_');
    }
    expect(posts[1]?.stdout).toContain('leg b says: hello');
    expect(posts[2]?.stdout).toContain('greeting=hi there');
    expect(await containersWith(name, `portlease.registry=${reg}`)).toEqual([]);
    expect(await listLeases(reg)).toEqual([]);
    for (const port of ports) await expect(httpGet(port)).rejects.toThrow();

    // post again (a re-run post, or state replayed): nothing to do, still no warning
    const again = await (ws[0] as StandInWorker).post(
      CONTAINER_ACTION,
      mains[0]?.state ?? {},
      inputs[0] ?? {},
      jobEnv('a'),
    );
    expect(again.code).toBe(0);
    expect(again.warnings).toEqual([]);
  });

  it('cleans up and fails clearly when the service never gets ready or exits early', async () => {
    const r = await testRange(4);
    const reg = registry();
    const range = `${r.lo}-${r.hi}`;
    const [w1, w2] = await workers.start(2);
    const slow = {
      ...base(reg, range),
      args: "sh -c 'echo booting; exec sleep 300'",
      'health-timeout': '3s',
    };
    const crash = { ...base(reg, range), args: "sh -c 'echo crashing now >&2; exit 3'" };
    const [a, b] = await Promise.all([
      (w1 as StandInWorker).main(CONTAINER_ACTION, slow, jobEnv('slow')),
      (w2 as StandInWorker).main(CONTAINER_ACTION, crash, jobEnv('crash')),
    ]);
    expect(a.code).not.toBe(0);
    expect(a.errors).toHaveLength(1);
    expect(a.errors[0]).toMatch(/not ready after 3s \(health-timeout\)/);
    expect(a.stdout).toMatch(
      /::group::Last 200 log lines of container [0-9a-f]{12}\n(.*\n)*booting\n/,
    );
    expect(b.code).not.toBe(0);
    expect(b.errors).toHaveLength(1);
    expect(b.errors[0]).toMatch(/exited .*exit code 3/);
    expect(b.stdout).toContain('crashing now');
    for (const m of [a, b]) {
      expect(m.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(m.outputs).toEqual({});
      expect(m.env).toEqual({});
      const st = savedState(m);
      expect(await containersWith(name, `portlease.lease=${st.lease}`)).toEqual([]);
    }
    expect(await listLeases(reg)).toEqual([]);
    // the post step that the runner still runs: nothing left to do, no warning
    const p = await (w1 as StandInWorker).post(CONTAINER_ACTION, a.state, slow, jobEnv('slow'));
    expect(p.code).toBe(0);
    expect(p.warnings).toEqual([]);
  });

  it('gc removes the container of a runner that died, and leaves a live job alone', async () => {
    const r = await testRange(4);
    const reg = registry();
    const range = `${r.lo}-${r.hi}`;
    const [dying, living] = await workers.start(2);
    const inputs = { ...base(reg, range), args: HTTPD };
    const [d, l] = await Promise.all([
      (dying as StandInWorker).main(CONTAINER_ACTION, inputs, jobEnv('dying')),
      (living as StandInWorker).main(CONTAINER_ACTION, inputs, jobEnv('living')),
    ]);
    checkStep(d);
    checkStep(l);
    const deadId = d.outputs['container-id'] ?? '';
    const liveId = l.outputs['container-id'] ?? '';
    await (dying as StandInWorker).kill(); // no post step ever runs for this job

    const dry = await cli(['gc', '--dry-run', '--registry', reg]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would remove ${name} container ${deadId.slice(0, 12)}`);
    expect(dry.stdout).not.toContain(liveId.slice(0, 12));
    expect(await containersWith(name, `portlease.lease=${d.outputs.lease ?? ''}`)).toEqual([
      deadId,
    ]);

    const gc = await cli(['gc', '--registry', reg]);
    expect(gc.code).toBe(0);
    expect(gc.stdout).toContain(`removed ${d.outputs.lease ?? ''}`);
    expect(gc.stdout).toContain(`removed ${name} container ${deadId.slice(0, 12)}`);
    expect(await containersWith(name, `portlease.lease=${d.outputs.lease ?? ''}`)).toEqual([]);
    expect(await containersWith(name, `portlease.lease=${l.outputs.lease ?? ''}`)).toEqual([
      liveId,
    ]);
    expect((await listLeases(reg)).map((x) => x.lease)).toEqual([l.outputs.lease]);
    expect((await httpGet(Number(l.outputs.port))).status).toBe(200);

    const p = await (living as StandInWorker).post(
      CONTAINER_ACTION,
      l.state,
      inputs,
      jobEnv('living'),
    );
    expect(p.code).toBe(0);
    expect(p.warnings).toEqual([]);
    expect(await containersWith(name, `portlease.registry=${reg}`)).toEqual([]);
  });

  it('never leases a host port published by a container outside portlease', async () => {
    const r = await testRange(2);
    const taken = r.lo;
    const reg = registry();
    const id = await engine(name, [
      'run',
      '-d',
      '--label',
      'portlease-test.outside=1',
      '-p',
      `127.0.0.1:${taken}:80`,
      IMAGE,
      ...HTTPD.split(' '),
    ]);
    outside.push(id);

    // The engine is asked, not only the socket probe: the allocation says so in its debug log.
    const only = await cli(['allocate', 'P', '--range', `${taken}-${taken}`, '--registry', reg], {
      env: { ...process.env, PORTLEASE_DEBUG: '1' },
    });
    expect(only.code).toBe(1);
    expect(only.stderr).toContain(`port ${taken}: published by a container engine`);

    const [w] = await workers.start(1);
    const inputs = { ...base(reg, `${taken}-${taken}`), args: HTTPD };
    const m = await (w as StandInWorker).main(CONTAINER_ACTION, inputs, jobEnv('outside'));
    expect(m.code).not.toBe(0);
    expect(m.errors).toHaveLength(1);
    expect(m.errors[0]).toContain(`range ${taken} has no 1 free port`);
    expect(m.state).toEqual({});
    expect(await containersWith(name, `portlease.registry=${reg}`)).toEqual([]);

    // with one more port in the range, the step gets that one
    const ok = await (w as StandInWorker).main(
      CONTAINER_ACTION,
      { ...inputs, range: `${r.lo}-${r.hi}` },
      jobEnv('outside'),
    );
    checkStep(ok);
    expect(Number(ok.outputs.port)).toBe(r.hi);
    const p = await (w as StandInWorker).post(
      CONTAINER_ACTION,
      ok.state,
      inputs,
      jobEnv('outside'),
    );
    expect(p.code).toBe(0);
    // the outside container is untouched by all of this
    expect(await engine(name, ['container', 'inspect', '--format', '{{.State.Running}}', id])).toBe(
      'true',
    );
  });
}
