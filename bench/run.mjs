// portlease benchmarks and the side-by-side comparison with other port allocators.
//
//   npm run bench                      full run; writes bench/results/ and docs/bench.md
//   npm run bench -- --quick           under a minute; prints the tables, writes nothing
//   npm run -s bench -- --json         machine-readable results on stdout (progress on stderr)
//   npm run bench -- --out DIR         write results.md, results.json, chart.svg to DIR
//   npm run bench -- --only latency,command,contention,collision
//
// Every ratio is measured against a floor taken in the same run, interleaved with the
// measurement itself, because the machine is shared and noisy.
import { fork, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { cpus, release as osRelease, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { lock as L, owner as O, probe as P, registry as R, store as S } from './engine.mjs';
import { renderDoc, renderReadmeBlock, renderMarkdown, renderSvg } from './report.mjs';

const root = new URL('..', import.meta.url).pathname;
const DIST_CLI = join(root, 'dist/cli/index.js');
const DIST_MAIN = join(root, 'dist/main/index.js');
const LEG = join(root, 'bench/leg.mjs');
const ALLOC_CHILD = join(root, 'bench/alloc-child.mjs');
const NAMES = ['WEB_PORT', 'DB_PORT', 'CACHE_PORT'];
/** Benchmark registries allocate here: below the ephemeral range, away from 20000-29999. */
const ALLOC_RANGE = { lo: 10000, hi: 19999 };
/** The range every allocator in the collision comparison is asked for. */
const COLLISION_RANGE = { lo: 10000, hi: 10999 };
const SECTIONS = ['latency', 'command', 'contention', 'collision'];
const METHODS = [
  { id: 'portlease', label: 'portlease (CLI)', ranged: true },
  { id: 'get-port-range', label: 'get-port, portNumbers(range)', ranged: true },
  { id: 'get-port', label: 'get-port, no range', ranged: false },
  { id: 'portfinder', label: 'portfinder', ranged: true },
  { id: 'detect-port', label: 'detect-port', ranged: true },
  { id: 'hash-offset', label: 'run-id hash offset', ranged: true },
  { id: 'bind0', label: 'bind(0), held then closed', ranged: false },
];

let args;
try {
  args = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (err) {
  console.error(`bench: ${err.message}`);
  args = { help: true };
  process.exitCode = 2;
}
const USAGE =
  'usage: node bench/run.mjs [--quick] [--json] [--out DIR] [--only latency,command,contention,collision]';
const only = args.only ? args.only.split(',').map((s) => s.trim()) : SECTIONS;
const badSection = only.find((s) => !SECTIONS.includes(s));

const CONFIG = args.quick
  ? {
      sizes: [0, 100, 1000, 10000],
      iters: { 0: 30, 100: 30, 1000: 30, 10000: 4 },
      warmup: 3,
      commandReps: 6,
      contention: [1, 8, 64],
      contentionReps: 1,
      legs: [8],
      rounds: { 8: 4 },
    }
  : {
      sizes: [0, 100, 1000, 10000],
      iters: { 0: 200, 100: 200, 1000: 150, 10000: 30 },
      warmup: 5,
      commandReps: 25,
      contention: [1, 8, 32, 64],
      contentionReps: 5,
      legs: [8, 32],
      rounds: { 8: 40, 32: 10 },
    };

const log = (msg) => process.stderr.write(msg + '\n');
const work = mkdtempSync(join(tmpdir(), 'portlease-bench-'));
let dirCount = 0;
const freshDir = (name) => {
  const d = join(work, `${String(++dirCount).padStart(2, '0')}-${name}`);
  mkdirSync(d);
  return d;
};
// Run snapshots of the bundles, so a rebuild of dist/ during the run cannot break it.
const snapshot = (file) => {
  if (!existsSync(file)) return null;
  const to = join(work, 'dist', basename(dirname(file)));
  cpSync(dirname(file), to, { recursive: true });
  return join(to, basename(file));
};
const CLI = snapshot(DIST_CLI);
const MAIN = snapshot(DIST_MAIN);
const warnings = [];
const warn = (m) => {
  if (warnings.length < 20) warnings.push(m);
};

function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const median = (xs) => quantile(xs, 0.5);
const round = (x, d = 2) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);

function fsType(path) {
  const names = {
    0xef53: 'ext4',
    0x01021994: 'tmpfs',
    0x58465342: 'xfs',
    0x9123683e: 'btrfs',
    0x794c7630: 'overlayfs',
    0x6969: 'nfs',
  };
  try {
    const t = statfsSync(path).type;
    return names[t] ?? `0x${t.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

function ephemeralRange() {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    return { lo, hi };
  } catch {
    return { lo: 49152, hi: 65535 };
  }
}
const EPHEMERAL = ephemeralRange();

// ---------------------------------------------------------------------------------------
// 1. In-process latency vs one bare locked write of the same registry.

/** N valid lease records owned by this very process (so they stay live), one port each. */
function prefill(n, me) {
  const now = Date.now();
  const leases = [];
  for (let i = 0; i < n; i++) {
    // Spread over 1024-32023: a wide range below the ephemeral one; about a third of them
    // land in the allocation range, so allocate has to step over held ports.
    const port = 1024 + Math.floor((i * 31000) / Math.max(n, 1));
    leases.push({
      id: S.newLeaseId(),
      key: `bench-prefill-${i}`,
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

async function floorOnce(dir) {
  const lk = await L.acquireLock(dir);
  try {
    const path = join(dir, S.STATE_FILE);
    const text = readFileSync(path, 'utf8');
    S.writeAtomic(path, text);
  } finally {
    lk.release();
  }
}

async function latency() {
  const me = O.self();
  const rows = [];
  for (const n of CONFIG.sizes) {
    const dir = freshDir(`latency-${n}`);
    S.writeState(dir, prefill(n, me));
    const bytes = readFileSync(join(dir, S.STATE_FILE)).length;
    const reg = new R.Registry(dir, { warn });
    const iters = CONFIG.iters[n];
    const floor = [];
    const alloc = [];
    const rel = [];
    const pair = [];
    for (let i = 0; i < CONFIG.warmup + iters; i++) {
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
      if (i < CONFIG.warmup) continue;
      floor.push(t1 - t0);
      alloc.push(t2 - t1);
      rel.push(t3 - t2);
      pair.push(t3 - t1);
    }
    // Where the time goes: the parts of one operation, timed alone on the same registry.
    const path = join(dir, S.STATE_FILE);
    const parts = { read: [], parse: [], readState: [], serialize: [] };
    const state = S.readState(dir, { quarantine: false }).leases;
    for (let i = 0; i < Math.min(iters, 30); i++) {
      let t = performance.now();
      const text = readFileSync(path, 'utf8');
      parts.read.push(performance.now() - t);
      t = performance.now();
      JSON.parse(text);
      parts.parse.push(performance.now() - t);
      t = performance.now();
      S.readState(dir, { quarantine: false });
      parts.readState.push(performance.now() - t);
      t = performance.now();
      S.serialize(state);
      parts.serialize.push(performance.now() - t);
    }
    const left = S.readState(dir, { quarantine: false }).leases.length;
    if (left !== n) throw new Error(`latency: ${n} leases prefilled, ${left} left afterwards`);
    const row = {
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
      `latency ${n} leases: allocate+release p50 ${row.pairP50} ms p99 ${row.pairP99} ms; floor p50 ${row.floorP50} ms; ratio ${row.ratioP50}x`,
    );
  }
  return rows;
}

/** Probing 3 ports (0.0.0.0, 127.0.0.1, ::) as allocate does, on its own. */
async function probeCost() {
  const xs = [];
  for (let i = 0; i < 40; i++) {
    const t = performance.now();
    for (let j = 0; j < 3; j++) await P.probePort(ALLOC_RANGE.lo + 500 + ((i * 3 + j) % 300));
    xs.push(performance.now() - t);
  }
  return round(median(xs.slice(5)), 3);
}

// ---------------------------------------------------------------------------------------
// 2. Whole-command cost vs `node -e 0`.

function runTimed(argv, env) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, argv, { env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) {
    throw new Error(
      `${argv.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || '').trim().split('\n')[0]}`,
    );
  }
  return ms;
}

async function releaseAll(dir) {
  const reg = new R.Registry(dir, { warn });
  for (const { lease } of await reg.list()) await reg.release({ lease: lease.id });
}

function baseEnv() {
  const env = { ...process.env };
  delete env.PORTLEASE_REGISTRY;
  delete env.PORTLEASE_DEBUG;
  delete env.NODE_OPTIONS;
  return env;
}

async function command() {
  const cliDir = freshDir('command-cli');
  const mainDir = freshDir('command-main');
  const ghDir = freshDir('command-github');
  const hasMain = MAIN !== null;
  if (!hasMain) log('skipped: dist/main/index.js not built');
  const env = baseEnv();
  const files = {
    GITHUB_OUTPUT: join(ghDir, 'output'),
    GITHUB_ENV: join(ghDir, 'env'),
    GITHUB_STATE: join(ghDir, 'state'),
    GITHUB_STEP_SUMMARY: join(ghDir, 'summary'),
  };
  const mainEnv = {
    ...env,
    ...files,
    RUNNER_TEMP: ghDir,
    GITHUB_ACTIONS: 'true',
    INPUT_PORTS: NAMES.join(' '),
    INPUT_RANGE: `${ALLOC_RANGE.lo}-${ALLOC_RANGE.hi}`,
    INPUT_REGISTRY: mainDir,
  };
  const cliArgs = [
    CLI,
    'allocate',
    ...NAMES,
    '--registry',
    cliDir,
    '--range',
    `${ALLOC_RANGE.lo}-${ALLOC_RANGE.hi}`,
  ];
  const base = [];
  const cli = [];
  const main = [];
  let mainError = null;
  for (let i = 0; i < CONFIG.commandReps + 1; i++) {
    const b = runTimed(['-e', '0'], env);
    const c = runTimed(cliArgs, env);
    await releaseAll(cliDir);
    let m = null;
    if (hasMain && mainError === null) {
      for (const f of Object.values(files)) writeFileSync(f, '');
      try {
        m = runTimed([MAIN], mainEnv);
      } catch (err) {
        mainError = err.message;
        log(`dist/main/index.js failed: ${mainError}`);
      }
      await releaseAll(mainDir);
    }
    if (i === 0) continue; // warm-up: page cache, compile cache
    base.push(b);
    cli.push(c);
    if (m !== null) main.push(m);
  }
  const baseP50 = median(base);
  const result = {
    samples: base.length,
    nodeP50: round(baseP50),
    cliP50: round(median(cli)),
    cliP99: round(quantile(cli, 0.99)),
    cliRatio: round(median(cli) / baseP50),
    main: !hasMain
      ? { skipped: 'dist/main/index.js not built' }
      : main.length === 0
        ? { skipped: `dist/main/index.js failed: ${mainError}` }
        : {
            p50: round(median(main)),
            p99: round(quantile(main, 0.99)),
            ratio: round(median(main) / baseP50),
          },
  };
  log(
    `command: node -e 0 p50 ${result.nodeP50} ms; portlease allocate p50 ${result.cliP50} ms (${result.cliRatio}x); main ${result.main.skipped ?? `${result.main.p50} ms (${result.main.ratio}x)`}`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------
// 3. Contention: K processes at once.

function spawnMany(k, argv, env) {
  const t0 = performance.now();
  const kids = [];
  for (let i = 0; i < k; i++) {
    kids.push(
      new Promise((resolve) => {
        const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('error', (e) => resolve({ code: -1, out, err: String(e) }));
        child.on('close', (code) => resolve({ code, out, err }));
      }),
    );
  }
  return Promise.all(kids).then((res) => ({ ms: performance.now() - t0, res }));
}

/** K processes already running (engine loaded) allocate at once: lock throughput without Node's start-up. */
async function preStarted(k) {
  const dir = freshDir(`prestarted-${k}`);
  const kids = [];
  for (let i = 0; i < k; i++) {
    const child = fork(ALLOC_CHILD, [dir, String(ALLOC_RANGE.lo), String(ALLOC_RANGE.hi)], {
      execArgv: [],
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
        new Promise((resolve) => {
          child.once('message', resolve);
          child.send('go');
        }),
    ),
  );
  const ms = performance.now() - t0;
  for (const { child } of kids) child.send('exit');
  await Promise.all(kids.map((x) => x.exited));
  const seen = new Set();
  let failures = 0;
  let duplicates = 0;
  for (const r of res) {
    if (r.error) failures++;
    for (const p of r.ports ?? []) {
      if (seen.has(p)) duplicates++;
      seen.add(p);
    }
  }
  return { ms, failures, duplicates };
}

async function contention() {
  const env = baseEnv();
  const rows = [];
  for (const k of CONFIG.contention) {
    const dir = freshDir(`contention-${k}`);
    const argv = [
      CLI,
      'allocate',
      ...NAMES,
      '--registry',
      dir,
      '--range',
      `${ALLOC_RANGE.lo}-${ALLOC_RANGE.hi}`,
      '--json',
    ];
    const base = [];
    const cli = [];
    let failures = 0;
    let duplicates = 0;
    for (let rep = 0; rep < CONFIG.contentionReps; rep++) {
      // Alternate the order so neither side always runs on a warmer machine.
      const runBase = () => spawnMany(k, ['-e', '0'], env).then((r) => base.push(r.ms));
      const runCli = async () => {
        const r = await spawnMany(k, argv, env);
        cli.push(r.ms);
        const seen = new Set();
        for (const x of r.res) {
          if (x.code !== 0) {
            failures++;
            if (failures <= 3) log(`contention ${k}: a process failed: ${x.err.trim()}`);
            continue;
          }
          for (const p of Object.values(JSON.parse(x.out).ports)) {
            if (seen.has(p)) duplicates++;
            seen.add(p);
          }
        }
        await releaseAll(dir);
      };
      if (rep % 2 === 0) {
        await runBase();
        await runCli();
      } else {
        await runCli();
        await runBase();
      }
    }
    const warm = [];
    for (let rep = 0; rep < CONFIG.contentionReps; rep++) {
      const r = await preStarted(k);
      warm.push(r.ms);
      if (r.failures + r.duplicates > 0) {
        log(`contention ${k} pre-started: ${r.failures} failed, ${r.duplicates} duplicate ports`);
      }
      failures += r.failures;
      duplicates += r.duplicates;
    }
    const row = {
      processes: k,
      reps: CONFIG.contentionReps,
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
      `contention ${k}: node -e 0 ${row.nodeWallMs} ms, portlease ${row.cliWallMs} ms (${row.ratio}x, ${row.allocationsPerSec}/s); pre-started ${row.preStartedWallMs} ms (${row.preStartedPerSec}/s); failures ${failures}, duplicate ports ${duplicates}`,
    );
  }
  return rows;
}

// ---------------------------------------------------------------------------------------
// 4. Collisions under the real pattern: allocate first, barrier, then bind.

function collisionRound(method, n, registry) {
  const runId = randomBytes(6).toString('hex');
  return new Promise((resolve, reject) => {
    const legs = [];
    let gotPorts = 0;
    let bound = 0;
    let exited = 0;
    const timer = setTimeout(() => {
      for (const l of legs) l.child.kill('SIGKILL');
      reject(new Error(`collision round ${method} x${n} timed out`));
    }, 120_000);
    const afterPorts = () => {
      if (++gotPorts < n) return;
      // Barrier reached: every leg holds its ports (or failed). Now everyone binds.
      for (const l of legs) {
        if (l.ports.length > 0 && l.child.connected) l.child.send({ type: 'bind', ports: l.ports });
        else afterBound();
      }
    };
    const afterBound = () => {
      if (++bound < n) return;
      for (const l of legs) if (l.child.connected) l.child.send({ type: 'close' });
    };
    for (let i = 0; i < n; i++) {
      const child = fork(
        LEG,
        [
          method,
          String(COLLISION_RANGE.lo),
          String(COLLISION_RANGE.hi),
          registry,
          `${runId}-leg${i}`,
          CLI,
        ],
        { execArgv: [], env: baseEnv(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
      );
      const leg = { child, ports: [], error: null, results: [], stage: 'ports', stderr: '' };
      legs.push(leg);
      child.stderr.on('data', (d) => (leg.stderr += d));
      child.on('message', (msg) => {
        if (msg.type === 'ports' && leg.stage === 'ports') {
          leg.stage = 'bind';
          leg.ports = msg.ports;
          leg.error = msg.error ?? null;
          afterPorts();
        } else if (msg.type === 'bound' && leg.stage === 'bind') {
          leg.stage = 'done';
          leg.results = msg.results;
          afterBound();
        }
      });
      child.on('exit', () => {
        // A leg that dies early still counts towards each barrier.
        if (leg.stage === 'ports') {
          leg.stage = 'done';
          leg.error ??= `exited early: ${leg.stderr.trim().split('\n').pop() ?? ''}`;
          afterPorts();
          afterBound();
        } else if (leg.stage === 'bind') {
          leg.stage = 'done';
          leg.error ??= 'exited before binding';
          afterBound();
        }
        if (++exited === n) {
          clearTimeout(timer);
          resolve(legs.map((l) => ({ ports: l.ports, error: l.error, results: l.results })));
        }
      });
    }
  });
}

function inRange(p, r) {
  return p >= r.lo && p <= r.hi;
}

async function collision() {
  const rows = [];
  for (const n of CONFIG.legs) {
    const rounds = CONFIG.rounds[n];
    for (const m of METHODS) {
      const registry = freshDir(`collision-${m.id}-${n}`);
      const row = {
        method: m.id,
        label: m.label,
        ranged: m.ranged,
        legs: n,
        rounds,
        roundsWithCollision: 0,
        roundsWithDuplicate: 0,
        legsFailedToBind: 0,
        legsErrored: 0,
        ports: 0,
        portsOutsideRange: 0,
        portsInEphemeral: 0,
        errors: [],
      };
      for (let r = 0; r < rounds; r++) {
        const legs = await collisionRound(m.id, n, registry);
        const count = new Map();
        let bad = false;
        for (const leg of legs) {
          if (leg.error !== null) {
            row.legsErrored++;
            bad = true;
            if (row.errors.length < 3) row.errors.push(leg.error);
          }
          if (leg.results.some((x) => x.code !== null)) {
            row.legsFailedToBind++;
            bad = true;
          }
          for (const p of leg.ports) {
            row.ports++;
            count.set(p, (count.get(p) ?? 0) + 1);
            if (!inRange(p, COLLISION_RANGE)) row.portsOutsideRange++;
            if (inRange(p, EPHEMERAL)) row.portsInEphemeral++;
          }
        }
        if ([...count.values()].some((c) => c > 1)) {
          row.roundsWithDuplicate++;
          bad = true;
        }
        if (bad) row.roundsWithCollision++;
      }
      row.collisionRate = round(row.roundsWithCollision / rounds, 3);
      rows.push(row);
      log(
        `collision ${n} legs, ${m.label}: ${row.roundsWithCollision}/${rounds} rounds collided; ${row.legsFailedToBind} legs failed to bind; ${row.legsErrored} errors; ${row.portsOutsideRange}/${row.ports} outside range; ${row.portsInEphemeral} ephemeral`,
      );
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------

function goals(results) {
  const out = [];
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
    out.push({
      id: 'command-main',
      what: 'action main (dist/main/index.js) p50 / `node -e 0` p50',
      goal: '<= 1.5x',
      measured: c.main.skipped
        ? `skipped: ${c.main.skipped}`
        : `${c.main.ratio}x (${c.main.p50} / ${c.nodeP50} ms)`,
      met: c.main.skipped ? null : c.main.ratio <= 1.5,
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
  return out;
}

async function main() {
  const started = performance.now();
  if (CLI === null) throw new Error('dist/cli/index.js is not built: npm run build -- cli');
  const results = {
    meta: {
      date: new Date().toISOString(),
      mode: args.quick ? 'quick' : 'full',
      command: `npm run bench${args.quick ? ' -- --quick' : ''}`,
      node: process.version,
      platform: `${process.platform} ${osRelease()}`,
      cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
      filesystem: fsType(work),
      ephemeral: EPHEMERAL,
      allocRange: ALLOC_RANGE,
      collisionRange: COLLISION_RANGE,
    },
  };
  if (only.includes('latency')) {
    results.latency = await latency();
    results.probe3P50 = await probeCost();
    log(`probe of 3 ports alone: p50 ${results.probe3P50} ms`);
  }
  if (only.includes('command')) results.command = await command();
  if (only.includes('contention')) results.contention = await contention();
  if (only.includes('collision')) results.collision = await collision();
  results.goals = goals(results);
  results.warnings = warnings;
  results.meta.seconds = round((performance.now() - started) / 1000, 1);

  const out = args.out ?? (args.quick || args.only ? null : join(root, 'bench/results'));
  const md = renderMarkdown(results);
  if (out !== null) {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'results.md'), md);
    writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(join(out, 'chart.svg'), renderSvg(results));
    if (args.out === undefined) {
      // docs/ is checked by `prettier --check .`: write it as prettier would.
      const prettier = await import('prettier');
      const docPath = join(root, 'docs/bench.md');
      const options = (await prettier.resolveConfig(docPath)) ?? {};
      const doc = await prettier.format(renderDoc(results), { ...options, parser: 'markdown' });
      writeFileSync(docPath, doc);
      // The README's benchmark section, between its markers.
      const readmePath = join(root, 'README.md');
      const readme = readFileSync(readmePath, 'utf8');
      const start = '<!-- bench:start -->\n';
      const end = '<!-- bench:end -->';
      const a = readme.indexOf(start);
      const b = readme.indexOf(end);
      if (a >= 0 && b > a) {
        const block = await prettier.format(renderReadmeBlock(results), {
          ...options,
          parser: 'markdown',
        });
        writeFileSync(
          readmePath,
          readme.slice(0, a + start.length) + '\n' + block + readme.slice(b),
        );
      }
    }
    log(
      `wrote ${out}/results.md, results.json, chart.svg${args.out === undefined ? ' and docs/bench.md' : ''}`,
    );
  }
  if (args.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else process.stdout.write(md);
  log(`done in ${results.meta.seconds} s`);
}

if (args.help) {
  console.log(USAGE);
} else if (badSection !== undefined) {
  console.error(
    `--only: ${JSON.stringify(badSection)} is not a section; use ${SECTIONS.join(', ')}`,
  );
  process.exitCode = 2;
} else {
  try {
    await main();
  } catch (err) {
    console.error(`bench: ${err.stack ?? err}`);
    process.exitCode = 1;
  }
}
rmSync(work, { recursive: true, force: true });
