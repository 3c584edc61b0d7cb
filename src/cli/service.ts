/**
 * `portlease service NAME --image I --container-port P [...] [-- COMMAND]`: the container
 * step's service container (src/engines/service.ts) from the command line.
 *
 * With COMMAND: lease the port, start the container, wait until it is ready, run COMMAND
 * with NAME=PORT set, and on its exit (or a signal) remove the container and release the
 * lease; exit with COMMAND's status. Without COMMAND: start it, print one JSON object
 * (`lease`, `port`, `container`, ...) and leave it running; `portlease release --lease ID`
 * removes it, and `portlease gc` removes it once the lease's owner is gone.
 */
import type { AllocateRequest, Lease, Registry } from '../core/index.js';
import { UsageError } from '../core/index.js';
import { ContainerEngine } from '../engines/engine.js';
import { startService, stopService, type ServiceLog } from '../engines/service.js';
import { parseServiceSpec, type RawInputs } from '../engines/spec.js';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** What the service command borrows from the CLI's own plumbing. */
export interface ServiceCommandContext {
  values: Values;
  positionals: string[];
  /** COMMAND after `--`, or [] to detach. */
  command: string[];
  io: Io;
  registry: Registry;
  /** The allocate request for these names from the allocate flags (owner decided by the CLI). */
  request: (names: string[]) => AllocateRequest;
  /** Run COMMAND with `env`, supervised like `exec`; resolves to its exit status. */
  runCommand: (command: string[], env: NodeJS.ProcessEnv, lease: Lease) => Promise<number>;
}

/** The service flags, as parseArgs options (merged with the allocate flags by the CLI). */
export const SERVICE_OPTIONS = {
  image: { type: 'string' },
  'container-port': { type: 'string' },
  args: { type: 'string' },
  env: { type: 'string', multiple: true },
  options: { type: 'string' },
  health: { type: 'string' },
  'health-cmd': { type: 'string' },
  'health-timeout': { type: 'string' },
  engine: { type: 'string' },
  pull: { type: 'string' },
} as const;

function text(values: Values, name: string): string {
  const v = values[name];
  return typeof v === 'string' ? v : '';
}

/** Lines on stderr, prefixed; phases as a heading line. */
function cliLog(io: Io): ServiceLog {
  return {
    info: (msg) => {
      io.err(`portlease: ${msg}`);
    },
    warn: (msg) => {
      io.err(`portlease: warning: ${msg}`);
    },
    group: (title, fn) => {
      io.err(`portlease: ${title}`);
      return fn();
    },
    untrusted: (t) => {
      for (const line of t.replace(/\n$/, '').split('\n')) io.err(`  | ${line}`);
    },
  };
}

export async function cmdService(ctx: ServiceCommandContext): Promise<number> {
  const { values, positionals, io } = ctx;
  if (positionals.length > 1) {
    throw new UsageError(
      `service: one NAME (the variable for the host port, like PG_PORT), got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
  const envList = values.env;
  for (const kv of Array.isArray(envList) ? envList : []) {
    if (kv.includes('\n')) throw new UsageError('--env: a value must be one line');
  }
  const raw: RawInputs = {
    image: text(values, 'image'),
    'container-port': text(values, 'container-port'),
    args: text(values, 'args'),
    name: positionals[0] ?? '',
    env: Array.isArray(envList) ? envList.join('\n') : '',
    options: text(values, 'options'),
    health: text(values, 'health'),
    'health-cmd': text(values, 'health-cmd'),
    'health-timeout': text(values, 'health-timeout'),
    engine: text(values, 'engine'),
    pull: text(values, 'pull'),
  };
  const spec = parseServiceSpec(raw, (i) => (i === 'name' ? 'NAME' : `--${i}`));
  const req = ctx.request([spec.name]);
  const engine = await ContainerEngine.choose(spec.engine, { env: io.env, label: '--engine' });
  const log = cliLog(io);

  const { lease, reused } = await ctx.registry.allocate({
    ...req,
    labels: { ...(req.labels ?? {}), image: spec.image.slice(0, 200) },
  });
  const port = lease.ports[spec.name] as number;
  let container: string | null = null;
  const stop = (): Promise<string[]> =>
    stopService(engine, ctx.registry, { lease: lease.id, container, release: !reused }, log);

  // A signal while the container starts: clean up, then end with 128+N.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const got: { signal: NodeJS.Signals | null } = { signal: null };
  const onSignal = (sig: NodeJS.Signals): void => {
    got.signal ??= sig;
  };
  for (const s of signals) process.on(s, onSignal);
  try {
    try {
      await startService(
        engine,
        spec,
        { id: lease.id, registry: ctx.registry.dir, port, labels: {} },
        log,
        (id) => {
          container = id;
        },
      );
    } catch (err) {
      await stop();
      throw err;
    }
    if (got.signal !== null) {
      await stop();
      return 128 + signalNumber(got.signal);
    }
    if (ctx.command.length === 0) {
      io.out(
        JSON.stringify({
          lease: lease.id,
          key: lease.key,
          name: spec.name,
          port,
          container,
          engine: engine.name,
          image: spec.image,
          registry: ctx.registry.dir,
          expires: lease.expires,
        }),
      );
      return 0;
    }
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
  try {
    return await ctx.runCommand(
      ctx.command,
      { ...io.env, [spec.name]: String(port), PORTLEASE_LEASE: lease.id },
      lease,
    );
  } finally {
    await stop();
  }
}

function signalNumber(sig: NodeJS.Signals): number {
  return { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[sig as 'SIGHUP' | 'SIGINT' | 'SIGTERM'];
}
