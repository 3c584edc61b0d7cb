/**
 * Test helpers: run the built CLI, run TypeScript fixtures in child processes, temp
 * directories, byte-for-byte registry snapshots, and port ranges leased for each test file
 * from a shared meta registry, so test files running at once never probe the same ports.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll } from 'vitest';
import { CLI, LOADER, NODE, ROOT } from '../harness/paths.js';
import { Registry, selfOwner, type PortRange } from '../src/core/index.js';

export { CLI, NODE, ROOT };

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function collect(child: ChildProcess): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Run the built CLI (dist/cli/index.js) with `node`, as a user would. */
export function cli(args: string[], opts: SpawnOptions = {}): Promise<Run> {
  return collect(spawn(NODE, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts }));
}

/** The pid of a process that has just exited: an owner or lock holder that is provably dead. */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid ?? 0;
  await new Promise((r) => child.once('exit', r));
  return pid;
}

/** Start a TypeScript fixture (test/fixtures/NAME.ts) in its own Node process. */
export function fixture(name: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn(NODE, ['--import', LOADER, join(ROOT, 'test/fixtures', `${name}.ts`), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...opts,
  });
}

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the file's tests; `open` makes it reachable by every user. */
export function tempDir(open = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'portlease-test-'));
  if (open) chmodSync(dir, 0o755);
  temps.push(dir);
  return dir;
}

/** Every file below `dir` (symlinks as their target text), for byte-for-byte comparison. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[rel + '/'] = `mode ${(st.mode & 0o7777).toString(8)}`;
        walk(p);
      } else out[rel] = readFileSync(p, 'latin1');
    }
  };
  walk(dir);
  return out;
}

const META = join(tmpdir(), 'portlease-tests-meta');

/**
 * A block of `size` consecutive ports leased for this test file from a meta registry shared
 * by all test files (owner: this test process), so ranges never overlap between files that
 * run at the same time. Ranges come from 20000-31999, below the usual ephemeral range.
 */
export async function testRange(size: number): Promise<PortRange> {
  const meta = new Registry(META);
  const { lease } = await meta.allocate({
    names: Array.from({ length: size }, (_, i) => `P${i}`),
    range: { lo: 20000, hi: 31999 },
    contiguous: true,
    strategy: 'random',
    owner: selfOwner(),
    ttlMs: 3_600_000,
    waitMs: 60_000,
  });
  ranges.push(lease.id);
  const ports = Object.values(lease.ports);
  return { lo: Math.min(...ports), hi: Math.max(...ports) };
}

/**
 * The ranges this test file leased, given back after its tests: a worker process runs many
 * files, and ranges kept until it exits would fragment 20000-31999 until no large block is
 * left in a row.
 */
const ranges: string[] = [];
afterAll(async () => {
  const meta = new Registry(META);
  for (const id of ranges.splice(0)) await meta.release({ lease: id });
});

export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

/** One live lease as `portlease list --json` shows it. */
export interface Listed {
  lease: string;
  key: string;
  ports: Record<string, number>;
  owner: { kind: string; pid?: number } | null;
  labels: Record<string, string>;
}

/**
 * `portlease list --json` on the built CLI; throws unless it succeeds, and (unless
 * `warnings`) says nothing on stderr.
 */
export async function listLeases(registry: string, warnings = false): Promise<Listed[]> {
  const r = await cli(['list', '--json', '--registry', registry]);
  if (r.code !== 0 || (!warnings && r.stderr !== '')) {
    throw new Error(`portlease list failed (${String(r.code)}): ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as Listed[];
}

/** Parse NAME=PORT lines. */
export function parsePorts(text: string): Record<string, number> {
  return Object.fromEntries(
    lines(text).map((l) => {
      const [k, v] = l.split('=');
      return [k ?? '', Number(v)];
    }),
  );
}

/** An IPv4 address of TEST-NET-3 (RFC 5737) that no interface of this host has. */
export function foreignAddress(): string {
  const local = new Set(
    Object.values(networkInterfaces())
      .flat()
      .map((i) => i?.address),
  );
  for (let i = 1; i < 255; i++) if (!local.has(`203.0.113.${i}`)) return `203.0.113.${i}`;
  throw new Error('every TEST-NET-3 address is local here');
}
