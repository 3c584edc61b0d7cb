/**
 * The pytest plugin (python/), installed with `pip install --no-build-isolation` into a
 * venv over Debian's python3-pytest, python3-pytest-xdist and python3-setuptools (.ci/run
 * installs them), and driven through real `pytest -n` sessions against the built CLI.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { cli, CLI, collect, lines, NODE, ROOT, tempDir, testRange, type Run } from '../helpers.js';
import { describeWith, pytest as pytestMissing } from '../prerequisites.js';

const PYTHON = process.env.PORTLEASE_PYTHON ?? '/usr/bin/python3';
/** PATH without any `portlease` and without pyenv: Debian's python, and the node tests run with. */
const PATH = [dirname(NODE), '/usr/local/bin', '/usr/bin', '/bin'].join(':');
let venvPython: string;

function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): { code: number | null; out: string } {
  const r = spawnSync(file, args, { env, cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1',
    PORTLEASE_NODE: NODE,
    ...extra,
  };
}

/** Why the plugin's tests cannot run here (test/prerequisites.ts), or null. */
const missing = PYTHON === '/usr/bin/python3' ? pytestMissing() : null;

beforeAll(() => {
  if (missing !== null) return; // every test is skipped (or, under CI, fails) for it
  const check = run(PYTHON, ['-c', 'import pytest, xdist, setuptools, pip'], baseEnv());
  if (check.code !== 0) {
    throw new Error(
      `${PYTHON} lacks pytest, pytest-xdist, setuptools or pip; apt-get install python3-pytest python3-pytest-xdist python3-setuptools python3-pip (.ci/run does): ${check.out}`,
    );
  }
  const dir = tempDir();
  // A copy: an in-tree build would leave build/ and *.egg-info/ in the checkout.
  const src = join(dir, 'python');
  cpSync(join(ROOT, 'python'), src, {
    recursive: true,
    filter: (p) => !/(\/build|\.egg-info|__pycache__)$/.test(p),
  });
  const venv = join(dir, 'venv');
  const mk = run(
    PYTHON,
    ['-m', 'venv', '--system-site-packages', '--without-pip', venv],
    baseEnv(),
  );
  expect(mk.code, mk.out).toBe(0);
  venvPython = join(venv, 'bin/python');
  // Offline: setuptools and pytest come from Debian's packages, nothing from an index.
  const pip = run(
    venvPython,
    ['-m', 'pip', 'install', '--no-build-isolation', '--no-index', src],
    baseEnv(),
  );
  expect(pip.code, pip.out).toBe(0);
  expect(pip.out).toMatch(/Successfully installed pytest-portlease-/);
});

/** Start pytest from the venv in `project` (the plugin loads through its pytest11 entry point). */
function pytest(project: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(venvPython, ['-m', 'pytest', '-p', 'no:cacheprovider', '-q', ...args], {
    cwd: project,
    env: baseEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function project(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Listed {
  lease: string;
  ports: Record<string, number>;
  owner: { pid: number } | null;
}

async function list(registry: string): Promise<Listed[]> {
  const r = await cli(['list', '--json', '--registry', registry]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Listed[];
}

/** `gc --dry-run`: leases still in the file whose owner died (not released). */
async function unreleased(registry: string): Promise<string> {
  const r = await cli(['gc', '--dry-run', '--registry', registry]);
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

/**
 * A `portlease` that logs each run (`PID COMMAND` lines to `log`) and then runs the built CLI
 * in its place (exec: the pid is the CLI's). `noServe`: `serve` fails as a CLI without it does.
 */
function loggingCli(log: string, noServe = false): string {
  const file = join(tempDir(), 'portlease');
  const refuse = noServe
    ? `if [ "$1" = serve ]; then echo 'portlease: unknown command "serve"; use allocate, release, list, gc, exec or service (portlease --help)' >&2; exit 2; fi\n`
    : '';
  writeFileSync(
    file,
    `#!/bin/sh\nprintf '%s %s\\n' "$$" "$1" >> '${log}'\n${refuse}exec '${NODE}' '${CLI}' "$@"\n`,
    { mode: 0o755 },
  );
  return file;
}

/** The CLI runs `loggingCli` saw: how many of each command, and the pids of `serve`. */
function calls(log: string): { count: Record<string, number>; serve: number[] } {
  const count: Record<string, number> = {};
  const serve: number[] = [];
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  for (const line of text.split('\n').filter(Boolean)) {
    const [pid, command = ''] = line.split(' ');
    count[command] = (count[command] ?? 0) + 1;
    if (command === 'serve') serve.push(Number(pid));
  }
  return { count, serve };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A conftest that writes every warning pytest records, one JSON line each, to $PL_WARNINGS. */
const WARNINGS_CONFTEST = `
import json, os

def pytest_warning_recorded(warning_message, when, nodeid, location):
    with open(os.environ["PL_WARNINGS"], "a") as f:
        f.write(json.dumps({"category": warning_message.category.__name__,
                            "message": str(warning_message.message), "nodeid": nodeid}) + "\\n")
`;

function warningsIn(file: string): { category: string; message: string; nodeid: string }[] {
  if (!existsSync(file)) return [];
  return lines(readFileSync(file, 'utf8')).map(
    (l) => JSON.parse(l) as { category: string; message: string; nodeid: string },
  );
}

const SERVERS_TEST = `
import http.server, json, os, threading, time, urllib.request
import pytest

OUT, RANGE, SESSION = os.environ["PL_OUT"], os.environ["PL_RANGE"], os.environ["PL_SESSION"]

@pytest.mark.parametrize("i", range(16))
def test_servers(portlease, i):
    ports = portlease("WEB_PORT", "DB_PORT", range=RANGE, wait="60s")
    leased = time.time()
    token = f"{SESSION}-{i}-{os.getpid()}"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = token.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    servers = []
    for port in ports.values():
        server = http.server.HTTPServer(("0.0.0.0", port), Handler)  # EADDRINUSE on a collision
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    for _ in range(3):
        for port in ports.values():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
                assert r.read().decode() == token
        time.sleep(0.1)
    for server in servers:
        server.shutdown()
        server.server_close()
    with open(os.path.join(OUT, f"{SESSION}-{i}.json"), "w") as f:
        json.dump({"ports": ports, "lease": ports.lease, "pid": os.getpid(),
                   "start": leased, "end": time.time()}, f)
`;

describeWith(missing, 'pytest plugin', () => {
  for (const path of ['server', 'cli'] as const) {
    it(`two \`pytest -n 4\` sessions at once, 16 tests each binding real servers on leased ports: 0 collisions (${path === 'server' ? 'one lease server per worker' : 'PORTLEASE_PYTEST_SERVER=0: the CLI for each call'})`, async () => {
      const range = await testRange(40);
      const registry = join(tempDir(), 'reg');
      const out = tempDir();
      const log = join(tempDir(), 'cli.log');
      const warned = join(tempDir(), 'warnings.jsonl');
      const dir = project({ 'test_servers.py': SERVERS_TEST, 'conftest.py': WARNINGS_CONFTEST });
      const env = {
        PORTLEASE_CLI: loggingCli(log),
        PORTLEASE_REGISTRY: registry,
        PL_OUT: out,
        PL_RANGE: `${range.lo}-${range.hi}`,
        PL_WARNINGS: warned,
        ...(path === 'cli' ? { PORTLEASE_PYTEST_SERVER: '0' } : {}),
      };
      const runs: Run[] = await Promise.all(
        ['a', 'b'].map((s) => collect(pytest(dir, ['-n', '4'], { ...env, PL_SESSION: s }))),
      );
      for (const r of runs) {
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toMatch(/16 passed/);
      }
      const results = readdirSync(out).map(
        (f) =>
          JSON.parse(readFileSync(join(out, f), 'utf8')) as {
            ports: Record<string, number>;
            lease: string;
            pid: number;
            start: number;
            end: number;
          },
      );
      expect(results).toHaveLength(32);
      // 8 workers, each owning its leases.
      expect(new Set(results.map((r) => r.pid)).size).toBeGreaterThan(2);
      // No port held by two tests at overlapping times (the binds above would have failed, too).
      const uses = results.flatMap((r) => Object.values(r.ports).map((p) => ({ p, ...r })));
      let reused = 0;
      for (const a of uses) {
        expect(a.p >= range.lo && a.p <= range.hi).toBe(true);
        for (const b of uses) {
          if (a === b || a.p !== b.p) continue;
          reused++;
          expect(
            a.end < b.start || b.end < a.start,
            `port ${a.p}: ${a.lease} and ${b.lease} overlap`,
          ).toBe(true);
        }
      }
      expect(reused).toBeGreaterThan(0); // ports were handed on between tests, so the check had teeth
      // Every lease was released on teardown (none left for gc), nothing lives.
      expect(await list(registry)).toEqual([]);
      expect(await unreleased(registry)).toBe('0 leases would be removed, 0 live');
      // The path taken: one `serve` per worker and no other Node process, or the CLI per call.
      const workers = new Set(results.map((r) => r.pid)).size;
      const { count, serve } = calls(log);
      if (path === 'server') {
        expect(count).toEqual({ serve: workers });
        await until(() => !serve.some(alive), 'the servers to exit with their workers');
      } else expect(count).toEqual({ allocate: 32, release: 32 });
      expect(warningsIn(warned)).toEqual([]);
    });
  }

  it('a worker killed with kill -9 mid-test: its lease is reclaimed by the next allocation, its lease server exits', async () => {
    const range = await testRange(2);
    const log = join(tempDir(), 'cli.log');
    const registry = join(tempDir(), 'reg');
    const out = tempDir();
    const dir = project({
      'test_victim.py': `
import json, os, time
def test_victim(portlease):
    ports = portlease("A", "B", range=os.environ["PL_RANGE"], contiguous=True)
    with open(os.path.join(os.environ["PL_OUT"], "victim.json"), "w") as f:
        json.dump({"pid": os.getpid(), "lease": ports.lease, "ports": ports}, f)
    time.sleep(120)
`,
      'test_bystander.py': `
import os, time
def test_bystander():
    done = os.path.join(os.environ["PL_OUT"], "done")
    end = time.time() + 120
    while not os.path.exists(done) and time.time() < end:
        time.sleep(0.05)
`,
    });
    const tmp = tempDir();
    const child = pytest(dir, ['-n', '2', '--dist', 'load'], {
      TMPDIR: tmp, // where the plugin makes the server's private socket directory
      PORTLEASE_CLI: loggingCli(log),
      PORTLEASE_REGISTRY: registry,
      PL_OUT: out,
      PL_RANGE: `${range.lo}-${range.hi}`,
    });
    const done = collect(child);
    try {
      await until(() => existsSync(join(out, 'victim.json')), 'the victim test to lease');
      const victim = JSON.parse(readFileSync(join(out, 'victim.json'), 'utf8')) as Listed & {
        pid: number;
      };
      const [held] = await list(registry);
      expect(held?.lease).toBe(victim.lease);
      expect(held?.owner?.pid).toBe(victim.pid); // the xdist worker...
      expect(victim.pid).not.toBe(child.pid); // ...not pytest's controller
      const range2 = [
        '--range',
        `${range.lo}-${range.hi}`,
        '--contiguous',
        '--registry',
        registry,
        '--json',
      ];
      const busy = await cli(['allocate', 'C', 'D', ...range2]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/has no 2 free ports in a row; held by 1 lease/);
      // The victim leased through its worker's server: one `serve`, no other CLI run.
      const { count, serve } = calls(log);
      expect(count).toEqual({ serve: 1 });
      process.kill(victim.pid, 'SIGKILL');
      // pytest's controller lives on (the bystander runs): only the worker died.
      const next = await cli(['allocate', 'C', 'D', ...range2]);
      expect(next.code, next.stderr).toBe(0);
      const got = JSON.parse(next.stdout) as { lease: string; ports: Record<string, number> };
      expect(Object.values(got.ports)).toEqual(Object.values(victim.ports));
      expect(child.exitCode).toBeNull();
      // The worker's server saw EOF on the pipe the worker held (--exit-on-eof) and exited.
      await until(() => !alive(serve[0] ?? 0), "the dead worker's server to exit");
      expect((await cli(['release', '--lease', got.lease, '--registry', registry])).code).toBe(0);
    } finally {
      writeFileSync(join(out, 'done'), '');
    }
    const r = await done;
    // Nothing left in the temp directory: the socket file and its directory went once connected.
    expect(readdirSync(tmp).filter((f) => f.startsWith('portlease-pytest-'))).toEqual([]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/crashed while running .*test_victim/);
    expect(r.stdout).toMatch(/1 failed, 1 passed/);
  });

  it('portlease_session leases once per worker and releases at session end; CLI errors are one clear line', async () => {
    const range = await testRange(10);
    const registry = join(tempDir(), 'reg');
    const out = tempDir();
    const dir = project({
      'test_session.py': `
import json, os, pytest

@pytest.fixture(scope="session")
def services(portlease_session):
    return portlease_session("PG_PORT", range=os.environ["PL_RANGE"], ttl="1h", key=f"pg-{os.getpid()}")

@pytest.mark.parametrize("i", range(6))
def test_uses(services, i):
    with open(os.path.join(os.environ["PL_OUT"], f"{i}.json"), "w") as f:
        json.dump({"pid": os.getpid(), "lease": services.lease, "ports": services}, f)
`,
      'test_errors.py': `
def test_bad_range(portlease):
    portlease("WEB_PORT", range="abc")

def test_unknown_option(portlease):
    portlease("WEB_PORT", colour="blue")
`,
    });
    const r = await collect(
      pytest(dir, ['-n', '2'], {
        PORTLEASE_CLI: CLI,
        PORTLEASE_REGISTRY: registry,
        PL_OUT: out,
        PL_RANGE: `${range.lo}-${range.hi}`,
      }),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/2 failed, 6 passed/);
    expect(r.stdout).toContain(
      'E       pytest_portlease.PortleaseError: portlease: --range: "abc" is not a port range; use LO-HI with 1 <= LO <= HI <= 65535, like 20000-29999',
    );
    expect(r.stdout).toContain(
      "E       pytest_portlease.PortleaseError: portlease: allocate: unknown option --colour; see 'portlease allocate --help'",
    );
    const uses = readdirSync(out).map(
      (f) =>
        JSON.parse(readFileSync(join(out, f), 'utf8')) as {
          pid: number;
          lease: string;
          ports: Record<string, number>;
        },
    );
    expect(uses).toHaveLength(6);
    const byWorker = new Map<number, Set<string>>();
    for (const u of uses) byWorker.set(u.pid, (byWorker.get(u.pid) ?? new Set()).add(u.lease));
    for (const leases of byWorker.values()) expect(leases.size).toBe(1); // once per session
    expect(new Set(uses.map((u) => u.ports.PG_PORT)).size).toBe(byWorker.size);
    expect(await unreleased(registry)).toBe('0 leases would be removed, 0 live');
  });

  it('the lease server killed with kill -9 mid-session: live leases stay, one new server, then the CLI; the session passes', async () => {
    const range = await testRange(8);
    const registry = join(tempDir(), 'reg');
    const out = tempDir();
    const log = join(tempDir(), 'cli.log');
    const warned = join(tempDir(), 'warnings.jsonl');
    const dir = project({
      'conftest.py': WARNINGS_CONFTEST,
      'test_crash.py': `
import json, os, socket, time, pytest

OUT, RANGE = os.environ["PL_OUT"], os.environ["PL_RANGE"]

def note(name, ports):
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"pid": os.getpid(), "lease": ports.lease, "ports": ports}, f)

def wait_for(name):
    end = time.time() + 60
    while not os.path.exists(os.path.join(OUT, name)):
        assert time.time() < end, "no " + name
        time.sleep(0.05)

def bind(ports):
    for port in ports.values():
        with socket.socket() as s:
            s.bind(("0.0.0.0", port))
            s.listen()

@pytest.fixture(scope="session")
def early(portlease_session):
    return portlease_session("S", range=RANGE)

def test_1_held_across_the_kill(early, portlease):
    ports = portlease("A", range=RANGE)
    note("session", early)
    note("first", ports)
    wait_for("killed-1")
    bind(ports)
    bind(early)

def test_2_on_a_new_server(portlease):
    ports = portlease("B", range=RANGE)
    note("second", ports)
    wait_for("killed-2")
    bind(ports)

def test_3_through_the_cli(portlease):
    ports = portlease("C", range=RANGE)
    bind(ports)
`,
    });
    const child = pytest(dir, ['-p', 'no:xdist'], {
      PORTLEASE_CLI: loggingCli(log),
      PORTLEASE_REGISTRY: registry,
      PL_OUT: out,
      PL_RANGE: `${range.lo}-${range.hi}`,
      PL_WARNINGS: warned,
    });
    const done = collect(child);
    const read = (name: string): Listed =>
      JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')) as Listed;
    const held = async (): Promise<string[]> => (await list(registry)).map((l) => l.lease).sort();
    try {
      await until(() => existsSync(join(out, 'first.json')), 'the first test to lease');
      const [session, first] = [read('session'), read('first')];
      expect(calls(log)).toEqual({ count: { serve: 1 }, serve: [expect.any(Number)] });
      process.kill(calls(log).serve[0] ?? 0, 'SIGKILL');
      // The leases are the test process's, not the server's: they live on.
      expect(await held()).toEqual([session.lease, first.lease].sort());
      writeFileSync(join(out, 'killed-1'), '');

      await until(() => existsSync(join(out, 'second.json')), 'the second test to lease');
      const second = read('second');
      // One new server; the first test's lease, made by the dead one, released by the CLI.
      expect(calls(log).count).toEqual({ serve: 2, release: 1 });
      expect(await held()).toEqual([session.lease, second.lease].sort());
      process.kill(calls(log).serve[1] ?? 0, 'SIGKILL');
      expect(await held()).toEqual([session.lease, second.lease].sort());
    } finally {
      writeFileSync(join(out, 'killed-1'), '');
      writeFileSync(join(out, 'killed-2'), '');
    }
    const r = await done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 passed, 1 warning/);
    // A server that dies twice is not started a third time: the CLI from then on, one warning.
    const w = warningsIn(warned);
    expect(w).toHaveLength(1);
    expect(w[0]?.category).toBe('PortleaseWarning');
    expect(w[0]?.message).toContain(
      'portlease: the lease server is not used (the server died twice); each lease and release runs the CLI instead',
    );
    expect(w[0]?.nodeid).toMatch(/test_3_through_the_cli/);
    expect(calls(log).count).toEqual({ serve: 2, allocate: 1, release: 4 });
    expect(await list(registry)).toEqual([]);
    expect(await unreleased(registry)).toBe('0 leases would be removed, 0 live');
  });

  it('a fixture call that times out raises one line; the lease the server makes late is released, not left to the worker', async () => {
    const range = await testRange(2);
    const registry = join(tempDir(), 'reg');
    const log = join(tempDir(), 'cli.log');
    const dir = project({
      'test_late.py': `
import json, os, subprocess, time, pytest, pytest_portlease
from pytest_portlease import PortleaseError

LO, HI = (int(p) for p in os.environ["PL_RANGE"].split("-"))

def cli(*args):
    cmd = pytest_portlease.find_cli() + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

def held():
    return [l["ports"] for l in json.loads(cli("list", "--json"))]

def until(what, check):
    end = time.time() + 30
    while not check():
        assert time.time() < end, what
        time.sleep(0.05)

def test_late(portlease):
    blocker = json.loads(cli("allocate", "X", "--range", f"{LO}-{LO}", "--owner", "none", "--json"))
    with pytest.raises(PortleaseError, match=r"^portlease: allocate took longer than 1s$"):
        portlease("A", range=f"{LO}-{LO}", wait="60s", timeout=1)
    cli("release", "--lease", blocker["lease"])
    # The server's wait sees the release and leases the port to this process, for no one.
    until("the late lease", lambda: held() == [{"A": LO}])
    assert portlease("B", range=f"{HI}-{HI}") == {"B": HI}
    until("the late lease's release", lambda: held() == [{"B": HI}])
`,
    });
    const r = await collect(
      pytest(dir, ['-p', 'no:xdist'], {
        PORTLEASE_CLI: loggingCli(log),
        PORTLEASE_REGISTRY: registry,
        PL_RANGE: `${range.lo}-${range.hi}`,
      }),
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 passed in/);
    expect(calls(log).count.serve).toBe(1);
    expect(await list(registry)).toEqual([]);
    expect(await unreleased(registry)).toBe('0 leases would be removed, 0 live');
  });

  it('where `serve` fails or never gets ready: one warning per process, every fixture call through the CLI', async () => {
    const range = await testRange(4);
    const registry = join(tempDir(), 'reg');
    const dir = project({
      'conftest.py': WARNINGS_CONFTEST,
      'test_fallback.py': `
import os, socket, pytest

RANGE = os.environ["PL_RANGE"]

@pytest.fixture(scope="session")
def early(portlease_session):
    return portlease_session("S", range=RANGE)

@pytest.mark.parametrize("i", range(3))
def test_leases(early, portlease, i):
    ports = portlease("A", "B", range=RANGE)
    assert len(set(ports.values()) | {early["S"]}) == 3
    for port in ports.values():
        with socket.socket() as s:
            s.bind(("0.0.0.0", port))
`,
    });
    // A CLI without `serve` (exit 2), and one whose `serve` never prints its ready line.
    const slow = join(tempDir(), 'portlease');
    writeFileSync(
      slow,
      `#!/bin/sh\nif [ "$1" = serve ]; then exec sleep 60; fi\nexec '${NODE}' '${CLI}' "$@"\n`,
      { mode: 0o755 },
    );
    for (const [cli, why] of [
      [null, 'serve exited with status 2: portlease: unknown command "serve"; use allocate'],
      [slow, 'serve printed no ready line within 10s'],
    ] as const) {
      const log = join(tempDir(), 'cli.log');
      const warned = join(tempDir(), 'warnings.jsonl');
      const r = await collect(
        pytest(dir, ['-p', 'no:xdist'], {
          PORTLEASE_CLI: cli ?? loggingCli(log, true),
          PORTLEASE_REGISTRY: registry,
          PL_RANGE: `${range.lo}-${range.hi}`,
          PL_WARNINGS: warned,
        }),
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/3 passed, 1 warning/);
      const w = warningsIn(warned);
      expect(w).toHaveLength(1);
      expect(w[0]?.category).toBe('PortleaseWarning');
      expect(w[0]?.message).toContain(`portlease: the lease server is not used (${why}`);
      expect(w[0]?.message).toContain('PORTLEASE_PYTEST_SERVER=0');
      if (cli === null) expect(calls(log).count).toEqual({ serve: 1, allocate: 4, release: 4 });
      expect(await list(registry)).toEqual([]);
      expect(await unreleased(registry)).toBe('0 leases would be removed, 0 live');
    }
  });

  for (const path of ['server', 'cli'] as const) {
    it(`a lease that was there before (the same key) is handed back and left to its owner (${path})`, async () => {
      const range = await testRange(4);
      const registry = join(tempDir(), 'reg');
      const dir = project({
        'test_shared.py': `
import json, os, subprocess, pytest, pytest_portlease

RANGE = os.environ["PL_RANGE"]

@pytest.fixture(scope="session")
def shared(portlease_session):
    return portlease_session("PG_PORT", key="shared-pg", range=RANGE)

def live():
    cli = pytest_portlease.find_cli()
    r = subprocess.run(cli + ["list", "--json"], capture_output=True, text=True, check=True)
    return [l["lease"] for l in json.loads(r.stdout)]

def test_a_same_key(shared, portlease):
    again = portlease("PG_PORT", key="shared-pg", range=RANGE)
    assert (again.lease, again) == (shared.lease, shared)

def test_b_still_held(shared):
    assert live() == [shared.lease]  # test_a's teardown left the session's lease alone
`,
      });
      const r = await collect(
        pytest(dir, ['-p', 'no:xdist'], {
          PORTLEASE_CLI: CLI,
          PORTLEASE_REGISTRY: registry,
          PL_RANGE: `${range.lo}-${range.hi}`,
          ...(path === 'cli' ? { PORTLEASE_PYTEST_SERVER: '0' } : {}),
        }),
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/2 passed/);
      expect(await list(registry)).toEqual([]); // released by the session fixture, its owner
      expect(await unreleased(registry)).toBe('0 leases would be removed, 0 live');
    });
  }

  it('finds the CLI through PORTLEASE_CLI, then PATH, then node_modules/.bin, then the npm package it ships in', () => {
    const find = 'import os, pytest_portlease as p; print(" ".join(p.find_cli(os.getcwd())))';
    const cwd = tempDir();
    // 1. PORTLEASE_CLI (a .js file runs with node).
    expect(run(venvPython, ['-c', find], baseEnv({ PORTLEASE_CLI: CLI }), cwd).out.trim()).toBe(
      `${NODE} ${CLI}`,
    );
    // 2. portlease on PATH.
    const bin = tempDir();
    symlinkSync(CLI, join(bin, 'portlease'));
    const onPath = baseEnv({ PATH: `${bin}:${PATH}` });
    expect(run(venvPython, ['-c', find], onPath, cwd).out.trim()).toBe(join(bin, 'portlease'));
    // 3. node_modules/.bin/portlease in the rootdir or above (npm install portlease in the project).
    const nested = join(cwd, 'tests', 'unit');
    mkdirSync(nested, { recursive: true });
    mkdirSync(join(cwd, 'node_modules/.bin'), { recursive: true });
    symlinkSync(CLI, join(cwd, 'node_modules/.bin/portlease'));
    expect(run(venvPython, ['-c', find], baseEnv(), nested).out.trim()).toBe(
      join(cwd, 'node_modules/.bin/portlease'),
    );
    // 4. The plugin inside the npm package (or this checkout): ../dist/cli/index.js.
    const checkout = run(
      PYTHON,
      ['-c', find],
      baseEnv({ PYTHONPATH: join(ROOT, 'python') }),
      tempDir(),
    );
    expect(checkout.out.trim()).toBe(`${NODE} ${CLI}`);
    // None of them: one clear line.
    const none = run(venvPython, ['-c', find], baseEnv(), tempDir());
    expect(none.code).toBe(1);
    expect(none.out).toMatch(
      /PortleaseError: portlease: CLI not found: set PORTLEASE_CLI, put portlease on PATH/,
    );
  });

  it('the plugin ships in the npm package and its version is the package version', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
      files: string[];
    };
    const pyproject = readFileSync(join(ROOT, 'python/pyproject.toml'), 'utf8');
    expect(pyproject).toContain(`version = "${pkg.version}"`);
    expect(pyproject).toMatch(/dependencies = \["pytest>=7"\]/);
    expect(pyproject).toMatch(
      /\[project\.entry-points\.pytest11\]\nportlease = "pytest_portlease"/,
    );
    expect(pkg.files).toContain('python/pytest_portlease/*.py');
  });
});
