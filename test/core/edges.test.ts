/**
 * CLI edges: key reuse that must not walk the prototype chain, stdout that cannot be
 * written, exec on a full disk and under stray signals, names that would clobber the
 * environment, and durations that say a unit twice.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseServiceSpec as parseContainerInputs } from '../../src/engines/spec.js';
import { checkNames, parseDuration, UsageError } from '../../src/core/index.js';
import { cli, CLI, collect, NODE, parsePorts, tempDir, testRange } from '../helpers.js';
import { isRoot, listed } from './host-tools.js';

describe('key reuse', () => {
  it('a name like "constructor" is not taken for one of the lease’s own names', async () => {
    const r = await testRange(3);
    const dir = join(tempDir(), 'reg');
    const range = `${r.lo}-${r.hi}`;
    const a = await cli([
      'allocate',
      'A',
      'B',
      '--key',
      'k',
      '--range',
      range,
      '--ttl',
      '1m',
      '--registry',
      dir,
    ]);
    expect(a.code).toBe(0);
    const b = await cli([
      'allocate',
      'A',
      'constructor',
      '--key',
      'k',
      '--range',
      range,
      '--ttl',
      '1m',
      '--registry',
      dir,
    ]);
    // The key grows by the one name it lacks: "constructor" is a new name, never read off
    // the prototype chain as if the lease held it.
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    const first = parsePorts(a.stdout);
    const second = parsePorts(b.stdout);
    expect(Object.keys(second)).toEqual(['A', 'constructor']);
    expect(second.A).toBe(first.A);
    expect(Number.isInteger(second.constructor)).toBe(true);
    expect([first.A, first.B]).not.toContain(second.constructor);
  });
});

describe('stdout that cannot be written', () => {
  it('allocate > /dev/full: one line, exit 1, and the lease it made is released', async () => {
    const r = await testRange(1);
    const dir = join(tempDir(), 'reg');
    const full = openSync('/dev/full', 'w');
    try {
      const res = await collect(
        spawn(
          NODE,
          [CLI, 'allocate', 'A', '--range', String(r.lo), '--ttl', '1m', '--registry', dir],
          {
            stdio: ['ignore', full, 'pipe'],
          },
        ),
      );
      expect(res.code).toBe(1);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr.trim()).toMatch(
        /^portlease: stdout: cannot write the ports \(ENOSPC\); released lease pl_\w+$/,
      );
    } finally {
      closeSync(full);
    }
    expect(await listed(dir)).toEqual([]);
  });
});

describe.runIf(isRoot)('exec on a full disk', () => {
  const mnt = join(tempDir(), 'tiny');
  let mounted = false;
  afterAll(() => {
    if (mounted) spawnSync('umount', ['-l', mnt]);
  });

  it("keeps the command's exit status when the final release cannot be written", async () => {
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
    mounted = true;
    const r = await testRange(1);
    const fill = `i=0; while dd if=/dev/zero of=${mnt}/fill$i bs=4k count=1 2>/dev/null; do i=$((i+1)); done; exit 3`;
    const res = await cli([
      'exec',
      'A',
      '--range',
      String(r.lo),
      '--registry',
      join(mnt, 'reg'),
      '--',
      'sh',
      '-c',
      fill,
    ]);
    expect(res.code).toBe(3);
    expect(res.stderr.trim().split('\n').at(-1)).toMatch(
      /^portlease: warning: exec: could not release pl_\w+: registry .*: no space left on device \(ENOSPC\); nothing was changed; it ends once its tree is gone/,
    );
  });
});

describe('exec and stray signals', () => {
  it('SIGQUIT, SIGUSR1 and SIGUSR2 go to the command; exec lives on and no inspector opens', async () => {
    const r = await testRange(1);
    const dir = join(tempDir(), 'reg');
    const script = [
      'for s in QUIT USR1 USR2; do trap "echo got $s" $s; done',
      'echo ready',
      // wait returns early on a trapped signal: wait until told to stop
      'while [ ! -e "$STOP" ]; do sleep 0.05; done',
      'exit 7',
    ].join('\n');
    const stop = join(tempDir(), 'stop');
    const child = spawn(
      NODE,
      [CLI, 'exec', 'A', '--range', String(r.lo), '--registry', dir, '--', 'sh', '-c', script],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, STOP: stop },
      },
    );
    const done = collect(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const until = async (text: string): Promise<void> => {
      const end = Date.now() + 20_000;
      while (!out.includes(text)) {
        if (Date.now() > end) throw new Error(`no "${text}" in ${JSON.stringify(out)}`);
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    await until('ready');
    for (const sig of ['SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) {
      child.kill(sig);
      await until(`got ${sig.slice(3)}`);
      expect(child.exitCode).toBeNull();
    }
    // Nothing listens where the inspector would.
    const inspector = await new Promise<string>((resolve) => {
      const s = connect({ port: 9229, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve('open');
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        resolve(e.code ?? 'error');
      });
    });
    expect(inspector).toBe('ECONNREFUSED');
    expect((await listed(dir)).length).toBe(1);
    writeFileSync(stop, '');
    const res = await done;
    expect(res.code).toBe(7);
    expect(res.stderr).not.toMatch(/Debugger/);
    expect(await listed(dir)).toEqual([]);
  });

  it('SIGUSR1 to allocate --wait opens no inspector and does not end it', async () => {
    const r = await testRange(1);
    const dir = join(tempDir(), 'reg');
    const holder = await cli([
      'allocate',
      'A',
      '--range',
      String(r.lo),
      '--ttl',
      '2s',
      '--registry',
      dir,
    ]);
    expect(holder.code).toBe(0);
    const child = spawn(
      NODE,
      [
        CLI,
        'allocate',
        'B',
        '--range',
        String(r.lo),
        '--ttl',
        '1m',
        '--wait',
        '20s',
        '--registry',
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const done = collect(child);
    await new Promise((res) => setTimeout(res, 700));
    child.kill('SIGUSR1');
    const res = await done;
    expect(res.stderr).not.toMatch(/Debugger/);
    expect(res.code).toBe(0);
    expect(parsePorts(res.stdout).B).toBe(r.lo);
  }, 40_000);
});

describe('names every entry point refuses', () => {
  it.each([['PATH'], ['LD_PRELOAD'], ['NODE_OPTIONS'], ['GITHUB_TOKEN'], ['home']])(
    '%s is refused by the CLI, the core and the container step alike',
    async (name) => {
      const dir = join(tempDir(), 'reg');
      const a = await cli(['allocate', name, '--ttl', '1m', '--registry', dir]);
      expect(a.code).toBe(2);
      expect(a.stderr.trim()).toMatch(new RegExp(`^portlease: NAME: "${name}" is reserved \\(`));
      const e = await cli(['exec', name, '--ttl', '1m', '--registry', dir, '--', 'true']);
      expect(e.code).toBe(2);
      expect(() => checkNames([name], 'ports')).toThrow(UsageError);
      expect(() =>
        parseContainerInputs({
          image: 'busybox',
          'container-port': '80',
          args: '',
          name,
          env: '',
          options: '',
          'health-cmd': '',
          health: '',
          'health-timeout': '',
          engine: '',
          pull: '',
        }),
      ).toThrow(/^name: .* is reserved/);
    },
  );
});

describe('durations', () => {
  it.each([['1d1d'], ['1m1h'], ['1s1s'], ['30m2h'], ['5ms1s']])('%s is refused', async (text) => {
    expect(() => parseDuration(text, '--ttl')).toThrow(/give each unit once, largest first/);
    const a = await cli(['allocate', 'A', '--ttl', text, '--registry', join(tempDir(), 'reg')]);
    expect(a.code).toBe(2);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('each unit once, largest first, is accepted', () => {
    expect(parseDuration('1d2h3m4s5ms', 'x')).toBe(93_784_005);
    expect(parseDuration('1h30m', 'x')).toBe(5_400_000);
  });
});
