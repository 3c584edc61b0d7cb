// 2. Whole-command cost: `portlease allocate` and the action's main step, each against
// `node -e 0`, all three run by one stand-in runner worker (harness/runner.ts) and timed by
// it from spawn to exit, interleaved.
import { jobEnv, StandInWorker, type Run } from '../harness/runner.js';
import { baseEnv, log, type Context } from './context.js';
import { ALLOC_RANGE, NAMES } from './options.js';
import type { CommandResult, MainResult } from './results.js';
import { median, quantile, round } from './stats.js';

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/** The wall time of a run that must succeed. */
function timed(what: string, r: Run): number {
  if (r.code !== 0) {
    throw new Error(
      `${what} exited ${String(r.code ?? r.signal)}: ${firstLine(r.stderr || r.stdout)}`,
    );
  }
  return r.ms;
}

export async function command(ctx: Context): Promise<CommandResult> {
  if (ctx.cli === null) throw new Error('dist/cli/index.js is not built: npm run build');
  const cliDir = ctx.freshDir('command-cli');
  const mainDir = ctx.freshDir('command-main');
  const action = ctx.action;
  if (action === null) log('skipped: dist/main/index.js not built');
  const env = baseEnv();
  const range = `${String(ALLOC_RANGE.lo)}-${String(ALLOC_RANGE.hi)}`;
  const cliArgs = [ctx.cli, 'allocate', ...NAMES, '--registry', cliDir, '--range', range];
  const inputs = { ports: NAMES.join(' '), range, registry: mainDir };
  // A job as a runner gives it, without step debug logging.
  const job = jobEnv('bench', { RUNNER_DEBUG: '0' });
  const base: number[] = [];
  const cli: number[] = [];
  const main: number[] = [];
  let mainError: string | null = null;
  const worker = await StandInWorker.start();
  try {
    for (let i = 0; i < ctx.config.commandReps + 1; i++) {
      const b = timed('node -e 0', await worker.run(['-e', '0'], env));
      const c = timed('portlease allocate', await worker.run(cliArgs, env));
      await ctx.releaseAll(cliDir);
      let m: number | null = null;
      if (action !== null && mainError === null) {
        const r = await worker.main(action, inputs, job);
        if (r.code === 0 && r.errors.length === 0) m = r.ms;
        else {
          mainError = firstLine(r.errors[0] ?? r.stderr);
          log(`dist/main/index.js failed: ${mainError}`);
        }
        await ctx.releaseAll(mainDir);
      }
      if (i === 0) continue; // warm-up: page cache, compile cache
      base.push(b);
      cli.push(c);
      if (m !== null) main.push(m);
    }
  } finally {
    await worker.stop();
  }
  const baseP50 = median(base);
  const mainResult: MainResult =
    action === null
      ? { skipped: 'dist/main/index.js not built' }
      : main.length === 0
        ? { skipped: `dist/main/index.js failed: ${mainError ?? ''}` }
        : {
            p50: round(median(main)),
            p99: round(quantile(main, 0.99)),
            ratio: round(median(main) / baseP50),
          };
  const result: CommandResult = {
    samples: base.length,
    nodeP50: round(baseP50),
    cliP50: round(median(cli)),
    cliP99: round(quantile(cli, 0.99)),
    cliRatio: round(median(cli) / baseP50),
    main: mainResult,
  };
  const mainText =
    'skipped' in mainResult ? mainResult.skipped : `${mainResult.p50} ms (${mainResult.ratio}x)`;
  log(
    `command: node -e 0 p50 ${result.nodeP50} ms; portlease allocate p50 ${result.cliP50} ms (${result.cliRatio}x); main ${mainText}`,
  );
  return result;
}
