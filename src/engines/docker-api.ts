/**
 * Docker's API on its unix socket: which socket to use (DOCKER_HOST=unix://... or
 * /var/run/docker.sock, none under a DOCKER_CONTEXT or a tcp:// host), and one request.
 */
import { statSync } from 'node:fs';

/** The Docker API socket to use, or null (then the CLI, if any). */
export function dockerSocket(env: NodeJS.ProcessEnv): string | null {
  if (env.DOCKER_CONTEXT !== undefined && env.DOCKER_CONTEXT !== '') return null;
  const host = env.DOCKER_HOST;
  let path = '/var/run/docker.sock';
  if (host !== undefined && host !== '') {
    if (!host.startsWith('unix://')) return null;
    path = host.slice('unix://'.length);
  }
  try {
    return statSync(path).isSocket() ? path : null;
  } catch {
    return null;
  }
}

export interface ApiAnswer {
  ok: boolean;
  status: number;
  body: string;
}

/**
 * One request to the API: its status and body (the first 16 MiB). node:http is loaded when
 * first needed: it costs several milliseconds at start-up, which every `portlease` command
 * would pay otherwise.
 */
export async function dockerApi(
  socketPath: string,
  method: string,
  path: string,
  timeoutMs: number,
): Promise<ApiAnswer> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, method, path, headers: { Host: 'docker' }, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 16 * 1024 * 1024) body += d;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve({ ok: status >= 200 && status < 300, status, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
