// 3. Contention: K `portlease allocate` processes started at once, against K `node -e 0`
// started the same way; and K pre-started processes (registry loaded) allocating at once on
// a signal, which leaves Node's start-up out and shows the lock's throughput.
import { fork, spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LOADER, NODE, ROOT } from '../harness/paths.js';
import type { AllocChildMessage } from './alloc-child.js';
import { baseEnv, log, type Context } from './context.js';
import { ALLOC_RANGE, NAMES } from './options.js';
import type { ContentionRow } from './results.js';
import { median, round } from './stats.js';

const ALLOC_CHILD = join(ROOT, 'bench/alloc-child.ts');

interface Exit {
  code: number | null;
  out: string;
  err: string;
}

/** Start K processes at once; the wall time until the last has exited. */
async function spawnMany(
  k: number,
  argv: string[],
  env: Record<string, string>,
): Promise<{ ms: number; res: Exit[] }> {
  const t0 = performance.now();
  const kids: Promise<Exit>[] = [];
  for (let i = 0; i < k; i++) {
    kids.push(
      new Promise((resolve) => {
        const child = spawn(NODE, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('error', (e) => {
          resolve({ code: -1, out, err: String(e) });
        });
        child.on('close', (code) => {
          resolve({ code, out, err });
        });
      }),
    );
  }
  const res = await Promise.all(kids);
  return { ms: performance.now() - t0, res };
}

/** K processes already running (registry loaded) allocate at once. */
async function preStarted(
  ctx: Context,
  k: number,
): Promise<{ ms: number; failures: number; duplicates: number }> {
  const dir = ctx.freshDir(`prestarted-${String(k)}`);
  const kids = [];
  for (let i = 0; i < k; i++) {
    const child = fork(ALLOC_CHILD, [dir, String(ALLOC_RANGE.lo), String(ALLOC_RANGE.hi)], {
      execArgv: ['--import', LOADER],
      env: baseEnv(),
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    kids.push({
      child,
      ready: new Promise((resolve) => child.once('message', resolve)),
      exited: new Promise((resolve) => child.once('exit', resolve)),
    });
  }
  await Promise.all(kids.map((x) => x.ready));
  const t0 = performance.now();
  const res = await Promise.all(
    kids.map(
      ({ child }) =>
        new Promise<AllocChildMessage>((resolve) => {
          child.once('message', (m) => {
            resolve(m as AllocChildMessage);
          });
          child.send('go');
        }),
    ),
  );
  const ms = performance.now() - t0;
  for (const { child } of kids) child.send('exit');
  await Promise.all(kids.map((x) => x.exited));
  const seen = new Set<number>();
  let failures = 0;
  let duplicates = 0;
  for (const r of res) {
    if (typeof r !== 'object' || 'error' in r) {
      failures++;
      continue;
    }
    for (const p of r.ports) {
      if (seen.has(p)) duplicates++;
      seen.add(p);
    }
  }
  return { ms, failures, duplicates };
}

export async function contention(ctx: Context): Promise<ContentionRow[]> {
  if (ctx.cli === null) throw new Error('dist/cli/index.js is not built: npm run build');
  const { config } = ctx;
  const env = baseEnv();
  const rows: ContentionRow[] = [];
  for (const k of config.contention) {
    const dir = ctx.freshDir(`contention-${String(k)}`);
    const argv = [
      ctx.cli,
      'allocate',
      ...NAMES,
      '--registry',
      dir,
      '--range',
      `${String(ALLOC_RANGE.lo)}-${String(ALLOC_RANGE.hi)}`,
      '--json',
    ];
    const base: number[] = [];
    const cli: number[] = [];
    let failures = 0;
    let duplicates = 0;
    for (let rep = 0; rep < config.contentionReps; rep++) {
      // Alternate the order so neither side always runs on a warmer machine.
      const runBase = async (): Promise<void> => {
        base.push((await spawnMany(k, ['-e', '0'], env)).ms);
      };
      const runCli = async (): Promise<void> => {
        const r = await spawnMany(k, argv, env);
        cli.push(r.ms);
        const seen = new Set<number>();
        for (const x of r.res) {
          if (x.code !== 0) {
            failures++;
            if (failures <= 3) log(`contention ${String(k)}: a process failed: ${x.err.trim()}`);
            continue;
          }
          const doc = JSON.parse(x.out) as { ports: Record<string, number> };
          for (const p of Object.values(doc.ports)) {
            if (seen.has(p)) duplicates++;
            seen.add(p);
          }
        }
        await ctx.releaseAll(dir);
      };
      if (rep % 2 === 0) {
        await runBase();
        await runCli();
      } else {
        await runCli();
        await runBase();
      }
    }
    const warm: number[] = [];
    for (let rep = 0; rep < config.contentionReps; rep++) {
      const r = await preStarted(ctx, k);
      warm.push(r.ms);
      if (r.failures + r.duplicates > 0) {
        log(
          `contention ${String(k)} pre-started: ${String(r.failures)} failed, ${String(r.duplicates)} duplicate ports`,
        );
      }
      failures += r.failures;
      duplicates += r.duplicates;
    }
    const row: ContentionRow = {
      processes: k,
      reps: config.contentionReps,
      nodeWallMs: round(median(base), 1),
      cliWallMs: round(median(cli), 1),
      allocationsPerSec: round((k * 1000) / median(cli), 1),
      ratio: round(median(cli) / median(base)),
      preStartedWallMs: round(median(warm), 1),
      preStartedPerSec: round((k * 1000) / median(warm), 1),
      failures,
      duplicates,
    };
    rows.push(row);
    log(
      `contention ${String(k)}: node -e 0 ${row.nodeWallMs} ms, portlease ${row.cliWallMs} ms (${row.ratio}x, ${row.allocationsPerSec}/s); pre-started ${row.preStartedWallMs} ms (${row.preStartedPerSec}/s); failures ${String(failures)}, duplicate ports ${String(duplicates)}`,
    );
  }
  return rows;
}
