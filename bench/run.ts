// portlease benchmarks and the side-by-side comparison with other port allocators.
//
//   npm run bench                      full run; writes bench/results/ and docs/bench.md
//   npm run bench -- --quick           under a minute; prints the tables, writes nothing
//   npm run -s bench -- --json         machine-readable results on stdout (progress on stderr)
//   npm run bench -- --out DIR         write results.md, results.json, chart.svg to DIR
//   npm run bench -- --only latency,command,contention,collision,pytest
//
// Every ratio is measured against a floor taken in the same run, interleaved with the
// measurement itself, because the machine is shared and noisy. One module per section:
// latency.ts, command.ts, contention.ts, collision.ts (the peer comparison), pytest.ts (the
// pytest plugin's fixture); goals.ts, report.ts and chart.ts render; output.ts writes.
import { cpus, release as osRelease } from 'node:os';
import { performance } from 'node:perf_hooks';
import { collision } from './collision.js';
import { command } from './command.js';
import { contention } from './contention.js';
import { Context, ephemeralRange, fsType, log } from './context.js';
import { goals } from './goals.js';
import { latency, probeCost } from './latency.js';
import { portserver } from './portserver.js';
import { ALLOC_RANGE, COLLISION_RANGE, parseOptions, type Options } from './options.js';
import { pytestCost } from './pytest.js';
import { RESULTS_DIR, writeDoc, writeResults } from './output.js';
import { serve } from './serve.js';
import { renderMarkdown } from './report.js';
import type { Results } from './results.js';
import { round } from './stats.js';

async function main(opts: Options, ctx: Context): Promise<void> {
  const started = performance.now();
  const ephemeral = ephemeralRange();
  const measured: Omit<Results, 'goals' | 'warnings'> = {
    meta: {
      date: new Date().toISOString(),
      mode: opts.quick ? 'quick' : 'full',
      command: `npm run bench${opts.quick ? ' -- --quick' : ''}`,
      node: process.version,
      platform: `${process.platform} ${osRelease()}`,
      cpus: `${String(cpus().length)} x ${cpus()[0]?.model ?? 'unknown'}`,
      filesystem: fsType(ctx.work),
      ephemeral,
      allocRange: ALLOC_RANGE,
      collisionRange: COLLISION_RANGE,
    },
  };
  if (opts.only.includes('latency')) {
    measured.latency = await latency(ctx);
    measured.probe3P50 = await probeCost();
    log(`probe of 3 ports alone: p50 ${measured.probe3P50} ms`);
  }
  if (opts.only.includes('command')) measured.command = await command(ctx);
  if (opts.only.includes('contention')) measured.contention = await contention(ctx);
  if (opts.only.includes('collision')) measured.collision = await collision(ctx, ephemeral);
  if (opts.only.includes('pytest')) measured.pytest = await pytestCost(ctx);
  if (opts.only.includes('portserver')) measured.portserver = await portserver(ctx);
  if (opts.only.includes('serve')) measured.serve = await serve(ctx);
  const results: Results = { ...measured, goals: goals(measured), warnings: ctx.warnings };
  results.meta.seconds = round((performance.now() - started) / 1000, 1);

  if (opts.out !== null) {
    const written = writeResults(opts.out, results);
    if (opts.doc) written.push(await writeDoc(results));
    log(`wrote ${written.join(', ')}`);
  }
  process.stdout.write(
    opts.json ? JSON.stringify(results, null, 2) + '\n' : renderMarkdown(results),
  );
  log(`done in ${String(results.meta.seconds)} s`);
}

const opts = parseOptions(process.argv.slice(2), RESULTS_DIR);
if ('message' in opts) {
  (opts.status === 0 ? process.stdout : process.stderr).write(opts.message + '\n');
  process.exitCode = opts.status;
} else {
  const ctx = new Context(opts.config);
  try {
    if (ctx.cli === null) throw new Error('dist/cli/index.js is not built: npm run build');
    await main(opts, ctx);
  } catch (err) {
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  } finally {
    ctx.dispose();
  }
}
