/**
 * Every write of the registry is one commit that answers "landed" or "lost" (the lock moved
 * on while it was written), and every caller branches on it: nothing is handed out or
 * reported done unless its record is on disk under the lock, and a commit lost again and
 * again gives up with one line (Registry.commit, MAX_LOST_COMMITS). The loss is forced the
 * way takeover.test.ts forces it: strace holds the writer just after its rename landed while
 * the test links a higher lock generation (a dead impostor's) and writes the state back as
 * it was, as a wrong takeover would.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOADER } from '../../harness/paths.js';
import { selfOwner, type Lease } from '../../src/core/index.js';
import { readState, writeState } from '../../src/core/store.js';
import { cli, collect, NODE, parsePorts, ROOT, tempDir, testRange, type Run } from '../helpers.js';
import {
  forgeTakeover,
  listed,
  portsTwice,
  requireTool,
  slowed,
  slowedCli,
  waitFor,
} from './host-tools.js';

const stateText = (dir: string): string => readFileSync(join(dir, 'leases.json'), 'utf8');

/**
 * Undo every write of `child` until it exits: each time the state file differs from
 * `original`, take the lock over under the writer (forgeTakeover) and write `original`
 * back. Returns how many writes were undone.
 */
async function undoEveryWrite(
  dir: string,
  original: readonly Lease[],
  done: Promise<Run>,
): Promise<number> {
  writeState(dir, original);
  const text = stateText(dir);
  const state = { exited: false };
  void done.then(() => (state.exited = true));
  let undone = 0;
  while (!state.exited) {
    if (stateText(dir) !== text) {
      await forgeTakeover(dir);
      writeState(dir, original);
      undone++;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return undone;
}

function lease(
  id: string,
  key: string,
  ports: Record<string, number>,
  lo: number,
  hi: number,
): Lease {
  const now = Date.now();
  return {
    id,
    key,
    ports,
    range: { lo, hi },
    contiguous: false,
    owner: selfOwner(), // this test process: alive
    created: new Date(now).toISOString(),
    expires: new Date(now + 600_000).toISOString(),
    labels: {},
  };
}

describe('every write is confirmed before a port is handed out', () => {
  it('a grown lease whose write is lost returns no port of that write: it is grown again from what is on disk', async () => {
    requireTool('strace');
    const r = await testRange(3);
    const dir = join(tempDir(), 'reg');
    const range = ['--range', `${r.lo}-${r.hi}`, '--strategy', 'sequential', '--key', 'K'];
    const owner = ['--ttl', '5m', '--owner-pid', String(process.pid), '--registry', dir];
    const first = await cli(['allocate', 'A', ...range, ...owner]);
    expect(first.code).toBe(0);
    expect(parsePorts(first.stdout)).toEqual({ A: r.lo });
    const [grownFrom] = readState(dir, { quarantine: false }).leases;
    if (grownFrom === undefined) throw new Error('no lease on disk');

    // Grow K by B; hold the grower just after its state rename landed.
    const grow = slowedCli(['allocate', 'A', 'B', ...range, ...owner], {
      delayMs: 3000,
      exit: true,
      when: '1',
    });
    const done = collect(grow);
    await waitFor(() => stateText(dir).includes('"B":'));
    // A wrong takeover: the lock moves on, and the state goes back to K without B, while
    // another live lease now holds the port the grower is about to report as B.
    await forgeTakeover(dir);
    writeState(dir, [grownFrom, lease('pl_impostor01', 'impostor', { I: r.lo + 1 }, r.lo, r.hi)]);

    const res = await done;
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(
      new RegExp(
        `the lock was taken over while lease ${grownFrom.id} was written, and it is not in the registry; allocating again`,
      ),
    );
    // Not r.lo + 1, which the lost write held: the port on disk.
    expect(parsePorts(res.stdout)).toEqual({ A: r.lo, B: r.lo + 2 });
    const live = await listed(dir);
    expect(live.find((l) => l.lease === grownFrom.id)?.ports).toEqual({ A: r.lo, B: r.lo + 2 });
    expect(portsTwice(dir)).toEqual([]);
  }, 60_000);

  it('release whose writes are lost every time exits 1 with one line, and does not say released', async () => {
    requireTool('strace');
    const r = await testRange(1);
    const dir = join(tempDir(), 'reg');
    const held = lease('pl_releaseme1', 'K', { P: r.lo }, r.lo, r.hi);
    mkdirSync(dir);
    const child = slowedCli(['release', '--key', 'K', '--registry', dir], {
      delayMs: 800,
      exit: true,
    });
    const done = collect(child);
    const undone = await undoEveryWrite(dir, [held], done);
    const res = await done;
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(
      /the lock was taken over while each of 3 writes of the release of key K landed, so none is known to be in the registry; giving up/,
    );
    expect(undone).toBe(3);
    // Still leased (the test's process owns it): the release was not reported, and it did not happen.
    expect((await listed(dir)).map((l) => l.lease)).toEqual([held.id]);
  }, 60_000);

  it('update whose writes are lost every time gives up after 3 with one line', async () => {
    requireTool('strace');
    const r = await testRange(1);
    const dir = join(tempDir(), 'reg');
    const held = lease('pl_renewme001', 'K', { P: r.lo }, r.lo, r.hi);
    mkdirSync(dir);
    const child = slowed(
      [NODE, '--import', LOADER, join(ROOT, 'test/fixtures/update-lease.ts'), dir, held.id],
      { delayMs: 800, exit: true },
    );
    const done = collect(child);
    const undone = await undoEveryWrite(dir, [held], done);
    const res = await done;
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(
      /the lock was taken over while each of 3 writes of the update of lease pl_renewme001 landed, so none is known to be in the registry; giving up/,
    );
    expect(undone).toBe(3);
  }, 60_000);
});
