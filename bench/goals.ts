// The goals a run is held to, each with what was measured and whether it was met.
import type { Goal, Results } from './results.js';
import { round } from './stats.js';

export function goals(results: Omit<Results, 'goals' | 'warnings'>): Goal[] {
  const out: Goal[] = [];
  const at1000 = results.latency?.find((r) => r.leases === 1000);
  if (at1000) {
    out.push({
      id: 'latency',
      what: 'allocate+release p50 at 1,000 leases / bare locked write p50',
      goal: '<= 2.5x',
      measured: `${at1000.ratioP50}x (${at1000.pairP50} / ${at1000.floorP50} ms)`,
      met: at1000.ratioP50 <= 2.5,
    });
  }
  const c = results.command;
  if (c) {
    out.push({
      id: 'command-cli',
      what: '`portlease allocate` p50 / `node -e 0` p50',
      goal: '<= 1.5x',
      measured: `${c.cliRatio}x (${c.cliP50} / ${c.nodeP50} ms)`,
      met: c.cliRatio <= 1.5,
    });
    const m = c.main;
    out.push({
      id: 'command-main',
      what: 'action main (dist/main/index.js) p50 / `node -e 0` p50',
      goal: '<= 1.5x',
      measured:
        'skipped' in m ? `skipped: ${m.skipped}` : `${m.ratio}x (${m.p50} / ${c.nodeP50} ms)`,
      met: 'skipped' in m ? null : m.ratio <= 1.5,
    });
  }
  const k64 = results.contention?.find((r) => r.processes === 64);
  if (k64) {
    out.push({
      id: 'contention',
      what: '64 concurrent `portlease allocate` / 64 concurrent `node -e 0` (wall)',
      goal: '<= 1.2x',
      measured: `${k64.ratio}x (${k64.cliWallMs} / ${k64.nodeWallMs} ms)`,
      met: k64.ratio <= 1.2 && k64.failures === 0 && k64.duplicates === 0,
    });
  }
  const pl = results.collision?.filter((r) => r.method === 'portlease') ?? [];
  if (pl.length > 0) {
    const bad = pl.reduce(
      (s, r) => s + r.roundsWithCollision + r.portsOutsideRange + r.portsInEphemeral,
      0,
    );
    out.push({
      id: 'collision',
      what: 'portlease rounds with a collision (allocate, barrier, bind)',
      goal: '0 in every round',
      measured: pl
        .map((r) => `${r.roundsWithCollision}/${r.rounds} rounds at ${r.legs} legs`)
        .join(', '),
      met: bad === 0,
    });
  }
  const py = results.pytest;
  if (py && !('skipped' in py)) {
    const server = py.rows.find((r) => r.kind === 'server');
    const bind0 = py.rows.find((r) => r.kind === 'bind0');
    if (server && bind0) {
      const overhead = round(server.p50 - bind0.p50);
      out.push({
        id: 'pytest-fixture',
        what: 'pytest fixture over the lease server: p50 per test minus a bind(0) test',
        goal: '<= 5 ms',
        measured: `${overhead} ms (${server.p50} - ${bind0.p50} ms)`,
        met: overhead <= 5,
      });
    }
  }
  for (const r of results.serve?.rows ?? []) {
    out.push({
      id: `serve ${r.where}`,
      what: `lease + release through \`portlease serve\`, registry on ${r.where}`,
      goal: '<= 3 ms',
      measured: `${r.serveP50} ms (in-process core ${r.floorP50} ms)`,
      met: r.serveP50 <= 3,
    });
  }
  const ps = results.portserver;
  if (ps) {
    out.push({
      id: 'portserver',
      what: '`portlease portserver` / reference `portserver`, 200 requests from portpicker',
      goal: '<= 5x',
      measured:
        'skipped' in ps
          ? `skipped: ${ps.skipped}`
          : `${ps.ratio}x (${ps.portleaseP50} / ${ps.referenceP50} ms)`,
      met: 'skipped' in ps ? null : ps.ratio <= 5,
    });
  }
  return out;
}
