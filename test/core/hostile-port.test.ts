/**
 * A record on disk that claims a port a live lease already holds, under another key (so it
 * is not turned away as a second record of the same key). Whatever the registry does with
 * it, the port never goes to a second live lease and the live lease is never dropped.
 * Each check runs the built CLI, a fresh process that reads the file from scratch.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, listLeases, tempDir, testRange } from '../helpers.js';

interface LeaseRecord {
  id: string;
  key: string;
  ports: { [name: string]: number };
  created: string;
  expires: string | null;
}

const sleepers: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const s of sleepers.splice(0)) s.kill();
});

/** The state file with `extra` added after the records there, in one of two layouts. */
function withRecord(text: string, extra: LeaseRecord, layout: 'lines' | 'document'): string {
  if (layout === 'document') {
    const doc = JSON.parse(text) as { leases: unknown[] };
    return JSON.stringify({ ...doc, leases: [...doc.leases, extra] });
  }
  // As the registry writes it: one record per line, the last line closing the array.
  if (!text.endsWith('\n]}\n')) throw new Error(`the state file layout changed:\n${text}`);
  return text.slice(0, -'\n]}\n'.length) + `,\n${JSON.stringify(extra)}\n]}\n`;
}

describe('a record that claims a port a live lease holds, under another key', () => {
  it.each(['lines', 'document'] as const)(
    'never gives the port to a second live lease, nor drops the live one (%s layout)',
    async (layout) => {
      const r = await testRange(2);
      const range = `${r.lo}-${r.hi}`;
      const dir = join(tempDir(), 'reg');
      const sleeper = spawn('sleep', ['300']);
      sleepers.push(sleeper);
      const live = ['--registry', dir, '--range', range, '--owner-pid', String(sleeper.pid)];
      const first = await cli([
        'allocate',
        'A',
        '--key',
        'good',
        '--strategy',
        'sequential',
        ...live,
      ]);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      const [good] = await listLeases(dir);
      const port = good?.ports.A;
      expect(port).toBe(r.lo);

      // The hostile record: valid in every field, written after the live one, created later,
      // alive (same live owner, an hour left), another id and key, and the same port.
      const state = join(dir, 'leases.json');
      const text = readFileSync(state, 'utf8');
      const doc = JSON.parse(text) as { leases: LeaseRecord[] };
      const original = doc.leases[0];
      if (original === undefined || port === undefined) throw new Error(`no lease:\n${text}`);
      const thief: LeaseRecord = {
        ...original,
        id: 'pl_thief00001',
        key: 'thief',
        ports: { STOLEN: port },
        created: new Date(Date.now() + 1000).toISOString(),
        expires: new Date(Date.now() + 3_600_000).toISOString(),
      };
      writeFileSync(state, withRecord(text, thief, layout));

      // Nobody but the live lease holds the port, and the live lease is still there.
      const holders = (await listLeases(dir, true)).filter((l) =>
        Object.values(l.ports).includes(port),
      );
      expect(holders.map((l) => l.lease)).toEqual([good?.lease]);

      // The hostile record's key, asked for again, does not get the port: it gets the other one.
      const again = await cli(['allocate', 'STOLEN', '--key', 'thief', '--json', ...live]);
      expect(again.code).toBe(0);
      const got = JSON.parse(again.stdout) as { lease: string; ports: { STOLEN: number } };
      expect(got.ports.STOLEN).toBe(r.hi);

      // Now the range is full: both ports are held, each by one live lease.
      const full = await cli(['allocate', 'B', ...live]);
      expect(full.code).not.toBe(0);
      const after = await listLeases(dir, true);
      expect(after.map((l) => [l.key, l.ports]).sort()).toEqual(
        [
          ['good', { A: r.lo }],
          ['thief', { STOLEN: r.hi }],
        ].sort(),
      );
      expect(after.find((l) => l.key === 'good')?.lease).toBe(good?.lease);
    },
  );
});
