// portlease demo: several matrix legs start at once on this host. Each leg is a stand-in
// runner worker (harness/runner.ts) that runs the action's main step (dist/main/index.js)
// exactly as the GitHub runner does (INPUT_* from action.yml, the GITHUB_OUTPUT, GITHUB_ENV
// and GITHUB_STATE files), then real servers start on the ports it got, and then the post
// step (dist/post/index.js) runs with STATE_* from main.
//
//   npm run demo                 4 legs, a fresh temp registry
//   npm run demo -- 8            8 legs
//   npm run demo -- 4 --registry /tmp/portlease
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, NODE } from '../harness/paths.js';
import { jobEnv, LEASE_ACTION, StandInWorker } from '../harness/runner.js';

const args = process.argv.slice(2);
const legs = Number(args.find((a) => /^\d+$/.test(a)) ?? 4);
const at = args.indexOf('--registry');
const work = mkdtempSync(join(tmpdir(), 'portlease-demo-'));
const registry = at >= 0 ? (args[at + 1] ?? '') : join(work, 'registry');

function listen(port: number): Promise<{ server: Server | null; error: string }> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (err: NodeJS.ErrnoException) => {
      resolve({ server: null, error: err.code ?? err.message });
    });
    s.listen({ port, host: '0.0.0.0' }, () => {
      resolve({ server: s, error: '' });
    });
  });
}

async function list(): Promise<void> {
  const child = spawn(NODE, [CLI, 'list', '--registry', registry], { stdio: 'inherit' });
  await new Promise((resolve) => child.on('close', resolve));
}

function table(rows: string[][]): void {
  const widths = (rows[0] ?? []).map((_h, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) {
    console.log(
      r
        .map((c, k) => c.padEnd(widths[k] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  }
}

console.log(
  `portlease demo: ${String(legs)} matrix legs start at once on this host, each leasing WEB_PORT`,
);
console.log(`and DB_PORT through the action's main step, run as the runner runs it.`);
console.log(`registry: ${registry}\n`);

const inputs = { ports: 'WEB_PORT DB_PORT', registry, 'export-env': 'true' };
const workers = await Promise.all(Array.from({ length: legs }, () => StandInWorker.start()));
const envOf = (i: number): Record<string, string> =>
  jobEnv(String(i + 1), { RUNNER_NAME: `runner-${String((i % 2) + 1)}`, RUNNER_DEBUG: '0' });
try {
  const mains = await Promise.all(workers.map((w, i) => w.main(LEASE_ACTION, inputs, envOf(i))));
  const failed = mains.flatMap((r, i) => (r.code === 0 ? [] : [i]));
  if (failed.length > 0) {
    for (const i of failed) {
      console.log(
        `leg ${String(i + 1)}: main failed\n${mains[i]?.stdout ?? ''}${mains[i]?.stderr ?? ''}`,
      );
    }
    process.exitCode = 1;
  } else {
    const servers: Server[] = [];
    const rows = [['leg', 'WEB_PORT', 'DB_PORT', 'lease', 'servers']];
    for (const [i, r] of mains.entries()) {
      const web = Number(r.env.WEB_PORT);
      const db = Number(r.env.DB_PORT);
      const a = await listen(web);
      const b = await listen(db);
      for (const s of [a.server, b.server]) if (s !== null) servers.push(s);
      const ok = a.server !== null && b.server !== null && r.outputs.WEB_PORT === String(web);
      rows.push([
        String(i + 1),
        String(web),
        String(db),
        r.outputs.lease ?? '',
        ok ? 'both listening' : `FAILED ${a.error} ${b.error}`,
      ]);
    }
    table(rows);
    const ports = mains.flatMap((r) => [r.env.WEB_PORT, r.env.DB_PORT]);
    const distinct = new Set(ports).size === ports.length;
    const bound = rows.slice(1).every((r) => r[4] === 'both listening');
    console.log(
      `\n${distinct ? 'all' : 'NOT all'} ${String(ports.length)} ports distinct; ${bound ? `${String(ports.length)} servers bound at once, no EADDRINUSE` : 'some servers FAILED to bind'}.`,
    );
    console.log(`\n$ portlease list --registry ${registry}`);
    await list();
    for (const s of servers) s.close();
    const posts = await Promise.all(
      workers.map((w, i) => w.post(LEASE_ACTION, mains[i]?.state ?? {}, inputs, envOf(i))),
    );
    const postsOk = posts.every((p) => p.code === 0);
    console.log(
      `\npost steps ${postsOk ? 'ran' : 'FAILED'}; $ portlease list --registry ${registry}`,
    );
    await list();
    if (!distinct || !bound || !postsOk) process.exitCode = 1;
  }
} finally {
  await Promise.all(workers.map((w) => w.stop()));
  rmSync(work, { recursive: true, force: true });
}
