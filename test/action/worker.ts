// A stand-in for the runner's Runner.Worker: a long-lived process that runs each step of
// a job as its own child (`node <entry>`), as the runner does. It reads one JSON request
// per line on stdin ({ id, script, env }) and answers one JSON line on stdout with the
// step's exit code and output. Killing this process with SIGKILL is a runner that dies
// without running post steps. Runs as plain Node (types stripped), built-ins only.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

interface Request {
  id: number;
  script: string;
  env: Record<string, string>;
}

process.stdout.write(JSON.stringify({ ready: process.pid }) + '\n');
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const req = JSON.parse(line) as Request;
  const child = spawn(process.execPath, [req.script], {
    env: req.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('close', (code, signal) => {
    process.stdout.write(JSON.stringify({ id: req.id, code, signal, stdout, stderr }) + '\n');
  });
});
