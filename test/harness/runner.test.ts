/**
 * The runner harness itself (harness/): action.yml read as the runner reads it, INPUT_* and
 * file commands, and the stand-in worker as the parent of every step.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseActionYaml } from '../../harness/action-yml.js';
import {
  CONTAINER_ACTION,
  inputEnv,
  LEASE_ACTION,
  loadAction,
  parseFileCommands,
  StandInWorker,
} from '../../harness/runner.js';
import { ROOT, tempDir } from '../helpers.js';

describe('action.yml', () => {
  it('reads block mappings and every scalar style an action.yml uses', () => {
    const text = [
      '# a comment',
      "name: 'it''s' # trailing comment",
      'description: "a \\"b\\"\\tc \\u00e9 # not a comment"',
      'plain: hello world # comment',
      'url: http://x#y',
      'inputs:',
      '  first input:',
      '    description: >',
      '      folded line one',
      '      line two',
      '',
      '      new paragraph',
      '        more indented',
      '      back',
      '',
      "    default: ''",
      '  keep:',
      '    default: |+',
      '      a',
      '       b',
      '',
      '  strip:',
      '    default: >-',
      '      x',
      '      y',
      '  literal:',
      '    default: |',
      '      # not a comment',
      '      two',
      'empty:',
      'runs:',
      '  using: node24',
    ].join('\n');
    expect(parseActionYaml(text, 'x.yml')).toEqual({
      name: "it's",
      description: 'a "b"\tc é # not a comment',
      plain: 'hello world',
      url: 'http://x#y',
      inputs: {
        'first input': {
          description: 'folded line one line two\nnew paragraph\n  more indented\nback\n',
          default: '',
        },
        keep: { default: 'a\n b\n\n' },
        strip: { default: 'x y' },
        literal: { default: '# not a comment\ntwo\n' },
      },
      empty: '',
      runs: { using: 'node24' },
    });
  });

  it.each([
    ['a sequence', 'inputs:\n  - a\n'],
    ['a flow mapping', 'runs: { using: node24 }\n'],
    ['a scalar over two lines', 'description: one\n  two\n'],
    ['a key twice', 'name: a\nname: b\n'],
    ['an anchor', 'name: &x a\n'],
  ])('refuses %s, naming the line', (_what, text) => {
    expect(() => parseActionYaml(text, 'x.yml')).toThrow(/^x\.yml:\d+: /);
  });

  it('gives each input its default, and the entry points beside the action.yml', () => {
    const lease = loadAction(LEASE_ACTION);
    expect(lease.using).toBe('node24');
    expect(lease.main).toBe(join(ROOT, 'dist/main/index.js'));
    expect(lease.post).toBe(join(ROOT, 'dist/post/index.js'));
    expect(lease.inputs.get('ports')).toBeNull();
    expect(lease.inputs.get('range')).toBe('20000-29999');
    expect(lease.inputs.get('export-env')).toBe('true');
    const container = loadAction(CONTAINER_ACTION);
    expect(container.main).toBe(join(ROOT, 'dist/container-main/index.js'));
    expect(container.inputs.get('health-timeout')).toBe('2m');
  });

  it('sets INPUT_* for every declared input and refuses one the action does not declare', () => {
    const lease = loadAction(LEASE_ACTION);
    const env = inputEnv(lease, { ports: 'A B', 'export-env': 'false' });
    expect(Object.keys(env).sort()).toEqual(
      [...lease.inputs.keys()].map((n) => `INPUT_${n.toUpperCase()}`).sort(),
    );
    expect(env.INPUT_PORTS).toBe('A B');
    expect(env['INPUT_EXPORT-ENV']).toBe('false');
    expect(env.INPUT_KEY).toBe('');
    expect(env.INPUT_TTL).toBe('6h30m');
    expect(() => inputEnv(lease, { port: 'A' })).toThrow(/declares no input "port"/);
  });
});

describe('file commands', () => {
  it('reads name<<DELIMITER blocks and name=value lines', () => {
    expect(parseFileCommands('a<<EOF\nline 1\nline 2\nEOF\nb=x=y\n\nc<<Z\nZ\n')).toEqual({
      a: 'line 1\nline 2',
      b: 'x=y',
      c: '',
    });
    expect(() => parseFileCommands('a<<EOF\nno end\n')).toThrow(/unterminated/);
  });
});

describe('the stand-in worker', () => {
  let worker: StandInWorker | undefined;
  afterEach(async () => {
    await worker?.stop();
  });

  it('is the parent of each step, which gets fresh file-command files', async () => {
    const script = join(tempDir(), 'step.mjs');
    writeFileSync(
      script,
      [
        "import { appendFileSync } from 'node:fs';",
        'appendFileSync(process.env.GITHUB_OUTPUT, `ppid=${process.ppid}\\n`);',
        "appendFileSync(process.env.GITHUB_STATE, `was<<X\\n${process.env.STATE_was ?? ''}\\nX\\n`);",
        'console.log(`::warning::${process.env.GITHUB_OUTPUT}`);',
      ].join('\n'),
    );
    worker = await StandInWorker.start();
    const one = await worker.step(script, { STATE_was: 'first' });
    const two = await worker.step(script, {});
    expect(one.code).toBe(0);
    expect(one.outputs.ppid).toBe(String(worker.pid));
    expect(one.state.was).toBe('first');
    expect(two.state.was).toBe('');
    expect(one.warnings[0]).not.toBe(two.warnings[0]);
    expect(two.files.output).toBe(`ppid=${String(worker.pid)}\n`);
  });
});
