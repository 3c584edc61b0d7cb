// 5. The pytest plugin's cost per test: a test that leases one port through the `portlease`
// fixture and binds it, over the lease server (the default) and over the CLI
// (PORTLEASE_PYTEST_SERVER=0), against the same test binding port 0 without the fixture.
// Each kind runs as its own pytest session (python/ on PYTHONPATH, no other plugins),
// interleaved; a test's cost is its setup + call + teardown as pytest reports them, so the
// server's start (in the first test's setup) is in the mean, not in the p50.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from '../harness/paths.js';
import { baseEnv, log, type Context } from './context.js';
import { ALLOC_RANGE } from './options.js';
import type { PytestResult, PytestRow } from './results.js';
import { median, quantile, round } from './stats.js';

const PYTHON = process.env.PORTLEASE_PYTHON ?? '/usr/bin/python3';

export const PYTEST_KINDS = ['bind0', 'server', 'cli'] as const;
type Kind = (typeof PYTEST_KINDS)[number];

const CONFTEST = `
import json, os

_cost = {}

def pytest_runtest_logreport(report):
    _cost[report.nodeid] = _cost.get(report.nodeid, 0.0) + report.duration

def pytest_sessionfinish(session):
    with open(os.environ["PL_BENCH_OUT"], "w") as f:
        json.dump(list(_cost.values()), f)
`;

const TESTS = `
import os, socket, pytest

N, RANGE = int(os.environ["PL_BENCH_TESTS"]), os.environ["PL_BENCH_RANGE"]

def bind(port):
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen()

if os.environ["PL_BENCH_KIND"] == "bind0":
    @pytest.mark.parametrize("i", range(N))
    def test_port(i):
        bind(0)
else:
    @pytest.mark.parametrize("i", range(N))
    def test_port(portlease, i):
        bind(portlease("WEB_PORT", range=RANGE)["WEB_PORT"])
`;

/** One pytest session of `kind`: each test's cost (ms) and the session's wall time (ms). */
function session(
  ctx: Context,
  dir: string,
  kind: Kind,
  tests: number,
  registry: string,
): Promise<{ costs: number[]; wallMs: number }> {
  const out = join(dir, `${kind}.json`);
  const env = {
    ...baseEnv(),
    PYTHONPATH: join(ROOT, 'python'),
    PYTHONDONTWRITEBYTECODE: '1',
    PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1',
    PORTLEASE_CLI: ctx.cli ?? '',
    PORTLEASE_NODE: process.execPath,
    PORTLEASE_REGISTRY: registry,
    PORTLEASE_PYTEST_SERVER: kind === 'cli' ? '0' : '1',
    PL_BENCH_KIND: kind,
    PL_BENCH_TESTS: String(tests),
    PL_BENCH_RANGE: `${String(ALLOC_RANGE.lo)}-${String(ALLOC_RANGE.hi)}`,
    PL_BENCH_OUT: out,
  };
  const args = ['-m', 'pytest', '-p', 'pytest_portlease', '-p', 'no:cacheprovider', '-q', dir];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0 || !new RegExp(`${String(tests)} passed`).test(text) || /warning/.test(text)) {
        reject(new Error(`pytest (${kind}) exited ${String(code)}: ${text.trim().slice(-500)}`));
        return;
      }
      const costs = (JSON.parse(readFileSync(out, 'utf8')) as number[]).map((s) => s * 1000);
      resolve({ costs, wallMs });
    });
  });
}

export async function pytestCost(ctx: Context): Promise<PytestResult> {
  const check = spawnSync(PYTHON, ['-c', 'import pytest'], { encoding: 'utf8' });
  if (check.status !== 0) {
    const why = `${PYTHON} has no pytest (apt-get install python3-pytest)`;
    log(`pytest: skipped: ${why}`);
    return { skipped: why };
  }
  const { pytestTests: tests, pytestSessions: sessions } = ctx.config;
  const dir = ctx.freshDir('pytest');
  writeFileSync(join(dir, 'conftest.py'), CONFTEST);
  writeFileSync(join(dir, 'test_cost.py'), TESTS);
  const registry = ctx.freshDir('pytest-registry');
  const costs: Record<Kind, number[]> = { bind0: [], server: [], cli: [] };
  const walls: Record<Kind, number[]> = { bind0: [], server: [], cli: [] };
  for (let i = 0; i < sessions + 1; i++) {
    for (const kind of PYTEST_KINDS) {
      const r = await session(ctx, dir, kind, tests, registry);
      if (i === 0) continue; // warm-up: page cache, Python's and Node's compile caches
      costs[kind].push(...r.costs);
      walls[kind].push(r.wallMs);
    }
  }
  const row = (kind: Kind): PytestRow => ({
    kind,
    p50: round(median(costs[kind]), 3),
    p99: round(quantile(costs[kind], 0.99), 3),
    mean: round(costs[kind].reduce((s, x) => s + x, 0) / costs[kind].length, 3),
    sessionWallMs: round(median(walls[kind])),
  });
  const rows = PYTEST_KINDS.map(row);
  const [bind0, server, cli] = rows as [PytestRow, PytestRow, PytestRow];
  const result: PytestResult = {
    tests,
    sessions,
    rows,
    serverVsBind0: round(server.p50 / bind0.p50, 1),
    cliVsServer: round(cli.p50 / server.p50, 1),
    cliVsBind0: round(cli.p50 / bind0.p50, 1),
  };
  log(
    `pytest: per test p50: bind(0) ${bind0.p50} ms, fixture over the server ${server.p50} ms (${result.serverVsBind0}x), over the CLI ${cli.p50} ms (${result.cliVsServer}x the server's)`,
  );
  return result;
}
