/**
 * Every bad input: one clear line naming the input, exit 2, no stack trace, and the
 * registry unchanged byte for byte.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, snapshot, tempDir, testRange } from '../helpers.js';

let dir = '';
let base = '';
let range = '';
const sleeper = spawn('sleep', ['600']);
afterAll(() => sleeper.kill());

beforeAll(async () => {
  const r = await testRange(10);
  range = `${r.lo}-${r.hi}`;
  base = tempDir();
  dir = join(base, 'reg');
  const first = await cli([
    'allocate',
    'WEB',
    '--registry',
    dir,
    '--range',
    range,
    '--owner-pid',
    String(sleeper.pid),
  ]);
  expect(first.code).toBe(0);
  writeFileSync(join(base, 'a-file'), 'not a directory');
  mkdirSync(join(base, 'real'));
  symlinkSync(join(base, 'real'), join(base, 'a-link'));
});

// [arguments, what the one line must mention]
const cases: [string[], RegExp][] = [
  [['allocate', 'A', '--range', '30000-20000'], /--range: "30000-20000" is reversed; use LO-HI/],
  [['allocate', 'A', '--range', '0-100'], /--range: "0-100" is outside 1-65535/],
  [['allocate', 'A', '--range', '1000-70000'], /--range: "1000-70000" is outside 1-65535/],
  [['allocate', 'A', '--range', 'high'], /--range: "high" is not a port range/],
  [['allocate', 'A', '--range', '20000-'], /--range: "20000-" is not a port range/],
  [['allocate', 'A', '--range'], /--range: needs a value/],
  [['allocate', '1ABC'], /NAME: "1ABC" is not a valid name/],
  [['allocate', 'WEB-PORT'], /NAME: "WEB-PORT" is not a valid name/],
  [['allocate', 'A\nB=1'], /NAME: "A\\nB=1" is not a valid name/],
  [['allocate', 'A', 'B', 'A'], /NAME: "A" is named twice/],
  [['allocate'], /allocate: no port names given/],
  [['allocate', 'A', '--ttl', '0'], /--ttl: "0" is zero/],
  [['allocate', 'A', '--ttl', '5x'], /--ttl: "5x" is not a duration/],
  [['allocate', 'A', '--ttl=-1h'], /--ttl: "-1h" is not a duration/],
  [['allocate', 'A', '--ttl', '400d'], /--ttl: "400d" is longer than 366d/],
  [['allocate', 'A', '--wait', 'soon'], /--wait: "soon" is not a duration/],
  [
    ['allocate', 'A', '--strategy', 'fastest'],
    /--strategy: "fastest" is not a strategy; use hash, random, sequential/,
  ],
  [['allocate', 'A', '--owner-pid', 'abc'], /--owner-pid: "abc" is not a process id/],
  [['allocate', 'A', '--owner-pid', '0'], /--owner-pid: "0" is not a process id/],
  [['allocate', 'A', '--owner-pid', '4000000'], /--owner-pid: no process 4000000 is running/],
  [['allocate', '--count', '0'], /--count: 0 is out of bounds; give 1 to 256/],
  [['allocate', '--count', 'many'], /--count: "many" is not a whole number/],
  [['allocate', '--count', '3', 'A'], /--count: give either NAMEs or --count N, not both/],
  [['allocate', 'A', '--key', 'a\nb'], /--key: "a\\nb" is not a valid key/],
  [['allocate', 'A', '--contiguous=yes'], /--contiguous: takes no value/],
  [['allocate', 'A', '--frobnicate'], /allocate: unknown option --frobnicate/],
  [
    ['alocate', 'A'],
    /unknown command "alocate"; use allocate, release, list, gc, exec, service, serve or portserver/,
  ],
  [['release'], /release: give exactly one of --key KEY or --lease ID/],
  [['release', '--key', 'k', '--lease', 'pl_abcdefgh'], /release: give exactly one of/],
  [['release', '--lease', '42'], /--lease: "42" is not a lease id/],
  [['list', 'extra'], /list: unexpected argument "extra"/],
  [['gc', '--force'], /gc: unknown option --force/],
  [['exec', 'A', 'npm', 'test'], /exec: no command given; put it after '--'/],
  [['exec', '9A', '--', 'true'], /NAME: "9A" is not a valid name/],
];

describe('bad input', () => {
  it.each(cases)('%j is refused with one clear line', async (args, message) => {
    const before = snapshot(base);
    const needsRange = args[0] === 'allocate' || args[0] === 'exec';
    const extra = [
      '--registry',
      dir,
      ...(needsRange && !args.includes('--range') ? ['--range', range] : []),
    ];
    const dash = args.indexOf('--');
    const full =
      dash < 0 ? [...args, ...extra] : [...args.slice(0, dash), ...extra, ...args.slice(dash)];
    const r = await cli(full);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^portlease: /);
    expect(lines[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(snapshot(base)).toEqual(before);
  });

  it.each([
    ['a-file', /registry: .*a-file exists and is not a directory/],
    ['a-link', /registry: .*a-link is a symlink; portlease never follows one there/],
  ])('a registry path that is %s is refused', async (name, message) => {
    const before = snapshot(base);
    for (const cmd of [
      ['allocate', 'A', '--range', range],
      ['list'],
      ['gc'],
      ['release', '--key', 'k'],
    ]) {
      const r = await cli([...cmd, '--registry', join(base, name)]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(snapshot(base)).toEqual(before);
  });

  it.each(['/proc/portlease-nope', '/proc/portlease-nope/deeper'])(
    'a registry where no directory can be made (%s) fails at once with one line',
    async (dir) => {
      // Node's mkdirSync(recursive) retries forever there; each command must answer.
      for (const cmd of [['allocate', 'A', '--range', range], ['gc'], ['release', '--key', 'k']]) {
        const r = await cli([...cmd, '--registry', dir]);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toContain(`registry ${dir}: ENOENT`);
      }
    },
    60_000,
  );

  it('prints help and version', async () => {
    const v = await cli(['--version']);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    for (const cmd of ['allocate', 'release', 'list', 'gc', 'exec']) {
      const h = await cli([cmd, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toContain(`portlease ${cmd}`);
    }
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage:');
  });
});
