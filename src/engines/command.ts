/**
 * Running an engine's CLI: finding it on PATH without starting a process, and running it
 * with an argv array (never a shell), bounded by a timeout.
 */
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A program on PATH, or null; no process is started to find out. */
export function findOnPath(program: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, program);
    try {
      accessSync(file, fsConstants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `file args` (never a shell); a timeout kills it (exit 124), a missing file is 127.
 * node:child_process is loaded when first needed: it costs several milliseconds at start-up,
 * which every `portlease` command would pay otherwise.
 */
export async function runCommand(
  file: string,
  args: readonly string[],
  timeoutMs: number | undefined,
  env: NodeJS.ProcessEnv,
): Promise<CommandResult> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs ?? 0, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env },
      (err, stdout, stderr) => {
        const code =
          err === null ? 0 : typeof err.code === 'number' ? err.code : err.killed ? 124 : 127;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
