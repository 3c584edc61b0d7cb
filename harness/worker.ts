// A stand-in for the runner's Runner.Worker: a long-lived process that runs each step of a
// job as its own child (`node <argv>`), as the runner does. It reads one JSON request per
// line on stdin ({ id, argv, env }) and answers one JSON line on stdout with the child's
// exit, output and wall time (spawn to close). SIGKILLing this process is a runner that dies
// without running post steps. Plain Node (types stripped), built-ins only; see runner.ts.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

interface Request {
  id: number;
  argv: string[];
  env: Record<string, string>;
}

process.stdout.write(JSON.stringify({ ready: process.pid }) + '\n');
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const req = JSON.parse(line) as Request;
  const t0 = performance.now();
  const child = spawn(process.execPath, req.argv, {
    env: req.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('close', (code, signal) => {
    const ms = performance.now() - t0;
    process.stdout.write(JSON.stringify({ id: req.id, code, signal, stdout, stderr, ms }) + '\n');
  });
});
