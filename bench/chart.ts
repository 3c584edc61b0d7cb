// bench/results/chart.svg: three horizontal bar panels, drawn by hand.
import { metaLine, num, pct } from './report.js';
import type { Results } from './results.js';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const WIDTH = 1010;
const LABEL_W = 250;
const BAR_W = 430;
const ROW_H = 22;
const COLORS = { good: '#2e7d32', bad: '#c62828', neutral: '#607d8b', floor: '#b0bec5' };

interface Bar {
  label: string;
  value: number;
  text: string;
  color: string;
}

function panel(
  y: number,
  title: string,
  rows: Bar[],
  { max, goal }: { max: number; goal?: { value: number; label: string } },
): { svg: string; height: number } {
  const out: string[] = [];
  out.push(`<text x="12" y="${y + 16}" class="title">${esc(title)}</text>`);
  let ry = y + 30;
  const scale = (v: number): number => (max > 0 ? Math.max(0, Math.min(v / max, 1)) * BAR_W : 0);
  for (const r of rows) {
    const w = scale(r.value);
    out.push(
      `<text x="${LABEL_W - 8}" y="${ry + 15}" text-anchor="end">${esc(r.label)}</text>`,
      `<rect x="${LABEL_W}" y="${ry + 3}" width="${Math.max(w, 1).toFixed(1)}" height="${ROW_H - 6}" fill="${r.color}"/>`,
      `<text x="${LABEL_W + w + 6}" y="${ry + 15}">${esc(r.text)}</text>`,
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

export function renderSvg(res: Results): string {
  const panels: string[] = [];
  let y = 10;
  const add = (p: { svg: string; height: number }): void => {
    panels.push(p.svg);
    y += p.height;
  };

  if (res.collision) {
    const legs = Math.min(...res.collision.map((r) => r.legs));
    const rows = res.collision
      .filter((r) => r.legs === legs)
      .map((r) => ({
        label: r.label,
        value: (r.collisionRate ?? NaN) * 100,
        text: `${pct(r.collisionRate ?? NaN)} (${r.roundsWithCollision}/${r.rounds})`,
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
  const cmdRows: Bar[] = [];
  if (res.command) {
    const c = res.command;
    cmdRows.push({
      label: 'portlease allocate',
      value: c.cliRatio,
      text: `${c.cliRatio}x  (${c.cliP50} vs ${c.nodeP50} ms)`,
      color: c.cliRatio <= 1.5 ? COLORS.good : COLORS.bad,
    });
    const m = c.main;
    if (!('skipped' in m)) {
      cmdRows.push({
        label: 'action main entry',
        value: m.ratio,
        text: `${m.ratio}x  (${m.p50} vs ${c.nodeP50} ms)`,
        color: m.ratio <= 1.5 ? COLORS.good : COLORS.bad,
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
