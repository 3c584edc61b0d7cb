// portlease demo: several matrix legs start at once on this host. Each runs the action's
// main step (dist/main/index.js) exactly as the GitHub runner does (INPUT_* env, the
// GITHUB_OUTPUT/GITHUB_ENV/GITHUB_STATE files), starts real servers on the ports it got,
// and then runs the post step (dist/post/index.js) with STATE_* from main.
// This script stands in for the runner's worker: it is the parent of main and post.
//
//   npm run demo                 4 legs, a fresh temp registry
//   npm run demo -- 8            8 legs
//   npm run demo -- 4 --registry /tmp/portlease
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const legs = Number(args.find((a) => /^\d+$/.test(a)) ?? 4);
const at = args.indexOf('--registry');
const work = mkdtempSync(join(tmpdir(), 'portlease-demo-'));
const registry = at >= 0 ? args[at + 1] : join(work, 'registry');

/** Read a GITHUB_OUTPUT/ENV/STATE file (`name<<DELIM` blocks or `name=value` lines). */
function readCommandFile(path) {
  const out = {};
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return out;
  }
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const value = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i]);
      out[heredoc[1]] = value.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

function runStep(entry, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'dist', entry, 'index.js')], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('close', (code) => resolve({ code, log }));
  });
}

function listen(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (err) => resolve({ error: err.code }));
    s.listen({ port, host: '0.0.0.0' }, () => resolve({ server: s }));
  });
}

async function leg(i) {
  const dir = join(work, `leg-${i}`);
  const files = {};
  for (const f of ['OUTPUT', 'ENV', 'STATE', 'STEP_SUMMARY']) {
    files[`GITHUB_${f}`] = join(work, `leg-${i}-${f.toLowerCase()}`);
    writeFileSync(files[`GITHUB_${f}`], '');
  }
  const runner = {
    GITHUB_ACTIONS: 'true',
    GITHUB_RUN_ID: '1000',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'test',
    GITHUB_REPOSITORY: 'demo/app',
    GITHUB_ACTION: 'portlease',
    RUNNER_NAME: `runner-${(i % 2) + 1}`,
    RUNNER_TRACKING_ID: `github_demo_${i}_${process.pid}`,
    RUNNER_TEMP: dir,
    ...files,
  };
  const main = await runStep('main', {
    ...runner,
    INPUT_PORTS: 'WEB_PORT DB_PORT',
    INPUT_REGISTRY: registry,
    'INPUT_EXPORT-ENV': 'true',
  });
  const outputs = readCommandFile(files.GITHUB_OUTPUT);
  const env = readCommandFile(files.GITHUB_ENV);
  const state = readCommandFile(files.GITHUB_STATE);
  return { i, main, outputs, env, state, runner };
}

console.log(
  `portlease demo: ${legs} matrix legs start at once on this host, each leasing WEB_PORT`,
);
console.log(`and DB_PORT through the action's main step, run as the runner runs it.`);
console.log(`registry: ${registry}\n`);

const results = await Promise.all(Array.from({ length: legs }, (_, i) => leg(i + 1)));
const failed = results.filter((r) => r.main.code !== 0);
if (failed.length > 0) {
  for (const r of failed) console.log(`leg ${r.i}: main failed\n${r.main.log}`);
  process.exitCode = 1;
} else {
  const servers = [];
  const rows = [];
  for (const r of results) {
    const web = Number(r.env.WEB_PORT);
    const db = Number(r.env.DB_PORT);
    const a = await listen(web);
    const b = await listen(db);
    servers.push(a.server, b.server);
    const ok = !a.error && !b.error && r.outputs.WEB_PORT === String(web);
    rows.push([
      String(r.i),
      String(web),
      String(db),
      r.outputs.lease ?? '',
      ok ? 'both listening' : `FAILED ${a.error ?? ''} ${b.error ?? ''}`,
    ]);
  }
  const head = ['leg', 'WEB_PORT', 'DB_PORT', 'lease', 'servers'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  for (const r of [head, ...rows])
    console.log(
      r
        .map((c, k) => c.padEnd(widths[k]))
        .join('  ')
        .trimEnd(),
    );
  const ports = results.flatMap((r) => [r.env.WEB_PORT, r.env.DB_PORT]);
  const distinct = new Set(ports).size === ports.length;
  const bound = rows.every((r) => r[4] === 'both listening');
  console.log(
    `\n${distinct ? 'all' : 'NOT all'} ${ports.length} ports distinct; ${bound ? `${ports.length} servers bound at once, no EADDRINUSE` : 'some servers FAILED to bind'}.`,
  );
  console.log(`\n$ portlease list --registry ${registry}`);
  const list = spawn(
    process.execPath,
    [join(root, 'dist/cli/index.js'), 'list', '--registry', registry],
    { stdio: 'inherit' },
  );
  await new Promise((r) => list.on('close', r));
  for (const s of servers) s?.close();
  const posts = await Promise.all(
    results.map((r) => {
      const stateEnv = Object.fromEntries(
        Object.entries(r.state).map(([k, v]) => [`STATE_${k}`, v]),
      );
      return runStep('post', { ...r.runner, ...stateEnv, INPUT_REGISTRY: registry });
    }),
  );
  const postsOk = posts.every((p) => p.code === 0);
  console.log(
    `\npost steps ${postsOk ? 'ran' : 'FAILED'}; $ portlease list --registry ${registry}`,
  );
  const after = spawn(
    process.execPath,
    [join(root, 'dist/cli/index.js'), 'list', '--registry', registry],
    { stdio: 'inherit' },
  );
  await new Promise((r) => after.on('close', r));
  if (!distinct || !bound || !postsOk) process.exitCode = 1;
}
rmSync(work, { recursive: true, force: true });
