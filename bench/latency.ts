// 1. In-process latency: allocate + release of 3 names against registries of 0 to 10,000
// live leases, each measured interleaved with its floor, one bare locked write of the same
// registry; plus where the time goes, and the cost of probing 3 ports alone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Registry } from '../src/core/index.js';
import { acquireLock } from '../src/core/lock.js';
import { self, type ProcessOwner } from '../src/core/owner.js';
import { probePort } from '../src/core/probe.js';
import { writeAtomic } from '../src/core/fsio.js';
import { serialize } from '../src/core/layout.js';
import { RecordMemo } from '../src/core/memo.js';
import { newLeaseId, STATE_FILE, type Lease } from '../src/core/schema.js';
import { readState, writeState } from '../src/core/store.js';
import { log, type Context } from './context.js';
import { ALLOC_RANGE, NAMES } from './options.js';
import type { LatencyRow } from './results.js';
import { median, quantile, round } from './stats.js';

/** N valid lease records owned by this very process (so they stay live), one port each. */
function prefill(n: number, me: ProcessOwner): Lease[] {
  const now = Date.now();
  const leases: Lease[] = [];
  for (let i = 0; i < n; i++) {
    // Spread over 1024-32023: a wide range below the ephemeral one; about a third of them
    // land in the allocation range, so allocate has to step over held ports.
    const port = 1024 + Math.floor((i * 31000) / Math.max(n, 1));
    leases.push({
      id: newLeaseId(),
      key: `bench-prefill-${String(i)}`,
      ports: { PORT_1: port },
      range: { lo: 1024, hi: 32023 },
      contiguous: false,
      owner: me,
      created: new Date(now).toISOString(),
      expires: new Date(now + 6 * 3_600_000).toISOString(),
      labels: { repo: 'acme/widgets', run: String(1_000_000 + i) },
    });
  }
  return leases;
}

/** The floor: lock, read the state, write it back atomically, unlock. */
async function floorOnce(dir: string): Promise<void> {
  const lk = await acquireLock(dir);
  try {
    const path = join(dir, STATE_FILE);
    writeAtomic(path, readFileSync(path, 'utf8'));
  } finally {
    lk.release();
  }
}

export async function latency(ctx: Context): Promise<LatencyRow[]> {
  const { config } = ctx;
  const me = self();
  const rows: LatencyRow[] = [];
  for (const n of config.sizes) {
    const dir = ctx.freshDir(`latency-${String(n)}`);
    writeState(dir, prefill(n, me));
    const bytes = readFileSync(join(dir, STATE_FILE)).length;
    const reg = new Registry(dir, { warn: ctx.warn });
    const iters = config.iters[n] ?? 30;
    const floor: number[] = [];
    const alloc: number[] = [];
    const rel: number[] = [];
    const pair: number[] = [];
    for (let i = 0; i < config.warmup + iters; i++) {
      const t0 = performance.now();
      await floorOnce(dir);
      const t1 = performance.now();
      const a = await reg.allocate({
        names: NAMES,
        range: ALLOC_RANGE,
        owner: me,
        ttlMs: 3_600_000,
      });
      const t2 = performance.now();
      const released = await reg.release({ lease: a.lease.id });
      const t3 = performance.now();
      if (released === null) throw new Error('latency: release found no lease');
      if (i < config.warmup) continue;
      floor.push(t1 - t0);
      alloc.push(t2 - t1);
      rel.push(t3 - t2);
      pair.push(t3 - t1);
    }
    // Where the time goes: the parts of one operation, timed alone on the same registry.
    const path = join(dir, STATE_FILE);
    const parts = {
      read: [] as number[],
      parse: [] as number[],
      readState: [] as number[],
      serialize: [] as number[],
    };
    // One memo for the parts, as a Registry keeps one: readState and serialize are timed as
    // a registry runs them, on lines it has validated and records it has written before.
    const memo = new RecordMemo();
    const state = readState(dir, { quarantine: false, memo }).leases;
    for (let i = 0; i < Math.min(iters, 30); i++) {
      let t = performance.now();
      const text = readFileSync(path, 'utf8');
      parts.read.push(performance.now() - t);
      t = performance.now();
      JSON.parse(text);
      parts.parse.push(performance.now() - t);
      t = performance.now();
      readState(dir, { quarantine: false, memo });
      parts.readState.push(performance.now() - t);
      t = performance.now();
      serialize(state, memo);
      parts.serialize.push(performance.now() - t);
    }
    const left = readState(dir, { quarantine: false }).leases.length;
    if (left !== n) {
      throw new Error(`latency: ${String(n)} leases prefilled, ${String(left)} left afterwards`);
    }
    const row: LatencyRow = {
      leases: n,
      bytes,
      samples: iters,
      floorP50: round(median(floor), 3),
      floorP99: round(quantile(floor, 0.99), 3),
      allocateP50: round(median(alloc), 3),
      releaseP50: round(median(rel), 3),
      pairP50: round(median(pair), 3),
      pairP99: round(quantile(pair, 0.99), 3),
      ratioP50: round(median(pair) / median(floor)),
      readP50: round(median(parts.read), 3),
      parseP50: round(median(parts.parse), 3),
      readStateP50: round(median(parts.readState), 3),
      serializeP50: round(median(parts.serialize), 3),
    };
    rows.push(row);
    log(
      `latency ${String(n)} leases: allocate+release p50 ${row.pairP50} ms p99 ${row.pairP99} ms; floor p50 ${row.floorP50} ms; ratio ${row.ratioP50}x`,
    );
  }
  return rows;
}

/** Probing 3 ports (0.0.0.0, 127.0.0.1, ::) as allocate does, on its own: p50 in ms. */
export async function probeCost(): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 40; i++) {
    const t = performance.now();
    for (let j = 0; j < 3; j++) await probePort(ALLOC_RANGE.lo + 500 + ((i * 3 + j) % 300));
    xs.push(performance.now() - t);
  }
  return round(median(xs.slice(5)), 3);
}
