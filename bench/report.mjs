// Render benchmark results: markdown tables, a hand-written SVG chart, and docs/bench.md.

const fmtRange = (r) => `${r.lo}-${r.hi}`;
const pct = (x) => `${Math.round(x * 100)}%`;
const met = (g) => (g.met === null ? 'skipped' : g.met ? '**met**' : '**not met**');
const kib = (b) =>
  b < 1024
    ? `${b} B`
    : b < 1048576
      ? `${(b / 1024).toFixed(1)} KiB`
      : `${(b / 1048576).toFixed(1)} MiB`;
const num = (n) => n.toLocaleString('en-US');

function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

function metaLine(res) {
  const m = res.meta;
  return `Made by \`${m.command}\` on ${m.date.slice(0, 10)} (${m.mode} run, ${m.seconds} s): Node ${m.node}, ${m.platform}, ${m.cpus}, temp registries on ${m.filesystem}, kernel ephemeral range ${fmtRange(m.ephemeral)}.`;
}

export function goalsTable(res) {
  return table(
    ['Goal', 'Measured (same run)', 'Target', 'Result'],
    res.goals.map((g) => [g.what, g.measured, g.goal, met(g)]),
  );
}

export function collisionTable(res, legs) {
  const rows = res.collision.filter((r) => r.legs === legs);
  if (rows.length === 0) return '';
  const r0 = rows[0];
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
        `${r.roundsWithCollision}/${r.rounds} (${pct(r.collisionRate)})`,
        `${r.legsFailedToBind}/${r.rounds * r.legs}`,
        `${r.legsErrored}`,
        `${r.portsOutsideRange}/${r.ports}${r.ranged ? '' : ' (takes no range)'}`,
        `${r.portsInEphemeral}/${r.ports}`,
      ]),
    )
  );
}

function latencyTable(res) {
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
    res.latency.map((r) => [
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

function breakdownTable(res) {
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
    res.latency.map((r) => {
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

function commandTable(res) {
  const c = res.command;
  const rows = [
    ['`node -e 0` (floor)', `${c.nodeP50} ms`, '', '1.00x'],
    ['`portlease allocate` (dist/cli)', `${c.cliP50} ms`, `${c.cliP99} ms`, `${c.cliRatio}x`],
    c.main.skipped
      ? ['action main (dist/main)', c.main.skipped, '', '']
      : ['action main (dist/main)', `${c.main.p50} ms`, `${c.main.p99} ms`, `${c.main.ratio}x`],
  ];
  return (
    `${c.samples} runs each, interleaved:\n\n` +
    table(['Command', 'p50', 'p99', 'p50 / floor'], rows)
  );
}

function contentionTable(res) {
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
    res.contention.map((r) => [
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

export function renderMarkdown(res) {
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
  if (res.contention) {
    parts.push(
      `## Contention: K processes allocating at once\n\nWall time from the first spawn to the last exit (median of ${res.contention[0]?.reps ?? 0}), against K \`node -e 0\` started the same way. "Pre-started": K processes that have already loaded the engine allocate at once on a signal, which leaves out Node's start-up and shows the lock's throughput.\n\n${contentionTable(res)}`,
    );
  }
  if (res.warnings.length > 0) {
    parts.push(`## Warnings\n\n${res.warnings.map((w) => `- ${w}`).join('\n')}\n`);
  }
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------
// SVG: three horizontal bar panels, drawn by hand.

const esc = (s) =>
  String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

const WIDTH = 1010;
const LABEL_W = 250;
const BAR_W = 430;
const ROW_H = 22;
const COLORS = { good: '#2e7d32', bad: '#c62828', neutral: '#607d8b', floor: '#b0bec5' };

function panel(y, title, rows, { max, goal, unit = '' }) {
  const out = [];
  out.push(`<text x="12" y="${y + 16}" class="title">${esc(title)}</text>`);
  let ry = y + 30;
  const scale = (v) => (max > 0 ? Math.max(0, Math.min(v / max, 1)) * BAR_W : 0);
  for (const r of rows) {
    const w = scale(r.value);
    out.push(
      `<text x="${LABEL_W - 8}" y="${ry + 15}" text-anchor="end">${esc(r.label)}</text>`,
      `<rect x="${LABEL_W}" y="${ry + 3}" width="${Math.max(w, 1).toFixed(1)}" height="${ROW_H - 6}" fill="${r.color}"/>`,
      `<text x="${LABEL_W + w + 6}" y="${ry + 15}">${esc(r.text ?? `${r.value}${unit}`)}</text>`,
    );
    ry += ROW_H;
  }
  if (goal !== undefined) {
    const gx = LABEL_W + scale(goal.value);
    out.push(
      `<line x1="${gx.toFixed(1)}" y1="${y + 26}" x2="${gx.toFixed(1)}" y2="${ry + 2}" class="goal"/>`,
      `<text x="${(gx + 4).toFixed(1)}" y="${y + 26}" class="small">${esc(goal.label)}</text>`,
    );
  }
  return { svg: out.join('\n'), height: ry - y + 16 };
}

export function renderSvg(res) {
  const panels = [];
  let y = 10;
  const add = (p) => {
    panels.push(p.svg);
    y += p.height;
  };

  if (res.collision) {
    const legs = Math.min(...res.collision.map((r) => r.legs));
    const rows = res.collision
      .filter((r) => r.legs === legs)
      .map((r) => ({
        label: r.label,
        value: r.collisionRate * 100,
        text: `${pct(r.collisionRate)} (${r.roundsWithCollision}/${r.rounds})`,
        color: r.roundsWithCollision === 0 ? COLORS.good : COLORS.bad,
      }));
    add(
      panel(y, `Rounds with a port collision: ${legs} legs x 3 ports, allocate then bind`, rows, {
        max: 100,
      }),
    );
  }
  if (res.latency) {
    const rows = res.latency.map((r) => ({
      label: `${num(r.leases)} live leases`,
      value: r.ratioP50,
      text: `${r.ratioP50}x  (${r.pairP50} ms vs floor ${r.floorP50} ms)`,
      color: r.leases === 1000 ? (r.ratioP50 <= 2.5 ? COLORS.good : COLORS.bad) : COLORS.neutral,
    }));
    const max = Math.max(3, ...rows.map((r) => r.value)) * 1.05;
    add(
      panel(y, 'In-process allocate+release p50, as a multiple of one bare locked write', rows, {
        max,
        goal: { value: 2.5, label: 'goal 2.5x' },
      }),
    );
  }
  const cmdRows = [];
  if (res.command) {
    const c = res.command;
    cmdRows.push({
      label: 'portlease allocate',
      value: c.cliRatio,
      text: `${c.cliRatio}x  (${c.cliP50} vs ${c.nodeP50} ms)`,
      color: c.cliRatio <= 1.5 ? COLORS.good : COLORS.bad,
    });
    if (!c.main.skipped) {
      cmdRows.push({
        label: 'action main entry',
        value: c.main.ratio,
        text: `${c.main.ratio}x  (${c.main.p50} vs ${c.nodeP50} ms)`,
        color: c.main.ratio <= 1.5 ? COLORS.good : COLORS.bad,
      });
    }
  }
  if (res.contention) {
    for (const r of res.contention) {
      cmdRows.push({
        label: `${r.processes} at once`,
        value: r.ratio,
        text: `${r.ratio}x  (${r.cliWallMs} vs ${r.nodeWallMs} ms, ${r.allocationsPerSec}/s)`,
        color: r.processes === 64 ? (r.ratio <= 1.2 ? COLORS.good : COLORS.bad) : COLORS.neutral,
      });
    }
  }
  if (cmdRows.length > 0) {
    const max = Math.max(2, ...cmdRows.map((r) => r.value)) * 1.05;
    add(
      panel(
        y,
        'Whole command and contention, as a multiple of `node -e 0` (1 = no overhead)',
        cmdRows,
        {
          max,
          goal: { value: 1, label: 'node -e 0' },
        },
      ),
    );
  }
  const foot = `<text x="12" y="${y + 4}" class="small">${esc(metaLine(res).replace(/`/g, ''))}</text>`;
  const height = y + 16;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">
<style>
  text { fill: #24292f; }
  .title { font-weight: 600; font-size: 13px; }
  .small { font-size: 10px; fill: #57606a; }
  .goal { stroke: #24292f; stroke-dasharray: 4 3; stroke-width: 1; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
${panels.join('\n')}
${foot}
</svg>
`;
}

// ---------------------------------------------------------------------------------------
// docs/bench.md: the README section.

export function renderDoc(res) {
  const legs = res.collision ? Math.min(...res.collision.map((r) => r.legs)) : null;
  return `# Benchmarks

<!-- Generated by \`npm run bench\` (bench/run.mjs); edit bench/report.mjs, not this file. -->

${metaLine(res)}

${legs === null ? '' : `## Collisions under the real pattern\n\nEach matrix leg is its own process. It gets 3 ports, waits until every leg has its ports (the barrier: servers start later than ports are picked), then binds all 3 and holds them until every leg has tried. ${collisionTable(res, legs)}`}
![portlease benchmark chart](../bench/results/chart.svg)

## Goals

${goalsTable(res)}
Reproduce with:

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
- **Contention ratio**: wall time for K \`portlease allocate\` processes started at once (all must succeed, with no port given twice) divided by the wall time of K \`node -e 0\` started the same way. Allocations/s is K divided by that wall time.
`;
}

/** The README's benchmark section (between the bench:start and bench:end markers). */
export function renderReadmeBlock(res) {
  const legs = res.collision ? Math.min(...res.collision.map((r) => r.legs)) : null;
  return `${metaLine(res)}

${legs === null ? '' : `Collisions under the real pattern: each matrix leg, its own process, gets 3 ports, waits until every leg has its ports, then binds them all. ${collisionTable(res, legs)}`}
![portlease benchmark chart](bench/results/chart.svg)

${goalsTable(res)}
Made with \`npm run bench\` (several minutes; \`npm run bench -- --quick\` in under one). Every
table, registry size and process count, and what each column means: [docs/bench.md](docs/bench.md).
`;
}
