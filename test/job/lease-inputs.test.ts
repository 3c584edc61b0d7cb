/**
 * The lease inputs (src/job/lease-inputs.ts), read through a plain reader function in
 * place of core.getInput: defaults, parsing, one UsageError naming each bad input, and the
 * names read are inputs both action.yml files declare.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLeaseInputs, type InputReader } from '../../src/job/lease-inputs.js';
import { UsageError } from '../../src/core/index.js';
import { ROOT } from '../helpers.js';

/** A reader over given inputs, untrimmed like core.getInput with trimWhitespace: false. */
function reader(inputs: Record<string, string>): InputReader {
  return (name) => inputs[name] ?? '';
}

describe('readLeaseInputs', () => {
  it('takes the defaults for empty inputs', () => {
    const read = reader({ range: '', key: '', strategy: '', ttl: '', wait: '', registry: '' });
    const env = { PORTLEASE_REGISTRY: '/srv/ports' };
    expect(readLeaseInputs(read, { env })).toEqual({
      range: { lo: 20000, hi: 29999 },
      key: undefined,
      strategy: 'hash',
      ttlMs: 6.5 * 3_600_000,
      waitMs: 0,
      registry: '/srv/ports',
    });
    expect(readLeaseInputs(read, { env, ttlDefault: '2h' }).ttlMs).toBe(2 * 3_600_000);
    expect(readLeaseInputs(reader({}), { env: {} }).registry).toBe('/tmp/portlease');
  });

  it('parses given inputs', () => {
    const read = reader({
      range: ' 21000-21999 ',
      key: 'my-key',
      strategy: 'random',
      ttl: '90m',
      wait: '2m',
      registry: '/var/tmp/reg/',
    });
    expect(readLeaseInputs(read, { env: {} })).toEqual({
      range: { lo: 21000, hi: 21999 },
      key: 'my-key',
      strategy: 'random',
      ttlMs: 90 * 60_000,
      waitMs: 120_000,
      registry: '/var/tmp/reg',
    });
  });

  it('trims what the reader gives, as core.getInput does', () => {
    const read = reader({
      range: ' 21000-21999\n',
      key: ' my-key ',
      strategy: '\trandom ',
      ttl: ' 90m ',
      wait: ' 2m ',
      registry: ' /var/tmp/reg/ ',
    });
    expect(readLeaseInputs(read, { env: {} })).toMatchObject({
      key: 'my-key',
      strategy: 'random',
      registry: '/var/tmp/reg',
    });
  });

  it.each([
    ['range', '9-1'],
    ['strategy', 'best'],
    ['ttl', '7d'],
    ['ttl', 'soon'],
    ['wait', '1 minute'],
    ['registry', 'reg'],
    ['registry', '/tmp/a\nb'],
  ])('a bad %s (%j) is a UsageError naming it', (name, value) => {
    const read = reader({ [name]: value });
    expect(() => readLeaseInputs(read, { env: {} })).toThrow(UsageError);
    expect(() => readLeaseInputs(read, { env: {} })).toThrow(new RegExp(`^${name}: `));
  });

  it('reads only inputs that both action.yml files declare', () => {
    const asked: string[] = [];
    readLeaseInputs(
      (name) => {
        asked.push(name);
        return '';
      },
      { env: {} },
    );
    expect(asked.sort()).toEqual(['key', 'range', 'registry', 'strategy', 'ttl', 'wait']);
    for (const file of ['action.yml', 'container/action.yml']) {
      const yml = readFileSync(join(ROOT, file), 'utf8');
      const inputs = yml.slice(yml.indexOf('\ninputs:\n'), yml.indexOf('\noutputs:\n'));
      for (const name of asked) expect(inputs, `${file}: ${name}`).toContain(`\n  ${name}:\n`);
    }
  });
});
