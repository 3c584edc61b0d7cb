/**
 * The built action (dist/main, dist/post) run as the runner runs it: stand-in runner
 * workers as parents, INPUT_* from action.yml plus the workflow, file commands, STATE_* in
 * post. Real temp registries, real processes, real sockets.
 */
import { createServer, type Server } from 'node:net';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkStep,
  jobEnv,
  LEASE_ACTION,
  StandInWorker,
  type StepResult,
} from '../../harness/runner.js';
import { cli, listLeases, ROOT, snapshot, tempDir, testRange } from '../helpers.js';
import { standInWorkers } from '../workers.js';
import { formatRange, type PortRange } from '../../src/core/index.js';

const workers = standInWorkers();

function listen(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      resolve(server);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

/** The ports a successful main step published, checked for self-consistency. */
function portsOf(r: StepResult, names: string[]): Record<string, number> {
  checkStep(r);
  const ports = JSON.parse(r.outputs.ports ?? 'null') as Record<string, number>;
  expect(Object.keys(ports)).toEqual(names);
  for (const name of names) {
    // one output per name, equal to the exported variable and to the JSON map
    expect(r.outputs[name]).toBe(String(ports[name]));
    expect(r.env[name]).toBe(String(ports[name]));
  }
  expect(Object.keys(r.env).sort()).toEqual([...names].sort());
  expect(r.outputs.lease).toMatch(/^pl_[a-z0-9]+$/);
  const state = JSON.parse(r.state.portlease ?? 'null') as { lease: string };
  expect(state.lease).toBe(r.outputs.lease);
  return ports;
}

function inRange(p: number, range: PortRange): boolean {
  return p >= range.lo && p <= range.hi;
}

describe('the action on a shared host', () => {
  it('8 matrix legs at once get disjoint ports that real servers bind, and post gives them back', async () => {
    const range = await testRange(40);
    const registry = join(tempDir(), 'registry');
    const names = ['WEB_PORT', 'API_PORT', 'DB_PORT'];
    const legs = await workers.start(8);
    const inputs = {
      ports: 'WEB_PORT, API_PORT\nDB_PORT',
      range: formatRange(range),
      registry,
      wait: '60s',
    };
    const mains = await Promise.all(
      legs.map((w, i) => w.main(LEASE_ACTION, inputs, jobEnv(String(i)))),
    );
    const all = mains.map((r) => portsOf(r, names));
    const flat = all.flatMap((p) => Object.values(p));
    expect(flat).toHaveLength(24);
    expect(new Set(flat).size).toBe(24);
    for (const p of flat) expect(inRange(p, range)).toBe(true);

    // every leg's summary shows its table
    for (const [i, r] of mains.entries()) {
      for (const n of names) expect(r.files.summary).toContain(`<code>${n}</code>`);
      expect(r.files.summary).toContain(`<td>${all[i]?.WEB_PORT}</td>`);
    }

    // the registry holds 8 leases, each owned by its stand-in worker (the action's parent)
    const listed = await listLeases(registry);
    expect(listed).toHaveLength(8);
    for (const [i, r] of mains.entries()) {
      const lease = listed.find((l) => l.lease === r.outputs.lease);
      expect(lease?.owner).toMatchObject({ kind: 'process', pid: legs[i]?.pid });
      expect(lease?.ports).toEqual(all[i]);
    }

    // real servers bind all 24 at once, on every address the leases promise
    const servers: Server[] = [];
    try {
      for (const p of flat) {
        servers.push(await listen(p, '0.0.0.0'));
      }
    } finally {
      await Promise.all(servers.map(close));
    }
    expect(servers).toHaveLength(24);

    const posts = await Promise.all(
      legs.map((w, i) => w.post(LEASE_ACTION, mains[i]?.state ?? {}, inputs, jobEnv(String(i)))),
    );
    for (const [i, r] of posts.entries()) {
      expect(r.code).toBe(0);
      expect(r.errors).toEqual([]);
      expect(r.warnings).toEqual([]);
      expect(r.stdout).toContain(`released ${mains[i]?.outputs.lease}`);
    }
    expect(await listLeases(registry)).toEqual([]);
  });

  it('a job whose runner worker was SIGKILLed (no post) is reclaimed by the next allocation, never a live one', async () => {
    const range = await testRange(6);
    const registry = join(tempDir(), 'registry');
    const inputs = { ports: 'A_PORT B_PORT', range: formatRange(range), registry };
    const legs = await workers.start(3);
    const mains = await Promise.all(
      legs.map((w, i) => w.main(LEASE_ACTION, inputs, jobEnv(`k${i}`))),
    );
    const held = mains.map((r) => portsOf(r, ['A_PORT', 'B_PORT']));
    expect(new Set(held.flatMap((p) => Object.values(p))).size).toBe(6);

    // the range is full while all three live: a fourth leg fails, naming the holders
    const fourth = await workers.one();
    const full = await fourth.main(LEASE_ACTION, inputs, jobEnv('k3'));
    expect(full.code).not.toBe(0);
    expect(full.errors).toHaveLength(1);
    expect(full.errors[0]).toMatch(/no 2 free ports/);
    expect(full.files.env).toBe('');
    expect(full.files.output).toBe('');

    // the runner of leg 0 dies: no post step runs
    await legs[0]?.kill();
    const next = await fourth.main(LEASE_ACTION, inputs, jobEnv('k3'));
    const got = portsOf(next, ['A_PORT', 'B_PORT']);
    expect(new Set(Object.values(got))).toEqual(new Set(Object.values(held[0] ?? {})));

    const listed = await listLeases(registry);
    expect(listed.map((l) => l.lease).sort()).toEqual(
      [mains[1]?.outputs.lease, mains[2]?.outputs.lease, next.outputs.lease].sort(),
    );
  });

  it('portlease gc removes the leases of killed runner workers and keeps the live ones', async () => {
    const range = await testRange(20);
    const registry = join(tempDir(), 'registry');
    const inputs = { ports: 'PORT_X', range: formatRange(range), registry };
    const legs = await workers.start(4);
    const mains = await Promise.all(
      legs.map((w, i) => w.main(LEASE_ACTION, inputs, jobEnv(`g${i}`))),
    );
    for (const r of mains) portsOf(r, ['PORT_X']);
    await legs[1]?.kill();
    await legs[3]?.kill();

    const gc = await cli(['gc', '--registry', registry]);
    expect(gc.code).toBe(0);
    const left = (await listLeases(registry)).map((l) => l.lease).sort();
    expect(left).toEqual([mains[0]?.outputs.lease, mains[2]?.outputs.lease].sort());
  });

  it('a re-run of main in the same job gets the same lease; another portlease step gets its own', async () => {
    const range = await testRange(20);
    const registry = join(tempDir(), 'registry');
    const inputs = { ports: 'WEB_PORT DB_PORT', range: formatRange(range), registry };
    const w = await workers.one();
    const env = jobEnv('rerun');
    const first = await w.main(LEASE_ACTION, inputs, env);
    const again = await w.main(LEASE_ACTION, inputs, env);
    const p1 = portsOf(first, ['WEB_PORT', 'DB_PORT']);
    expect(portsOf(again, ['WEB_PORT', 'DB_PORT'])).toEqual(p1);
    expect(again.outputs.lease).toBe(first.outputs.lease);

    // a second portlease step in the same job (its own GITHUB_ACTION id)
    const env2 = { ...env, GITHUB_ACTION: '__octo_portlease_2' };
    const second = await w.main(LEASE_ACTION, { ...inputs, ports: 'CACHE_PORT' }, env2);
    const p2 = portsOf(second, ['CACHE_PORT']);
    expect(second.outputs.lease).not.toBe(first.outputs.lease);
    expect(Object.values(p1)).not.toContain(p2.CACHE_PORT);
    expect(await listLeases(registry)).toHaveLength(2);

    // post steps run last-in first-out; each releases only its own lease
    const post2 = await w.post(LEASE_ACTION, second.state, inputs, env2);
    expect(post2.code).toBe(0);
    const left = await listLeases(registry);
    expect(left.map((l) => l.lease)).toEqual([first.outputs.lease]);
    // the re-run's post releases it: the lease it was handed back is this job's own
    expect(again.stdout).not.toMatch(/will not release/);
    const post1 = await w.post(LEASE_ACTION, again.state, inputs, env);
    expect(post1.code).toBe(0);
    expect(post1.stdout).toContain(`released ${first.outputs.lease}`);
    expect(await listLeases(registry)).toEqual([]);

    // post again (idempotent): the lease is already gone, still success, no warning
    const twice = await w.post(LEASE_ACTION, first.state, inputs, env);
    expect(twice.code).toBe(0);
    expect(twice.errors).toEqual([]);
    expect(twice.warnings).toEqual([]);
    expect(twice.stdout).toMatch(/already gone/);
  });

  it("two jobs that share a key: the second gets the first's live lease, and its post leaves it leased to the first", async () => {
    const range = await testRange(4);
    const registry = join(tempDir(), 'registry');
    const names = ['WEB_PORT', 'DB_PORT'];
    // sequential: a freed block would be the first one chosen again
    const inputs = {
      ports: 'WEB_PORT DB_PORT',
      range: formatRange(range),
      registry,
      key: 'shared-e2e',
      strategy: 'sequential',
    };
    const [job1, job2, job3] = await workers.start(3);
    if (job1 === undefined || job2 === undefined || job3 === undefined)
      throw new Error('no workers');
    const env1 = jobEnv('share1');
    const env2 = jobEnv('share2');
    const main1 = await job1.main(LEASE_ACTION, inputs, env1);
    const held = portsOf(main1, names);
    const lease = main1.outputs.lease;

    // job 2 runs while job 1 still does: the same key hands it job 1's lease
    const main2 = await job2.main(LEASE_ACTION, inputs, env2);
    expect(portsOf(main2, names)).toEqual(held);
    expect(main2.outputs.lease).toBe(lease);
    expect(main2.stdout).toContain(`held by lease ${lease} of another owner`);

    // job 2's post: nothing released, job 1's lease still live with its ports and owner
    const post2 = await job2.post(LEASE_ACTION, main2.state, inputs, env2);
    expect(post2.code).toBe(0);
    expect(post2.errors).toEqual([]);
    expect(post2.warnings).toEqual([]);
    const listed = await listLeases(registry);
    expect(listed.map((l) => l.lease)).toEqual([lease]);
    expect(listed[0]?.ports).toEqual(held);
    expect(listed[0]?.owner).toMatchObject({ kind: 'process', pid: job1.pid });
    expect(post2.stdout).not.toContain(`released ${lease}`);

    // a third job in the same range gets other ports
    const env3 = jobEnv('share3');
    const inputs3 = { ...inputs, key: '' };
    const main3 = await job3.main(LEASE_ACTION, inputs3, env3);
    const other = portsOf(main3, names);
    for (const p of Object.values(other)) expect(Object.values(held)).not.toContain(p);

    // job 1's post releases it
    const post1 = await job1.post(LEASE_ACTION, main1.state, inputs, env1);
    expect(post1.code).toBe(0);
    expect(post1.warnings).toEqual([]);
    expect(post1.stdout).toContain(`released ${lease}`);
    expect((await listLeases(registry)).map((l) => l.lease)).toEqual([main3.outputs.lease]);
    const post3 = await job3.post(LEASE_ACTION, main3.state, inputs3, env3);
    expect(post3.code).toBe(0);
    expect(await listLeases(registry)).toEqual([]);
  });

  it("a job that reuses another job's lease names the lease, the key and its owner in its log and summary", async () => {
    const range = await testRange(4);
    const registry = join(tempDir(), 'registry');
    const inputs = { ports: 'WEB_PORT', range: formatRange(range), registry, key: 'shared-log' };
    const [job1, job2] = await workers.start(2);
    if (job1 === undefined || job2 === undefined) throw new Error('no workers');
    const env2 = jobEnv('log2');
    const main1 = await job1.main(LEASE_ACTION, inputs, jobEnv('log1'));
    portsOf(main1, ['WEB_PORT']);
    const lease = main1.outputs.lease ?? '';
    const owner = `pid ${job1.pid}`;
    // job 1's own step says nothing of another owner
    expect(main1.stdout).not.toMatch(/will not release/);
    expect(main1.files.summary).toContain("released by this step's post step");

    const main2 = await job2.main(LEASE_ACTION, inputs, env2);
    portsOf(main2, ['WEB_PORT']);
    const notice = main2.stdout.split('\n').filter((l) => l.includes('will not release'));
    expect(notice).toHaveLength(1);
    expect(notice[0]).toContain(lease);
    expect(notice[0]).toContain('key "shared-log"');
    expect(notice[0]).toContain(owner);
    expect(main2.files.summary).toContain(`<code>${lease}</code>`);
    expect(main2.files.summary).toContain('<code>shared-log</code>');
    expect(main2.files.summary).toContain(owner);
    expect(main2.files.summary).toMatch(/post step will not release it/);
    expect(main2.files.summary).not.toContain("released by this step's post step");

    // its post says in one line that the owner keeps the lease
    const post2 = await job2.post(LEASE_ACTION, main2.state, inputs, env2);
    expect(post2.code).toBe(0);
    const kept = post2.stdout.split('\n').filter((l) => l.includes('keeps it'));
    expect(kept).toHaveLength(1);
    expect(kept[0]).toContain(lease);
    expect(kept[0]).toContain('key "shared-log"');
    expect(kept[0]).toContain(owner);
  });

  it('post with the state of an older bundle (no ownLease in it) releases, as before', async () => {
    const range = await testRange(4);
    const registry = join(tempDir(), 'registry');
    const inputs = { ports: 'WEB_PORT', range: formatRange(range), registry };
    const w = await workers.one();
    const env = jobEnv('old-state');
    const main = await w.main(LEASE_ACTION, inputs, env);
    portsOf(main, ['WEB_PORT']);
    const saved = JSON.parse(main.state.portlease ?? '{}') as Record<string, unknown>;
    const old = { lease: saved.lease, key: saved.key, registry: saved.registry };
    const post = await w.post(LEASE_ACTION, { portlease: JSON.stringify(old) }, inputs, env);
    expect(post.code).toBe(0);
    expect(post.warnings).toEqual([]);
    expect(post.stdout).toContain(`released ${main.outputs.lease}`);
    expect(await listLeases(registry)).toEqual([]);
  });

  it('export-env false sets outputs only; contiguous leases a block in a row', async () => {
    const range = await testRange(30);
    const registry = join(tempDir(), 'registry');
    const w = await workers.one();
    const r = await w.main(
      LEASE_ACTION,
      {
        ports: 'P1,P2,P3,P4',
        range: formatRange(range),
        registry,
        contiguous: 'true',
        'export-env': 'false',
      },
      jobEnv('flags'),
    );
    checkStep(r);
    expect(r.files.env).toBe('');
    const ports = JSON.parse(r.outputs.ports ?? '{}') as Record<string, number>;
    const sorted = Object.values(ports).sort((a, b) => a - b);
    expect(sorted).toHaveLength(4);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]).toBe((sorted[i - 1] ?? 0) + 1);
    for (const [n, p] of Object.entries(ports)) expect(r.outputs[n]).toBe(String(p));
  });
});

describe('bad inputs', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['a name with a hyphen', { ports: 'WEB-PORT' }, 'ports'],
    ['a name starting with a digit', { ports: '1PORT' }, 'ports'],
    [
      'a newline that would inject into GITHUB_ENV',
      { ports: 'WEB_PORT\nNODE_OPTIONS=--require=/tmp/evil.js' },
      'ports',
    ],
    ['a heredoc marker in a name', { ports: 'WEB_PORT<<EOF' }, 'ports'],
    ['empty ports', { ports: '' }, 'ports'],
    ['only separators', { ports: ' ,\n, ' }, 'ports'],
    ['a name twice', { ports: 'A_PORT A_PORT' }, 'ports'],
    ['a reserved name', { ports: 'PATH' }, 'ports'],
    ['a name that is an output of the action', { ports: 'LEASE' }, 'ports'],
    ['a reversed range', { ports: 'P', range: '30000-20000' }, 'range'],
    ['a range that is not one', { ports: 'P', range: 'lots' }, 'range'],
    ['a range past 65535', { ports: 'P', range: '60000-70000' }, 'range'],
    ['a ttl that is not a duration', { ports: 'P', ttl: 'forever' }, 'ttl'],
    ['a zero ttl', { ports: 'P', ttl: '0' }, 'ttl'],
    ['a negative ttl', { ports: 'P', ttl: '-5m' }, 'ttl'],
    ['a wait that is not a duration', { ports: 'P', wait: 'soon' }, 'wait'],
    ['an unknown strategy', { ports: 'P', strategy: 'fastest' }, 'strategy'],
    ['contiguous not a boolean', { ports: 'P', contiguous: 'yes' }, 'contiguous'],
    ['export-env not a boolean', { ports: 'P', 'export-env': 'maybe' }, 'export-env'],
    ['a key with a newline', { ports: 'P', key: 'a\nb' }, 'key'],
    ['a relative registry', { ports: 'P', registry: 'relative/dir' }, 'registry'],
  ];

  let registry = '';
  let range: PortRange = { lo: 0, hi: 0 };
  let holder: StandInWorker | undefined;
  beforeAll(async () => {
    // a registry that already holds a live lease, to see that it is left byte for byte
    registry = join(tempDir(), 'registry');
    range = await testRange(4);
    holder = await StandInWorker.start();
    const held = await holder.main(
      LEASE_ACTION,
      { ports: 'HELD', range: formatRange(range), registry },
      jobEnv('held'),
    );
    portsOf(held, ['HELD']);
  });
  afterAll(async () => {
    await holder?.stop();
  });

  it.each(cases)(
    '%s fails naming the input, exports nothing and leaves the registry alone',
    async (_what, inputs, input) => {
      const w = await workers.one();
      const before = snapshot(registry);
      expect(Object.keys(before)).toContain('leases.json');
      const r = await w.main(
        LEASE_ACTION,
        { range: formatRange(range), registry, ...inputs },
        jobEnv('bad'),
      );
      expect(r.code).not.toBe(0);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatch(new RegExp(`^::error::${input}: `));
      expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
      expect(r.files.env).toBe('');
      expect(r.files.output).toBe('');
      expect(r.files.state).toBe('');
      expect(snapshot(registry)).toEqual(before);
      expect(existsSync(join(ROOT, 'relative'))).toBe(false);
    },
  );
});

describe('post never fails the job', () => {
  it('without state (main failed before leasing) it exits 0 and says so', async () => {
    const w = await workers.one();
    const r = await w.post(LEASE_ACTION, {}, { ports: 'P' }, jobEnv('nostate'));
    expect(r.code).toBe(0);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.stdout).toMatch(/nothing to release/);
  });

  it('with unreadable state it exits 0 without touching anything', async () => {
    const w = await workers.one();
    const r = await w.post(
      LEASE_ACTION,
      { portlease: '{not json' },
      { ports: 'P' },
      jobEnv('garbage'),
    );
    expect(r.code).toBe(0);
    expect(r.errors).toEqual([]);
  });

  it('with a registry that cannot be used it exits 0 with one warning', async () => {
    const w = await workers.one();
    const notDir = join(tempDir(), 'file');
    writeFileSync(notDir, 'not a registry');
    const state = {
      portlease: JSON.stringify({ lease: 'pl_abcdef1234', key: 'k', registry: notDir }),
    };
    const r = await w.post(LEASE_ACTION, state, { ports: 'P' }, jobEnv('broken'));
    expect(r.code).toBe(0);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/pl_abcdef1234/);
  });
});
