/**
 * The durability rule (docs/adr/0004-durability.md): a state write is fsynced only when a
 * record in it must outlive a reboot (owner dir:, none, or a container); writes of process-,
 * session- and tree-owned records skip it. Either way a crash of the process at any point of
 * the write leaves the old state or the new one, whole: an allocator is SIGKILLed at the
 * n-th call of every system call of the write path (strace inject), and the state on disk is
 * then exactly the old one or the old one plus the new lease, and the registry goes on.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selfOwner, type Lease } from '../../src/core/index.js';
import { mustSurviveReboot, readState, writeState } from '../../src/core/store.js';
import { CLI, collect, NODE, parsePorts, tempDir, testRange } from '../helpers.js';
import { requireTool } from './host-tools.js';

function record(id: string, port: number, owner: Lease['owner']): Lease {
  const now = Date.now();
  return {
    id,
    key: id,
    ports: { P: port },
    range: { lo: port, hi: port },
    contiguous: false,
    owner,
    created: new Date(now).toISOString(),
    expires: new Date(now + 600_000).toISOString(),
    labels: {},
  };
}

describe('durability', () => {
  it('only records that can outlive a reboot make a write durable', () => {
    const me = selfOwner();
    expect(mustSurviveReboot([record('pl_aaaaaaaaaa', 1, me)])).toBe(false);
    expect(
      mustSurviveReboot([record('pl_aaaaaaaaaa', 1, { ...me, kind: 'tree', sid: null, uid: 0 })]),
    ).toBe(false);
    expect(
      mustSurviveReboot([record('pl_aaaaaaaaaa', 1, me), record('pl_bbbbbbbbbb', 2, null)]),
    ).toBe(true);
    expect(
      mustSurviveReboot([record('pl_aaaaaaaaaa', 1, { kind: 'dir', path: '/x', host: 'h' })]),
    ).toBe(true);
    expect(mustSurviveReboot([])).toBe(false);
  });

  const points: [string, number][] = [];
  for (const call of ['write', 'fsync', 'rename', 'link', 'unlink', 'chmod', 'openat']) {
    for (const n of [1, 2, 3]) points.push([call, n]);
  }

  for (const owner of ['pid', 'none'] as const) {
    it(`an allocator (owner ${owner}) SIGKILLed at any point of its write leaves the old state or the new one`, async () => {
      requireTool('strace');
      const r = await testRange(4);
      const outcomes = new Set<string>();
      for (const [call, n] of points) {
        const dir = join(tempDir(), 'reg');
        const old = [
          record('pl_oldoldold1', r.lo, selfOwner()),
          record('pl_oldoldold2', r.lo + 1, owner === 'pid' ? selfOwner() : null),
        ];
        mkdirSync(dir);
        writeState(dir, old);
        const before = readFileSync(join(dir, 'leases.json'), 'utf8');
        const ownerArgs =
          owner === 'pid' ? ['--owner-pid', String(process.pid)] : ['--owner', 'none'];
        const args = [
          'allocate',
          'N',
          '--range',
          `${r.lo}-${r.hi}`,
          '--strategy',
          'sequential',
          '--ttl',
          '5m',
          ...ownerArgs,
          '--registry',
          dir,
        ];
        // Only calls after start-up count: strace -e inject counts from the first call, so
        // the n-th openat may be a module's; the state must be whole either way.
        const child = spawn(
          'strace',
          [
            '-f',
            '-qq',
            '-o',
            '/dev/null',
            '-e',
            `trace=${call}`,
            '-e',
            `inject=${call}:signal=SIGKILL:when=${n}`,
            NODE,
            CLI,
            ...args,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        const res = await collect(child);
        const after = readState(dir, { quarantine: false });
        expect(after.rejected, `${call} #${n}`).toBe(0);
        const text = readFileSync(join(dir, 'leases.json'), 'utf8');
        if (text === before) {
          outcomes.add('old');
        } else {
          expect(after.leases.map((l) => l.id).slice(0, 2), `${call} #${n}`).toEqual([
            'pl_oldoldold1',
            'pl_oldoldold2',
          ]);
          expect(after.leases, `${call} #${n}`).toHaveLength(3);
          expect(after.leases[2]?.ports, `${call} #${n}`).toEqual({ N: r.lo + 2 });
          outcomes.add(res.code === 0 ? 'new, reported' : 'new, killed before reporting');
        }
        // And the registry goes on at once: a dead lock holder is taken over.
        const next = await collect(
          spawn(
            NODE,
            [CLI, 'allocate', 'M', '--range', `${r.lo}-${r.hi}`, '--ttl', '1m', '--registry', dir],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          ),
        );
        expect(next.code, `${call} #${n}: ${next.stderr}`).toBe(0);
        expect(Object.keys(parsePorts(next.stdout))).toEqual(['M']);
      }
      // The kills landed on both sides of the rename.
      expect(outcomes.has('old')).toBe(true);
      expect([...outcomes].some((o) => o.startsWith('new'))).toBe(true);
    }, 180_000);
  }
});
