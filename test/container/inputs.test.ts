/**
 * The container step's inputs: the shell-words splitter and every checked input, in
 * process; then bad inputs through the built bundle under a stand-in runner worker: one
 * clear error naming the input, no stack trace, registry untouched, no container.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseServiceSpec as parseContainerInputs,
  parseContainerPort,
  parseEnvLines,
  splitShellWords,
  type RawInputs,
} from '../../src/engines/spec.js';
import { quoteForDisplay } from '../../src/engines/service.js';
import { UsageError } from '../../src/core/index.js';
import { CONTAINER_ACTION, jobEnv, loadAction } from '../../harness/runner.js';
import { tempDir } from '../helpers.js';
import { standInWorkers } from '../workers.js';
import { IMAGE } from './steps.js';

describe('splitShellWords', () => {
  const cases: [string, string[]][] = [
    ['', []],
    ['   \n\t ', []],
    ['redis-server --appendonly yes', ['redis-server', '--appendonly', 'yes']],
    ['sh -c \'echo "hi"; exit 3\'', ['sh', '-c', 'echo "hi"; exit 3']],
    ['a"b c"d', ['ab cd']],
    ["''", ['']],
    ['"" x', ['', 'x']],
    ['a\\ b', ['a b']],
    ['"a\\"b" "\\$HOME" "\\x"', ['a"b', '$HOME', '\\x']],
    ["'a\\b'", ['a\\b']],
    ['$HOME *.txt ~ a;b|c', ['$HOME', '*.txt', '~', 'a;b|c']],
    ['one \\\ntwo', ['one', 'two']],
    [
      '--health-cmd "pg_isready -U postgres"\n--shm-size 1g',
      ['--health-cmd', 'pg_isready -U postgres', '--shm-size', '1g'],
    ],
  ];
  it.each(cases)('%j', (text, words) => {
    expect(splitShellWords(text, 'args')).toEqual(words);
  });

  it('round-trips what quoteForDisplay writes', () => {
    const words = ['plain', 'with space', "it's", '', 'a"b', '$x', 'back\\slash'];
    expect(splitShellWords(words.map(quoteForDisplay).join(' '), 'args')).toEqual(words);
  });

  it.each([
    ["sh -c 'echo", /^args: unclosed ' quote starting at "'echo"/],
    ['echo "hi', /^args: unclosed " quote starting at/],
    ['echo hi\\', /^args: ends with a lone backslash/],
  ])('rejects %j naming the input', (text, message) => {
    expect(() => splitShellWords(text, 'args')).toThrow(UsageError);
    expect(() => splitShellWords(text, 'args')).toThrow(message);
  });
});

describe('container inputs', () => {
  const raw = (over: Partial<RawInputs>): RawInputs => ({
    image: 'postgres:16',
    'container-port': '5432',
    args: '',
    name: '',
    env: '',
    options: '',
    health: '',
    'health-cmd': '',
    'health-timeout': '',
    engine: '',
    pull: '',
    ...over,
  });

  it('takes the defaults', () => {
    expect(parseContainerInputs(raw({}))).toEqual({
      image: 'postgres:16',
      containerPort: 5432,
      args: [],
      name: 'SERVICE_PORT',
      env: [],
      options: [],
      health: 'tcp',
      healthCmd: [],
      healthTimeoutMs: 120_000,
      engine: 'auto',
      pull: 'missing',
    });
  });

  it('reads every input', () => {
    const got = parseContainerInputs(
      raw({
        'container-port': '6379/tcp',
        args: "redis-server --requirepass 'p w'",
        name: 'REDIS_PORT',
        env: 'A=1\n\n# note\nB = two words \nC=x=y',
        options: '--tmpfs /data --name "my redis"',
        'health-cmd': 'redis-cli ping',
        'health-timeout': '90s',
        engine: 'podman',
        pull: 'never',
      }),
    );
    expect(got).toMatchObject({
      containerPort: 6379,
      args: ['redis-server', '--requirepass', 'p w'],
      name: 'REDIS_PORT',
      env: [
        ['A', '1'],
        ['B', 'two words'],
        ['C', 'x=y'],
      ],
      options: ['--tmpfs', '/data', '--name', 'my redis'],
      health: 'cmd',
      healthCmd: ['redis-cli', 'ping'],
      healthTimeoutMs: 90_000,
      engine: 'podman',
      pull: 'never',
    });
  });

  it.each<[Partial<RawInputs>, RegExp]>([
    [{ image: '' }, /^image: required/],
    [{ image: '--privileged' }, /^image: "--privileged" is not an image reference/],
    [{ image: 'a b' }, /^image: /],
    [{ 'container-port': '' }, /^container-port: required/],
    [{ 'container-port': 'http' }, /^container-port: "http" is not a port/],
    [{ 'container-port': '0' }, /^container-port: "0" is outside 1-65535/],
    [{ 'container-port': '70000' }, /^container-port: "70000" is outside 1-65535/],
    [{ 'container-port': '53/udp' }, /^container-port: "53\/udp": only TCP/],
    [{ args: "sh -c 'x" }, /^args: unclosed ' quote/],
    [{ options: '--shm-size "1g' }, /^options: unclosed " quote/],
    [{ options: '-p 8080:80' }, /^options: "-p" is not accepted/],
    [{ options: '--publish=8080:80' }, /^options: "--publish=8080:80" is not accepted/],
    [{ options: '--rm' }, /^options: "--rm" is not accepted/],
    [{ name: '1PORT' }, /^name: "1PORT" is not a valid name/],
    [{ name: 'MY-PORT' }, /^name: "MY-PORT" is not a valid name/],
    [{ env: 'NOEQUALS' }, /^env: "NOEQUALS" is not KEY=VALUE/],
    [{ env: '1A=x' }, /^env: "1A" is not a valid variable name/],
    [{ env: 'A=1\nA=2' }, /^env: "A" is set twice/],
    [{ health: 'ping' }, /^health: "ping" is not accepted; use tcp, http, docker, cmd, none/],
    [{ health: 'cmd' }, /^health-cmd: required with health: cmd/],
    [{ health: 'tcp', 'health-cmd': 'true' }, /^health-cmd: only used with health: cmd/],
    [{ 'health-timeout': 'soon' }, /^health-timeout: "soon" is not a duration/],
    [{ 'health-timeout': '0' }, /^health-timeout: "0" is zero/],
    [{ engine: 'lxc' }, /^engine: "lxc" is not accepted; use docker, podman, auto/],
    [{ pull: 'sometimes' }, /^pull: "sometimes" is not accepted; use missing, always, never/],
  ])('rejects %j with one line naming the input', (over, message) => {
    expect(() => parseContainerInputs(raw(over))).toThrow(UsageError);
    expect(() => parseContainerInputs(raw(over))).toThrow(message);
  });

  it('parses env and port helpers directly', () => {
    expect(parseEnvLines('', 'env')).toEqual([]);
    expect(parseContainerPort(' 80 ', 'container-port')).toBe(80);
  });
});

describe('bad input through the built step', () => {
  const workers = standInWorkers();

  it.each<[Record<string, string>, RegExp]>([
    [{ 'container-port': 'eighty' }, /^::error::container-port: "eighty" is not a port; /],
    [{ args: "sh -c 'oops" }, /^::error::args: unclosed ' quote/],
    [{ name: 'bad name' }, /^::error::name: "bad name" is not a valid name/],
    [{ range: '30000-20000' }, /^::error::range: "30000-20000" is reversed/],
    [{ ttl: 'forever' }, /^::error::ttl: "forever" is not a duration/],
    [{ engine: 'rkt' }, /^::error::engine: "rkt" is not accepted/],
  ])('%j fails with one line, leaving the registry untouched', async (bad, message) => {
    expect(existsSync(loadAction(CONTAINER_ACTION).main)).toBe(true);
    const reg = join(tempDir(), 'registry');
    const w = await workers.one();
    const r = await w.main(
      CONTAINER_ACTION,
      { image: IMAGE, 'container-port': '80', pull: 'never', registry: reg, ...bad },
      jobEnv('bad'),
    );
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(message);
    expect(r.stdout).not.toMatch(/\n\s+at /);
    expect(r.stderr).toBe('');
    expect(existsSync(reg)).toBe(false);
    expect(r.state).toEqual({});
    expect(r.outputs).toEqual({});
  });
});
