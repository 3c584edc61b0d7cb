// Render benchmark results as markdown: bench/results/results.md and docs/bench.md.
import type { Goal, Results } from './results.js';
import { round } from './stats.js';

export const fmtRange = (r: { lo: number; hi: number }): string => `${r.lo}-${r.hi}`;
export const pct = (x: number): string => `${Math.round(x * 100)}%`;
const met = (g: Goal): string => (g.met === null ? 'skipped' : g.met ? '**met**' : '**not met**');
const kib = (b: number): string =>
  b < 1024
    ? `${b} B`
    : b < 1048576
      ? `${(b / 1024).toFixed(1)} KiB`
      : `${(b / 1048576).toFixed(1)} MiB`;
export const num = (n: number): string => n.toLocaleString('en-US');

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

export function metaLine(res: Results): string {
  const m = res.meta;
  return `Made by \`${m.command}\` on ${m.date.slice(0, 10)} (${m.mode} run, ${m.seconds} s): Node ${m.node}, ${m.platform}, ${m.cpus}, temp registries on ${m.filesystem}, kernel ephemeral range ${fmtRange(m.ephemeral)}.`;
}

export function goalsTable(res: Results): string {
  return table(
    ['Goal', 'Measured (same run)', 'Target', 'Result'],
    res.goals.map((g) => [g.what, g.measured, g.goal, met(g)]),
  );
}

export function collisionTable(res: Results, legs: number): string {
  const rows = (res.collision ?? []).filter((r) => r.legs === legs);
  const r0 = rows[0];
  if (r0 === undefined) return '';
  const range = fmtRange(res.meta.collisionRange);
  return (
    `${legs} legs x 3 ports, ${r0.rounds} rounds, every allocator asked for ${range}:\n\n` +
    table(
      [
        'Allocator',
        'Rounds with a collision',
        'Legs that failed to bind',
        'Legs with an error',
        `Ports outside ${range}`,
        `Ports in ephemeral range`,
      ],
      rows.map((r) => [
        r.method === 'portlease' ? `**${r.label}**` : r.label,
        `${r.roundsWithCollision}/${r.rounds} (${pct(r.collisionRate ?? NaN)})`,
        `${r.legsFailedToBind}/${r.rounds * r.legs}`,
        `${r.legsErrored}`,
        `${r.portsOutsideRange}/${r.ports}${r.ranged ? '' : ' (takes no range)'}`,
        `${r.portsInEphemeral}/${r.ports}`,
      ]),
    )
  );
}

function latencyTable(res: Results): string {
  return table(
    [
      'Live leases',
      'Registry file',
      'Samples',
      'allocate+release p50',
      'p99',
      'allocate p50',
      'release p50',
      'Floor p50',
      'Floor p99',
      'p50 / floor',
    ],
    (res.latency ?? []).map((r) => [
      num(r.leases),
      kib(r.bytes),
      `${r.samples}`,
      `${r.pairP50} ms`,
      `${r.pairP99} ms`,
      `${r.allocateP50} ms`,
      `${r.releaseP50} ms`,
      `${r.floorP50} ms`,
      `${r.floorP99} ms`,
      `${r.ratioP50}x`,
    ]),
  );
}

function breakdownTable(res: Results): string {
  const probe = res.probe3P50 ?? NaN;
  return table(
    [
      'Live leases',
      'Read file',
      'JSON.parse',
      'readState (read+parse+validate)',
      'serialize',
      'Probe 3 ports',
      'Model: 2 x (floor - read + readState + serialize) + probe',
      'Measured allocate+release',
    ],
    (res.latency ?? []).map((r) => {
      const model = 2 * (r.floorP50 - r.readP50 + r.readStateP50 + r.serializeP50) + probe;
      return [
        num(r.leases),
        `${r.readP50} ms`,
        `${r.parseP50} ms`,
        `${r.readStateP50} ms`,
        `${r.serializeP50} ms`,
        `${probe} ms`,
        `${model.toFixed(2)} ms`,
        `${r.pairP50} ms`,
      ];
    }),
  );
}

function commandTable(res: Results): string {
  const c = res.command;
  if (c === undefined) return '';
  const m = c.main;
  const rows = [
    ['`node -e 0` (floor)', `${c.nodeP50} ms`, '', '1.00x'],
    ['`portlease allocate` (dist/cli)', `${c.cliP50} ms`, `${c.cliP99} ms`, `${c.cliRatio}x`],
    'skipped' in m
      ? ['action main (dist/main)', m.skipped, '', '']
      : ['action main (dist/main)', `${m.p50} ms`, `${m.p99} ms`, `${m.ratio}x`],
  ];
  return (
    `${c.samples} runs each, interleaved:\n\n` +
    table(['Command', 'p50', 'p99', 'p50 / floor'], rows)
  );
}

function serveTable(res: Results): string {
  const v = res.serve;
  if (v === undefined) return '';
  return (
    `One lease + release of one port through \`portlease serve\` (a client on its socket, as the pytest plugin talks to it), interleaved pair by pair with the same lease + release on an in-process core \`Registry\` (no socket, no container-engine query): ${v.rows[0]?.requests ?? 0} pairs after 20 warm-up pairs. A state write on ext4 pays for the flush its replace-by-rename starts (\`auto_da_alloc\`), a tmpfs does not.\n\n` +
    table(
      ['Registry on', 'serve p50', 'serve p99', 'in-process core p50', 'serve / core'],
      v.rows.map((r) => [
        r.where,
        `${r.serveP50} ms`,
        `${r.serveP99} ms`,
        `${r.floorP50} ms`,
        `${r.ratio}x`,
      ]),
    )
  );
}

function portserverTable(res: Results): string {
  const p = res.portserver;
  if (p === undefined) return '';
  if ('skipped' in p) return `Skipped: ${p.skipped}.\n`;
  return (
    `${p.requests} requests from portpicker's own client (\`get_port_from_port_server\`, one connection each) to each server, timed in the client; median of ${p.rounds} rounds, interleaved. Each \`portlease portserver\` port is a lease written under the registry's lock; the reference server (Debian's \`portserver\`) keeps its pool in memory.\n\n` +
    table(
      ['Server', `${p.requests} requests`, 'per request', 'ratio'],
      [
        [
          'reference `portserver` (python3-portpicker)',
          `${p.referenceP50} ms`,
          `${round(p.referenceP50 / p.requests, 2)} ms`,
          '1.00x',
        ],
        [
          '`portlease portserver`',
          `${p.portleaseP50} ms`,
          `${round(p.portleaseP50 / p.requests, 2)} ms`,
          `${p.ratio}x`,
        ],
      ],
    )
  );
}

function contentionTable(res: Results): string {
  return table(
    [
      'Processes at once',
      '`node -e 0` wall',
      '`portlease allocate` wall',
      'Allocations/s',
      'Ratio',
      'Pre-started processes wall',
      'Allocations/s (pre-started)',
      'Failed',
      'Duplicate ports',
    ],
    (res.contention ?? []).map((r) => [
      `${r.processes}`,
      `${r.nodeWallMs} ms`,
      `${r.cliWallMs} ms`,
      `${r.allocationsPerSec}`,
      `${r.ratio}x`,
      `${r.preStartedWallMs} ms`,
      `${r.preStartedPerSec}`,
      `${r.failures}`,
      `${r.duplicates}`,
    ]),
  );
}

const PYTEST_LABELS = {
  bind0: 'the test binds port 0 (no fixture)',
  server: '`portlease` fixture, over the lease server',
  cli: '`portlease` fixture, over the CLI (PORTLEASE_PYTEST_SERVER=0)',
};

export function pytestTable(res: Results): string {
  const p = res.pytest;
  if (p === undefined) return '';
  if ('skipped' in p) return `Skipped: ${p.skipped}.\n`;
  const by = Object.fromEntries(p.rows.map((r) => [r.kind, r]));
  const ratio = (kind: 'bind0' | 'server' | 'cli'): string => {
    const r = by[kind];
    const server = by.server;
    const bind0 = by.bind0;
    if (r === undefined || server === undefined || bind0 === undefined) return '';
    return `${round1(r.p50 / bind0.p50)}x / ${round1(r.p50 / server.p50)}x`;
  };
  return (
    `${p.sessions} sessions of ${p.tests} tests of each kind, interleaved; a test's cost is its setup + call + teardown as pytest reports them. Server over bind(0): **${p.serverVsBind0}x**; CLI over server: **${p.cliVsServer}x**.\n\n` +
    table(
      [
        'Test',
        'p50',
        'p99',
        'Mean (with the server start)',
        'Session wall p50',
        'p50 / bind(0) / server',
      ],
      p.rows.map((r) => [
        PYTEST_LABELS[r.kind],
        `${r.p50} ms`,
        `${r.p99} ms`,
        `${r.mean} ms`,
        `${r.sessionWallMs} ms`,
        ratio(r.kind),
      ]),
    )
  );
}

const round1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(x < 1 ? 3 : 1) : 'n/a');

export function renderMarkdown(res: Results): string {
  const parts = [`# portlease benchmark results\n\n${metaLine(res)}\n`];
  if (res.goals.length > 0) parts.push(`## Goals\n\n${goalsTable(res)}`);
  if (res.collision) {
    parts.push(
      '## Collisions: every leg gets 3 ports, waits until all legs have theirs, then binds them all\n',
    );
    for (const legs of [...new Set(res.collision.map((r) => r.legs))]) {
      parts.push(collisionTable(res, legs));
    }
  }
  if (res.latency) {
    parts.push(
      `## In-process allocate + release of 3 named ports\n\nFloor: one bare locked write of the same registry (acquireLock, read, write, fsync, rename, unlock), measured interleaved with the operation. Prefilled leases are owned by the benchmark process (live), one port each, spread over 1024-32023; allocations use ${fmtRange(res.meta.allocRange)}.\n\n${latencyTable(res)}`,
    );
    parts.push(
      `### Where the time goes\n\nThe parts of one operation, timed alone on the same registry file (p50). allocate and release each do a whole locked read-validate-serialize-write cycle; allocate also probes 3 ports on 0.0.0.0, 127.0.0.1 and ::.\n\n${breakdownTable(res)}`,
    );
  }
  if (res.command) parts.push(`## Whole-command cost\n\n${commandTable(res)}`);
  if (res.portserver) parts.push(`## portpicker's protocol\n\n${portserverTable(res)}`);
  if (res.serve) parts.push(`## The lease server: \`portlease serve\`\n\n${serveTable(res)}`);
  if (res.contention) {
    parts.push(
      `## Contention: K processes allocating at once\n\nWall time from the first spawn to the last exit (median of ${res.contention[0]?.reps ?? 0}), against K \`node -e 0\` started the same way. "Pre-started": K processes that have already loaded the core allocate at once on a signal, which leaves out Node's start-up and shows the lock's throughput.\n\n${contentionTable(res)}`,
    );
  }
  if (res.pytest) {
    parts.push(
      `## pytest: the \`portlease\` fixture's cost per test\n\nOne port leased and bound per test, in one pytest session per kind (python/ on PYTHONPATH, no other plugins), against the same test binding port 0.\n\n${pytestTable(res)}`,
    );
  }
  if (res.warnings.length > 0) {
    parts.push(`## Warnings\n\n${res.warnings.map((w) => `- ${w}`).join('\n')}\n`);
  }
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------
// docs/bench.md: what the README links to.

export function renderDoc(res: Results): string {
  const legs = res.collision ? Math.min(...res.collision.map((r) => r.legs)) : null;
  return `# Benchmarks

<!-- Generated by \`npm run bench\` (bench/run.ts); edit bench/report.ts, not this file. -->

${metaLine(res)}

${legs === null ? '' : `## Collisions under the real pattern\n\nEach matrix leg is its own process. It gets 3 ports, waits until every leg has its ports (the barrier: servers start later than ports are picked), then binds all 3 and holds them until every leg has tried. ${collisionTable(res, legs)}`}
![portlease benchmark chart](../bench/results/chart.svg)

## Goals

${goalsTable(res)}
${res.pytest ? `## pytest: the fixture's cost per test\n\n${pytestTable(res)}\n` : ''}Reproduce with:

\`\`\`sh
npm run build -- cli      # the benchmark runs dist/cli/index.js (and dist/main/index.js if built)
npm run bench             # full run (several minutes): bench/results/ and this page
npm run bench -- --quick  # under a minute, prints the tables, writes nothing
npm run -s bench -- --json  # machine-readable results on stdout (-s: no npm banner)
\`\`\`

Full tables, including every registry size and process count: [bench/results/results.md](../bench/results/results.md); raw numbers: [results.json](../bench/results/results.json).

## What the columns mean

- **Rounds with a collision**: rounds in which two legs were handed the same port, or any leg could not bind a port it was handed, or could not get ports at all.
- **Legs that failed to bind**: legs with at least one \`EADDRINUSE\` (or other error) when binding the ports they were handed, out of rounds x legs.
- **Legs with an error**: the allocator itself failed (threw, exited non-zero).
- **Ports outside the range**: ports handed out that lie outside the range every allocator was asked for. get-port without a range and bind(0) take no range, so all their ports count here.
- **Ports in ephemeral range**: ports inside \`/proc/sys/net/ipv4/ip_local_port_range\`, where the kernel picks ports for outbound connections and \`bind(0)\`, and Docker publishes automatic host ports: such a port can be taken by an unrelated connection at any time.
- **allocate+release p50 / p99**: one in-process \`Registry.allocate\` of 3 named ports (lock, read and validate the records (a record line this process validated before is reused when its text is identical), check owners, probe 3 ports on 0.0.0.0, 127.0.0.1 and ::, atomic write) followed by \`release\` (a second locked read and atomic write), with N live leases in the registry.
- **Floor**: one bare locked write of a registry of the same size, measured interleaved in the same run: \`acquireLock\`, read the file, write it to a temp file, fsync, rename, unlock (the same atomic write the registry does). allocate+release does two such writes, so 2x the floor is the least it can cost.
- **Whole-command p50 / floor**: wall time of one \`node dist/cli/index.js allocate A B C\` (or the action's main entry point with \`INPUT_*\` and \`GITHUB_*\` files set) divided by the wall time of \`node -e 0\`, the cost of starting Node at all.
- **pytest fixture cost**: setup + call + teardown of a test that leases one port with the \`portlease\` fixture and binds it, as pytest reports them, over the lease server (one \`portlease serve\` per session, started by the first test) and over the CLI (two Node processes per test), against the same test binding port 0.
- **Contention ratio**: wall time for K \`portlease allocate\` processes started at once (all must succeed, with no port given twice) divided by the wall time of K \`node -e 0\` started the same way. Allocations/s is K divided by that wall time.
`;
}
