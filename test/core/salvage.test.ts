/**
 * A damaged or odd state file loses only what is damaged (docs/adr/0002-store-salvage.md):
 * every intact live lease survives a NUL, a cut last line, a BOM, garbage appended or a
 * conflict; the damage is quarantined once per read, in bounded time and with a bounded
 * number of warnings; odd files are moved aside, never followed, never waited on.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, parsePorts, tempDir, testRange, type Run } from '../helpers.js';
import { engine, ensureDocker, HTTPD, IMAGE, rmArgs } from '../container/steps.js';
import { isRoot, listed, portsTwice, requireTool } from './host-tools.js';

let sleeper: ChildProcess;
let SP = 0;
beforeAll(() => {
  sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  SP = sleeper.pid ?? 0;
});
afterAll(() => {
  sleeper.kill('SIGKILL');
});

const warnings = (r: Run): string[] => r.stderr.split('\n').filter((l) => l.includes('warning'));

/** Three leases owned by a live process, on the first three ports of a four-port range. */
async function threeLeases(): Promise<{ dir: string; lo: number; ids: string[] }> {
  const r = await testRange(4);
  const dir = join(tempDir(), 'reg');
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const a = await cli([
      'allocate',
      'P',
      '--range',
      `${r.lo}-${r.hi}`,
      '--strategy',
      'sequential',
      '--ttl',
      '10m',
      '--owner-pid',
      String(SP),
      '--registry',
      dir,
      '--json',
    ]);
    expect(a.code).toBe(0);
    ids.push((JSON.parse(a.stdout) as { lease: string }).lease);
  }
  return { dir, lo: r.lo, ids };
}

/** `allocate Q`, the first free port of `lo`..`hi` (default: the four-port range). */
async function allocateQ(dir: string, lo: number, hi = lo + 3): Promise<Run> {
  return cli(
    ['allocate', 'Q', '--range', `${lo}-${hi}`, '--strategy', 'sequential'].concat([
      '--ttl',
      '1m',
      '--registry',
      dir,
    ]),
  );
}

function quarantined(dir: string): string[] {
  const q = join(dir, 'quarantine');
  return existsSync(q) ? readdirSync(q).map((n) => join(q, n)) : [];
}

describe('a damaged state file keeps every intact live lease', () => {
  // [what, damage, whether anything was lost (then warned about and quarantined)]
  const damages: [string, (path: string) => void, boolean][] = [
    [
      'a NUL appended',
      (p) => {
        writeFileSync(p, '\0', { flag: 'a' });
      },
      true,
    ],
    [
      'garbage appended',
      (p) => {
        writeFileSync(p, 'garbage {"id":\nmore garbage\n', { flag: 'a' });
      },
      true,
    ],
    [
      'a BOM prepended',
      (p) => {
        writeFileSync(p, '\uFEFF' + readFileSync(p, 'utf8'));
      },
      false,
    ],
    [
      'CRLF line ends and a trailing comma',
      (p) => {
        const t = readFileSync(p, 'utf8').replace('\n]}', ',\n]}');
        writeFileSync(p, t.replace(/\n/g, '\r\n'));
      },
      false,
    ],
  ];
  it.each(damages)('with %s', async (_what, damage, lost) => {
    const { dir, lo, ids } = await threeLeases();
    damage(join(dir, 'leases.json'));
    const q = await allocateQ(dir, lo);
    expect(q.code).toBe(0);
    expect(parsePorts(q.stdout).Q).toBe(lo + 3);
    const live = await listed(dir);
    expect(live.map((l) => l.lease)).toEqual([...ids, expect.stringMatching(/^pl_/)]);
    const kept = quarantined(dir);
    if (lost) {
      expect(warnings(q).length).toBeLessThanOrEqual(4);
      expect(q.stderr).toMatch(/kept the 3 intact records; the damage is kept in /);
      expect(kept).toHaveLength(1);
      expect(statSync(kept[0] ?? '').mode & 0o777).toBe(0o600);
    } else {
      expect(q.stderr).toBe(''); // nothing was damaged, only laid out differently
      expect(kept).toHaveLength(0);
    }
  });

  it('with the last line cut: only the cut record is lost', async () => {
    const { dir, lo, ids } = await threeLeases();
    const path = join(dir, 'leases.json');
    truncateSync(path, statSync(path).size - 40);
    const q = await allocateQ(dir, lo);
    expect(q.code).toBe(0);
    expect(q.stderr).toMatch(/line 4: not a record \(does not parse\); skipped it/);
    expect((await listed(dir)).map((l) => l.lease).slice(0, 2)).toEqual(ids.slice(0, 2));
    expect(parsePorts(q.stdout).Q).toBe(lo + 2); // the cut record's port: its record is gone
    expect(quarantined(dir)).toHaveLength(1);
  });

  it('pretty-printed (by a person, or an older file): whole, or cut short', async () => {
    const { dir, lo, ids } = await threeLeases();
    const path = join(dir, 'leases.json');
    const pretty = JSON.stringify(JSON.parse(readFileSync(path, 'utf8')), null, 2) + '\n';
    writeFileSync(path, pretty);
    expect((await listed(dir)).map((l) => l.lease)).toEqual(ids);
    // Cut inside the third record: the first two are whole and kept.
    writeFileSync(path, pretty.slice(0, pretty.lastIndexOf('"owner"')));
    const q = await allocateQ(dir, lo);
    expect(q.code).toBe(0);
    expect(q.stderr).toMatch(/a record cut short/);
    expect((await listed(dir)).map((l) => l.lease).slice(0, 2)).toEqual(ids.slice(0, 2));
  });

  it('200,000 bogus lines: a few warnings, one quarantine file, and concurrent allocators all served', async () => {
    const { dir, ids } = await threeLeases();
    const path = join(dir, 'leases.json');
    const text = readFileSync(path, 'utf8');
    const bogus = Array.from({ length: 200_000 }, () => '1').join(',\n');
    writeFileSync(path, text.replace('\n]}\n', `,\n${bogus}\n]}\n`));
    const r = await testRange(4);
    const runs = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        cli(['allocate', `Q${i}`, '--range', `${r.lo}-${r.hi}`, '--ttl', '1m', '--registry', dir]),
      ),
    );
    // The lock waits 30 s at most: every allocator got through behind the one that read it.
    expect(runs.map((x) => x.code)).toEqual([0, 0, 0, 0]);
    const warned = runs.flatMap(warnings);
    expect(warned.length).toBeLessThanOrEqual(4);
    expect(warned.join('\n')).toMatch(
      /199997 more damaged lines skipped; kept the 3 intact records/,
    );
    const kept = quarantined(dir);
    expect(kept).toHaveLength(1);
    expect(statSync(kept[0] ?? '').size).toBeLessThan(300 * 1024);
    expect((await listed(dir)).map((l) => l.lease).slice(0, 3)).toEqual(ids);
  }, 180_000);
});

describe('conflicts between records are resolved in favour of the live one', () => {
  async function withConflict(
    claimantOwner: 'dead' | 'live',
  ): Promise<{ dir: string; lo: number; live: string; other: string }> {
    const r = await testRange(3);
    const dir = join(tempDir(), 'reg');
    const a = await cli([
      'allocate',
      'A',
      'B',
      '--range',
      `${r.lo}-${r.hi}`,
      '--strategy',
      'sequential',
      '--ttl',
      '10m',
      '--owner-pid',
      String(SP),
      '--registry',
      dir,
      '--json',
    ]);
    const live = (JSON.parse(a.stdout) as { lease: string }).lease;
    const path = join(dir, 'leases.json');
    const lines = readFileSync(path, 'utf8').split('\n');
    const record = JSON.parse(lines[1] ?? '') as { owner: { pid: number } };
    const gone = spawnSync('true').pid;
    const other = {
      ...record,
      id: 'pl_claimant01',
      key: 'claimant',
      ports: { C: r.lo },
      owner: { ...record.owner, pid: claimantOwner === 'dead' ? gone : SP },
    };
    // The claimant comes first: the record an older reader let win.
    writeFileSync(path, [lines[0], JSON.stringify(other) + ',', lines[1], lines[2], ''].join('\n'));
    return { dir, lo: r.lo, live, other: other.id };
  }

  it('a dead claimant is dropped; the live record keeps all its ports', async () => {
    const { dir, lo, live, other } = await withConflict('dead');
    const q = await allocateQ(dir, lo, lo + 2);
    expect(q.code).toBe(0);
    expect(parsePorts(q.stdout).Q).toBe(lo + 2);
    expect(q.stderr).toMatch(
      new RegExp(
        `2 records claim the same port or key; kept the 1 live one \\(${live}\\), dropped 1 dead \\(${other}\\)`,
      ),
    );
    const leases = await listed(dir);
    expect(leases.find((l) => l.lease === live)?.ports).toEqual({ A: lo, B: lo + 1 });
    expect(leases.some((l) => l.lease === other)).toBe(false);
    expect(portsTwice(dir)).toEqual([]);
  });

  it('two live claimants both stay, and the port goes to neither again', async () => {
    const { dir, lo, live, other } = await withConflict('live');
    const q = await allocateQ(dir, lo, lo + 2);
    expect(q.code).toBe(0);
    expect(parsePorts(q.stdout).Q).toBe(lo + 2);
    const ids = (await listed(dir)).map((l) => l.lease);
    expect(ids).toContain(live);
    expect(ids).toContain(other);
  });
});

describe('odd state files', () => {
  it.each([['a FIFO'], ['a directory'], ['a socket'], ['a symlink']])(
    'a state file that is %s: list ignores it, allocate moves it aside and goes on',
    async (kind) => {
      const r = await testRange(1);
      const dir = join(tempDir(), 'reg');
      mkdirSync(dir);
      const path = join(dir, 'leases.json');
      if (kind === 'a FIFO') expect(spawnSync('mkfifo', [path]).status).toBe(0);
      if (kind === 'a directory') mkdirSync(path);
      if (kind === 'a symlink') symlinkSync('/etc/passwd', path);
      if (kind === 'a socket') {
        requireTool('python3');
        const py = `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`;
        expect(spawnSync('python3', ['-c', py]).status).toBe(0);
      }
      const l = await cli(['list', '--registry', dir], { timeout: 20_000 });
      expect(l.signal).toBeNull();
      expect(l.code).toBe(0);
      expect(l.stderr).toMatch(
        new RegExp(
          `is ${kind}, not a registry file; ignoring it \\(the next allocate, release or gc moves it aside\\)`,
        ),
      );
      const a = await cli(
        ['allocate', 'A', '--range', String(r.lo), '--ttl', '1m', '--registry', dir],
        { timeout: 20_000 },
      );
      expect(a.signal).toBeNull();
      expect(a.code).toBe(0);
      expect(a.stderr.trim()).toMatch(
        new RegExp(
          `^portlease: warning: registry: .*leases.json was ${kind}, not a registry file; moved it aside as leases.json.rejected-[-0-9TZ]+-[0-9a-z]+ and went on with an empty registry$`,
        ),
      );
      expect(readdirSync(dir).filter((n) => n.startsWith('leases.json.rejected-'))).toHaveLength(1);
      expect(await listed(dir)).toHaveLength(1);
      if (kind === 'a symlink') expect(readFileSync('/etc/passwd', 'utf8')).toMatch(/^root:/);
    },
  );

  it('a file hard-linked as the state file is never copied into quarantine', async () => {
    const r = await testRange(1);
    const dir = join(tempDir(), 'reg');
    mkdirSync(dir);
    const secret = join(tempDir(), 'secret');
    writeFileSync(secret, 'top secret\n');
    chmodSync(secret, 0o600);
    linkSync(secret, join(dir, 'leases.json'));
    const a = await cli([
      'allocate',
      'A',
      '--range',
      String(r.lo),
      '--ttl',
      '1m',
      '--registry',
      dir,
    ]);
    expect(a.code).toBe(0);
    expect(a.stderr).toMatch(/not copied to quarantine \(the file has 2 hard links\)/);
    expect(a.stderr).not.toMatch(/top secret/);
    for (const f of quarantined(dir)) expect(readFileSync(f, 'utf8')).not.toMatch(/top secret/);
    expect(readFileSync(secret, 'utf8')).toBe('top secret\n');
    expect(statSync(secret).mode & 0o777).toBe(0o600);
  });

  it('a file from a newer format version is listed but never rewritten', async () => {
    const { dir, lo, ids } = await threeLeases();
    const path = join(dir, 'leases.json');
    writeFileSync(path, readFileSync(path, 'utf8').replace('{"version":1,', '{"version":2,'));
    const before = readFileSync(path);
    const q = await allocateQ(dir, lo);
    expect(q.code).toBe(1);
    expect(q.stderr).toMatch(
      /was written by a newer portlease \(format version 2; this one writes version 1\); refusing to change it/,
    );
    expect((await listed(dir)).map((l) => l.lease)).toEqual(ids);
    const gc = await cli(['gc', '--registry', dir]);
    expect(gc.code).toBe(1);
    expect(readFileSync(path)).toEqual(before);
  });
});

describe('the registry path', () => {
  it('a registry directory swapped for a symlink during --wait is refused, never followed', async () => {
    const r = await testRange(1);
    const parent = tempDir();
    const dir = join(parent, 'reg');
    const target = join(parent, 'target');
    mkdirSync(target);
    const a = await cli([
      'allocate',
      'A',
      '--range',
      String(r.lo),
      '--ttl',
      '10m',
      '--owner-pid',
      String(SP),
      '--registry',
      dir,
    ]);
    expect(a.code).toBe(0);
    const waiting = cli([
      'allocate',
      'B',
      '--range',
      String(r.lo),
      '--ttl',
      '1m',
      '--wait',
      '10s',
      '--registry',
      dir,
    ]);
    await new Promise((res) => setTimeout(res, 1500));
    renameSync(dir, join(parent, 'moved'));
    symlinkSync(target, dir);
    const b = await waiting;
    expect(b.code).toBe(1);
    expect(b.stderr.trim()).toMatch(
      /^portlease: registry: .*reg was replaced by a symlink while portlease used it; portlease never follows one there\. Nothing was written$/,
    );
    expect(readdirSync(target)).toEqual([]);
  }, 30_000);
});

describe.runIf(isRoot)('gc and containers after damage', () => {
  const made: string[] = [];
  beforeAll(() => {
    ensureDocker();
  }, 900_000);
  afterAll(async () => {
    for (const id of made) await engine('docker', rmArgs('docker', id)).catch(() => undefined);
  });

  it('gc removes no container when its registry read found damage', async () => {
    const r = await testRange(2);
    const dir = join(tempDir(), 'reg');
    const a = await cli([
      'allocate',
      'A',
      '--range',
      `${r.lo}-${r.hi}`,
      '--ttl',
      '10m',
      '--owner-pid',
      String(SP),
      '--registry',
      dir,
      '--json',
    ]);
    const lease = (JSON.parse(a.stdout) as { lease: string }).lease;
    const id = await engine('docker', [
      'run',
      '-d',
      '--label',
      `portlease.lease=${lease}`,
      '--label',
      `portlease.registry=${dir}`,
      IMAGE,
      ...HTTPD.split(' '),
    ]);
    made.push(id);
    const running = async (): Promise<boolean> =>
      (await engine('docker', ['ps', '-q', '--no-trunc', '--filter', `id=${id}`])) === id;
    const path = join(dir, 'leases.json');

    // A NUL appended: the lease survives the read, and gc touches no container.
    writeFileSync(path, '\0', { flag: 'a' });
    const gc1 = await cli(['gc', '--registry', dir]);
    expect(gc1.code).toBe(0);
    expect(gc1.stderr).toMatch(
      /registry had damaged records .*so no container was removed this time/,
    );
    expect(await running()).toBe(true);

    // The lease's own line damaged: its container is still left alone by that gc.
    writeFileSync(path, readFileSync(path, 'utf8').replace(`"id":"${lease}"`, `"id":"${lease}`));
    const gc2 = await cli(['gc', '--registry', dir]);
    expect(gc2.code).toBe(0);
    expect(gc2.stderr).toMatch(/so no container was removed this time/);
    expect(await running()).toBe(true);
  }, 120_000);
});
