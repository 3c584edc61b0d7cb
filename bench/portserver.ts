// 5. portpicker's protocol: `portlease portserver` against the reference `portserver`
// (Debian's python3-portpicker), each serving the same requests from portpicker's own client
// (get_port_from_port_server), timed in the client, interleaved round by round. Each round
// is a fresh client process (its leases die with it; gc between rounds), and the order of
// the two servers alternates.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { baseEnv, log, type Context } from './context.js';
import { ALLOC_RANGE } from './options.js';
import type { PortserverResult } from './results.js';
import { median, round } from './stats.js';

const PY = '/usr/bin/python3';
const REFERENCE = '/usr/bin/portserver';

const CLIENT = `
import json, os, sys, time, portpicker
n = int(sys.argv[1])
out = {}
for addr in sys.argv[2:]:
    t = time.perf_counter()
    for _ in range(n):
        if not portpicker.get_port_from_port_server(addr, pid=os.getpid()):
            sys.exit("no port from " + addr)
    out[addr] = (time.perf_counter() - t) * 1000
print(json.dumps(out))
`;

/** Start `cmd`; resolves once a line of its stdout or stderr matches `ready`. */
function startServer(cmd: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: baseEnv() });
  return new Promise((resolve, reject) => {
    for (const s of [child.stdout, child.stderr]) {
      createInterface({ input: s }).on('line', (l) => {
        if (ready.test(l)) resolve(child);
      });
    }
    child.once('exit', (code) => {
      reject(new Error(`${cmd} exited ${String(code)} before it listened`));
    });
  });
}

function run(
  cmd: string,
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: baseEnv() });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.once('close', (status) => {
      resolve({ status, stdout, stderr });
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => {
      resolve();
    });
    child.kill('SIGINT'); // the reference server stops on KeyboardInterrupt
  });
}

export async function portserver(ctx: Context): Promise<PortserverResult> {
  const cli = ctx.cli;
  if (cli === null) throw new Error('dist/cli/index.js is not built: npm run build');
  if (
    spawnSync(PY, ['-c', 'import portpicker, psutil']).status !== 0 ||
    spawnSync(REFERENCE, ['--help']).status !== 0
  ) {
    const skipped =
      "Debian's python3-portpicker is not installed (apt-get install python3-portpicker)";
    log(`portserver: skipped: ${skipped}`);
    return { skipped };
  }
  const n = ctx.config.portserverRequests;
  const dir = ctx.freshDir('portserver');
  const tag = randomBytes(4).toString('hex');
  const ours = `@portlease-bench-${tag}`;
  const ref = `@portlease-bench-ref-${tag}`;
  const range = `${String(ALLOC_RANGE.lo)}-${String(ALLOC_RANGE.hi)}`;
  const servers = await Promise.all([
    startServer(
      process.execPath,
      [cli, 'portserver', '--address', ours, '--registry', dir, '--range', range],
      /^\{"address"/,
    ),
    startServer(
      REFERENCE,
      ['--portserver_address', ref, '--portserver_static_pool', range],
      /Serving on/,
    ),
  ]);
  const oursMs: number[] = [];
  const refMs: number[] = [];
  try {
    for (let i = 0; i < ctx.config.portserverReps + 1; i++) {
      const order = i % 2 === 0 ? [ours, ref] : [ref, ours];
      // Not spawnSync: the servers' output must keep draining meanwhile (the reference
      // logs every request).
      const r = await run(PY, ['-c', CLIENT, String(n), ...order]);
      if (r.status !== 0) throw new Error(`portpicker client failed: ${r.stderr.trim()}`);
      const t = JSON.parse(r.stdout) as Record<string, number>;
      spawnSync(process.execPath, [cli, 'gc', '--registry', dir], { env: baseEnv() });
      if (i === 0) continue; // warm-up
      oursMs.push(t[ours] ?? NaN);
      refMs.push(t[ref] ?? NaN);
    }
  } finally {
    await Promise.all(servers.map(stop));
  }
  const result: PortserverResult = {
    requests: n,
    rounds: oursMs.length,
    referenceP50: round(median(refMs)),
    portleaseP50: round(median(oursMs)),
    ratio: round(median(oursMs) / median(refMs)),
  };
  log(
    `portserver: ${n} requests from portpicker's client: reference ${result.referenceP50} ms, portlease ${result.portleaseP50} ms (${result.ratio}x)`,
  );
  return result;
}
