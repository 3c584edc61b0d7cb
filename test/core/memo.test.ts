/**
 * The record memo belongs to one registry (src/core/memo.ts, cache.ts): a line of a
 * state file is served from what THIS registry validated or wrote, never from what another
 * registry in the same process did. Two directories here hold a record with the same lease
 * id; each registry must read its own.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry, type Lease } from '../../src/core/index.js';
import { readState, writeState } from '../../src/core/store.js';
import { tempDir } from '../helpers.js';

const ID = 'pl_samesame01';

/** A valid record with lease id ID holding `port` (TTL only, so it lives without an owner). */
function record(port: number): Lease {
  return {
    id: ID,
    key: 'memo-test',
    ports: { WEB: port },
    range: { lo: 20000, hi: 29999 },
    contiguous: false,
    owner: null,
    created: new Date().toISOString(),
    expires: new Date(Date.now() + 3_600_000).toISOString(),
    labels: {},
  };
}

/** A fresh registry directory whose state file holds `lease`, in the layout portlease writes. */
function registryWith(lease: Lease): string {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'leases.json'),
    `{"version":1,"leases":[\n${JSON.stringify(lease)}\n]}\n`,
  );
  return dir;
}

async function only(reg: Registry): Promise<Lease> {
  const live = await reg.list();
  expect(live).toHaveLength(1);
  return (live[0] as { lease: Lease }).lease;
}

describe('two registries in one process', () => {
  it('never serve each other the record of a line they both hold', async () => {
    const rec = record(20001);
    const a = registryWith(rec);
    const b = registryWith(rec);
    expect(readFileSync(join(b, 'leases.json'))).toEqual(readFileSync(join(a, 'leases.json')));
    const fromA = await only(new Registry(a));
    const fromB = await only(new Registry(b));
    expect(fromB).toEqual(fromA);
    // B validated its own file into its own record: it was not handed A's.
    expect(fromB).not.toBe(fromA);
  });

  it('keep their own memo when the other reads a record with the same id', async () => {
    const a = new Registry(registryWith(record(20001)));
    const b = new Registry(registryWith(record(20002)));
    const first = await only(a);
    expect((await only(b)).ports).toEqual({ WEB: 20002 });
    expect(first.ports).toEqual({ WEB: 20001 });
    // A's line is still known to A as the record it validated: B's read replaced nothing of A's.
    expect(await only(a)).toBe(first);
  });
});

describe('writeState and readState without a memo', () => {
  it('keep nothing between calls: a line is validated from what the file says', () => {
    const rec = record(20001);
    const dir = tempDir();
    writeState(dir, [rec]);
    const other = tempDir();
    writeFileSync(join(other, 'leases.json'), readFileSync(join(dir, 'leases.json')));
    // The writer's object changes after the write: a memo shared across the process would
    // hand that very object (changed, not frozen) back for the same line of another file.
    rec.ports.WEB = 29999;
    const got = readState(other, { quarantine: false }).leases;
    expect(got).toHaveLength(1);
    expect(got[0]?.ports).toEqual({ WEB: 20001 });
    expect(Object.isFrozen(got[0])).toBe(true);
  });
});
