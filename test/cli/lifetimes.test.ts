/**
 * The default owner outlives its caller (docs/lifetimes.md). Each idiom runs from a bash
 * script started in its own session (setsid), exactly as a user's script, hook or CI job
 * would be: while the script runs, a second allocator on the same one-port range is
 * refused; after the script and its processes have exited, the port can be leased again.
 * Real processes, real shells, real make, npx, python, git and sshd.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, CLI, collect, NODE, ROOT, tempDir, testRange } from '../helpers.js';
import { describeWith, sshd } from '../prerequisites.js';
import { requireTool } from '../core/host-tools.js';
import {
  expectFree,
  expectHeld,
  listJson,
  portleaseBin,
  running,
  startScript,
  until,
  userEnv,
} from './shell.js';

async function oneRange(): Promise<string> {
  const r = await testRange(1);
  return `${r.lo}-${r.hi}`;
}

const work = tempDir(true);

/** A project that depends on portlease, so `npx portlease` runs its bin. */
function npxProject(): string {
  const dir = join(work, 'npx-project');
  mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"app","private":true}\n');
  symlinkSync(ROOT, join(dir, 'node_modules/portlease'));
  symlinkSync('../portlease/dist/cli/index.js', join(dir, 'node_modules/.bin/portlease'));
  return dir;
}

const GIT = [
  '-c',
  'user.name=t',
  '-c',
  'user.email=t@example.com',
  '-c',
  'init.defaultBranch=main',
];

/** A repository whose post-checkout hook leases a port into $OUT. */
function hookRepo(): string {
  const repo = join(work, 'hook-repo');
  execFileSync('git', [...GIT, 'init', '-q', repo]);
  execFileSync('git', [...GIT, '-C', repo, 'commit', '-q', '--allow-empty', '-m', 'init']);
  const hook = join(repo, '.git/hooks/post-checkout');
  writeFileSync(hook, '#!/bin/sh\nportlease allocate A --range "$R" > "$OUT"\n');
  chmodSync(hook, 0o755);
  return repo;
}

let npxDir = '';
let repo = '';
beforeAll(() => {
  npxDir = npxProject();
  repo = hookRepo();
  writeFileSync(join(work, 'recipe.mk'), 'ports:\n\tportlease allocate A --range $(R) > $(OUT)\n');
  writeFileSync(
    join(work, 'shell.mk'),
    'PORT := $(shell portlease allocate A --range $(R) | cut -d= -f2)\nshow:\n\t@echo $(PORT)\n',
  );
});

/**
 * Each idiom leaves the port in $P. $R is the one-port range, $W a scratch directory.
 * Every one of them lost its lease at once when the owner was the calling process.
 */
const IDIOMS: [string, string][] = [
  ['x=$(portlease allocate … | cut …)', 'P=$(portlease allocate A --range $R | cut -d= -f2)'],
  ['eval "$(portlease allocate … 2>&1)"', 'eval "$(portlease allocate A --range $R 2>&1)"; P=$A'],
  [
    'eval "$(portlease allocate … 2>/dev/null)"',
    'eval "$(portlease allocate A --range $R 2>/dev/null)"; P=$A',
  ],
  [
    'eval "$(portlease allocate … --json | jq …)"',
    `eval "$(portlease allocate A --range $R --json | jq -r '"A=\\(.ports.A)"')"; P=$A`,
  ],
  [
    'v=$(portlease allocate … || echo FAIL)',
    'v=$(portlease allocate A --range $R || echo FAIL); P=${v#A=}',
  ],
  [
    "sh -c 'portlease allocate …'",
    `P=$(sh -c 'portlease allocate A --range "$1"' sh $R | cut -d= -f2)`,
  ],
  [
    'a pipeline into a file',
    'portlease allocate A --range $R | tee $W/p.env | cat >/dev/null; . $W/p.env; P=$A',
  ],
  ['a subshell', '( portlease allocate A --range $R > $W/p.env ); . $W/p.env; P=$A'],
  [
    'npx portlease …',
    'P=$(cd "$NPXDIR" && npx --offline portlease allocate A --range $R | cut -d= -f2)',
  ],
  [
    'Python subprocess.run(…, shell=True)',
    `P=$(/usr/bin/python3 -c 'import subprocess, sys
r = subprocess.run("portlease allocate A --range " + sys.argv[1], shell=True, check=True, capture_output=True, text=True)
print(r.stdout.strip().split("=")[1])' $R)`,
  ],
  [
    'Node child_process.execSync',
    `P=$("$NODE" -e 'const { execSync } = require("node:child_process");
process.stdout.write(execSync("portlease allocate A --range " + process.argv[1]).toString().split("=")[1])' $R)`,
  ],
  ['a Makefile recipe line', 'make -s -f "$WORK/recipe.mk" R=$R OUT=$W/p.env; . $W/p.env; P=$A'],
  ['Makefile $(shell …)', 'P=$(make -s -f "$WORK/shell.mk" R=$R show)'],
  [
    'setsid portlease … (its own session ends with it)',
    'P=$(setsid portlease allocate A --range $R | cut -d= -f2)',
  ],
  [
    'a git post-checkout hook',
    'OUT=$W/p.env git -C "$REPO" checkout -q -b "b$$"; . $W/p.env; P=$A',
  ],
];

describe('the default owner outlives the idiom that called portlease', () => {
  it.each(IDIOMS)('%s', async (_name, idiom) => {
    const range = await oneRange();
    const dir = join(tempDir(), 'reg');
    const w = tempDir();
    const env = userEnv(dir, { R: range, W: w, WORK: work, NPXDIR: npxDir, REPO: repo, NODE });
    const script = startScript(`set -e\n${idiom}\necho "READY $P"\nread _ || true\n`, env);
    const ready = await script.line('READY ');
    expect(ready).toBe(`READY ${range.split('-')[0] ?? ''}`);
    // The lease is the script's session's, whatever short-lived process called portlease.
    const [lease] = await listJson(dir);
    expect(lease?.owner).toMatchObject({ kind: 'session', sid: script.child.pid });
    await expectHeld(range, dir);
    const r = await script.finish();
    expect(r.code).toBe(0);
    await expectFree(range, dir);
  });
});

describeWith(sshd(), 'an ssh one-liner that leaves a server running', () => {
  const sshDir = tempDir();
  let sshd: ReturnType<typeof spawn> | undefined;
  let port = 0;
  beforeAll(async () => {
    port = (await testRange(1)).lo;
    mkdirSync('/run/sshd', { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshDir, 'host')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshDir, 'client')]);
    writeFileSync(join(sshDir, 'authorized_keys'), readFileSync(join(sshDir, 'client.pub')));
    writeFileSync(
      join(sshDir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(sshDir, 'host')}`,
        `AuthorizedKeysFile ${join(sshDir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'StrictModes no',
        'UsePAM no',
        `PidFile ${join(sshDir, 'sshd.pid')}`,
        '',
      ].join('\n'),
    );
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(sshDir, 'sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    sshd.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    await until(() => log.includes('Server listening'), 15_000);
  });
  afterAll(() => {
    sshd?.kill();
  });

  it('the lease lives in the ssh session while the server runs, then is reclaimable', async () => {
    const range = await oneRange();
    const dir = join(tempDir(true), 'reg');
    const shim = join(portleaseBin(), 'portlease');
    const server = `"${NODE}" -e 'require("node:net").createServer().listen(+process.argv[1], () => console.log("listening"))'`;
    const remote = `P=$(${shim} allocate A --range ${range} --registry ${dir} | cut -d= -f2); nohup ${server} $P >${dir}.server.log 2>&1 & echo "pid $! port $P"`;
    const script = startScript(
      `ssh -q -i "${join(sshDir, 'client')}" -p ${port} -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@127.0.0.1 '${remote.replace(/'/g, `'\\''`)}'\nread _\n`,
      userEnv(dir),
    );
    const line = await script.line('pid ');
    const pid = Number(/pid (\d+)/.exec(line)?.[1]);
    expect(line).toContain(`port ${range.split('-')[0] ?? ''}`);
    await script.finish(); // ssh and the script are gone; the server is not
    await until(() => readFileSync(`${dir}.server.log`, 'utf8').includes('listening'));
    const [lease] = await listJson(dir);
    expect(lease?.owner).toMatchObject({ kind: 'session' });
    await expectHeld(range, dir);
    process.kill(pid, 'SIGTERM');
    await until(() => !running(pid));
    await expectFree(range, dir);
  });
});

describe('a `run:` step of GitHub Actions', () => {
  it('is owned by the Runner.Worker ancestor, not the step shell in its own session', async () => {
    const range = await oneRange();
    const dir = join(tempDir(), 'reg');
    // A stand-in worker: a program whose process name (comm) is Runner.Worker. It runs the
    // step as the runner does, in a shell of its own session, waits for it, and lives on
    // until its stdin closes. (Node renames its main thread, so this one is a bash script.)
    const bin = tempDir();
    const workerFile = join(bin, 'Runner.Worker');
    writeFileSync(
      workerFile,
      '#!/bin/bash\nsetsid bash -c "$STEP"\necho "step $?"\nread _ || true\n',
    );
    chmodSync(workerFile, 0o755);
    const step = `portlease allocate A --range ${range}; echo step-shell=$$`;
    const worker = spawn(workerFile, [], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: userEnv(dir, { GITHUB_ACTIONS: 'true', STEP: step }),
    });
    let out = '';
    worker.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = collect(worker);
    await until(() => out.includes('step ') || worker.exitCode !== null);
    expect(out).toMatch(
      new RegExp(`^A=${range.split('-')[0] ?? ''}\\nstep-shell=\\d+\\nstep 0\\n$`),
    );
    expect(readFileSync(`/proc/${worker.pid ?? 0}/comm`, 'utf8').trim()).toBe('Runner.Worker');
    const [lease] = await listJson(dir);
    expect(lease?.owner).toMatchObject({ kind: 'process', pid: worker.pid });
    const table = await cli(['list', '--registry', dir]);
    expect(table.stdout).toContain(`pid ${worker.pid ?? 0} (Runner.Worker)`);
    // The step (and its session) are gone; the job goes on: later steps use the port.
    await expectHeld(range, dir);
    worker.stdin.end();
    await done;
    await expectFree(range, dir);
  });

  it('with GITHUB_ACTIONS=true but no Runner.Worker to be seen, the lease is TTL only', async () => {
    const range = await oneRange();
    const dir = join(tempDir(), 'reg');
    const r = await cli(['allocate', 'A', '--range', range, '--registry', dir, '--json'], {
      env: userEnv(dir, { GITHUB_ACTIONS: 'true', PORTLEASE_DEBUG: '1' }),
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('no Runner.Worker among the ancestors');
    expect((JSON.parse(r.stdout) as { owner: unknown }).owner).toBeNull();
  });
});

describe('explicit owners', () => {
  it('--owner session:SID and --owner pid:N (alias --owner-pid) are shown readably', async () => {
    const range = await testRange(3);
    const dir = join(tempDir(), 'reg');
    const script = startScript('echo "READY $$"; read _\n', userEnv(dir));
    const sid = Number((await script.line('READY ')).split(' ')[1]);
    const rr = `${range.lo}-${range.hi}`;
    const a = await cli([
      'allocate',
      'A',
      '--range',
      rr,
      '--registry',
      dir,
      '--owner',
      `session:${sid}`,
    ]);
    const b = await cli([
      'allocate',
      'B',
      '--range',
      rr,
      '--registry',
      dir,
      '--owner-pid',
      String(sid),
    ]);
    const c = await cli([
      'allocate',
      'C',
      '--range',
      rr,
      '--registry',
      dir,
      '--owner',
      'none',
      '--ttl',
      '1h',
    ]);
    expect([a.code, b.code, c.code]).toEqual([0, 0, 0]);
    const table = (await cli(['list', '--registry', dir])).stdout;
    expect(table).toContain(`session ${sid} (bash)`);
    expect(table).toContain(`pid ${sid} (bash)`);
    expect(table).toContain('none (TTL only)');
    await script.finish();
    const left = await listJson(dir);
    expect(left.map((l) => Object.keys(l.ports)[0])).toEqual(['C']);
  });

  it('refuses bad --owner values with one line, before anything is leased', async () => {
    const dir = join(tempDir(), 'reg');
    const cases: [string[], RegExp][] = [
      [
        ['--owner', 'pidd:3'],
        /^portlease: --owner: "pidd:3" is not an owner; use pid:N, dir:PATH, none, session, session:SID or job$/,
      ],
      [
        ['--owner', 'dir:/no/such/dir'],
        /^portlease: --owner: dir:\/no\/such\/dir does not exist; name an existing directory$/,
      ],
      [['--owner', `dir:${CLI}`], /is not a directory/],
      [['--owner', 'pid:x'], /^portlease: --owner pid: "x" is not a process id/],
      [
        ['--owner', 'session:999999999'],
        /^portlease: --owner: no process is in session 999999999$/,
      ],
      [
        ['--owner', 'job'],
        /^portlease: --owner: job: no Runner.Worker process among this process's ancestors/,
      ],
      [['--owner', 'none', '--owner-pid', '1'], /give either --owner or --owner-pid/],
      [
        ['--owner', 'none', '--write', '/no/such/dir/ports.json', '--ttl', '1m'],
        /^portlease: --write: directory \/no\/such\/dir does not exist/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['allocate', 'A', '--registry', dir, ...args], { env: userEnv(dir) });
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(dir)).toBe(false); // nothing was touched
  });
});

describe('a session outside this pid namespace', () => {
  it('(session id 0): the default owner is none (TTL only); --owner session is refused with one line', async () => {
    requireTool('unshare');
    const range = await oneRange();
    const dir = join(tempDir(), 'reg');
    // In a new pid namespace the session's leader lies outside: getsid() reads 0 there, as
    // in a container whose runtime gave the process no session. No session to watch.
    const inNamespace = (args: string[], env: NodeJS.ProcessEnv) =>
      collect(
        spawn('unshare', ['-p', '-f', '--mount-proc', NODE, CLI, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env,
        }),
      );
    const base = ['allocate', 'A', '--range', range, '--registry', dir];
    const refused = await inNamespace([...base, '--owner', 'session'], userEnv(dir));
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      "portlease: --owner: session: this process's session lies outside this pid namespace (its session id reads 0); use pid:N, dir:PATH or none",
    );
    expect(existsSync(dir)).toBe(false); // refused before anything was touched
    const r = await inNamespace(
      [...base, '--ttl', '1m', '--json'],
      userEnv(dir, { PORTLEASE_DEBUG: '1' }),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      "the caller's session (0) lies outside this pid namespace: TTL only",
    );
    expect((JSON.parse(r.stdout) as { owner: unknown }).owner).toBeNull();
  });
});
