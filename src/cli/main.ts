/**
 * The `portlease` command: a thin shell over the registry (src/registry).
 */
import './signals.js'; // first: SIGUSR1 must never start the inspector
import { writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  checkLeaseId,
  countNames,
  describeOwner,
  describeProcess,
  parseCount,
  parseDuration,
  parsePid,
  parseRange,
  parseStrategy,
  PortleaseError,
  Registry,
  selfOwner,
  UsageError,
  checkNames,
  checkKey,
  describeError,
  errnoCode,
  RuntimeError,
  type AllocateRequest,
  type Lease,
  type Owner,
} from '../registry/index.js';
import { VERSION } from '../version.js';
import { removeLeaseContainers, removeOrphanContainers } from '../engines/host.js';
import {
  createHostRegistry,
  debugEnabled,
  DEFAULT_TTL_MS,
  registryDir,
} from '../runner/registry.js';
import { HELP } from './help.js';
import { cmdService, SERVICE_OPTIONS } from './service.js';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

/**
 * Write to stdout synchronously, so a failed write (a closed pipe, /dev/full) is an error
 * here, at the call, not an 'error' event later with a stack trace.
 */
function writeStdout(text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(1, buf, off);
    } catch (err) {
      if (errnoCode(err) !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // a non-blocking pipe: wait, retry
    }
  }
}

const defaultIo: Io = {
  out: (line) => {
    writeStdout(line + '\n');
  },
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
};

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON: Options = {
  registry: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const ALLOCATE: Options = {
  ...COMMON,
  count: { type: 'string' },
  range: { type: 'string' },
  contiguous: { type: 'boolean' },
  key: { type: 'string' },
  strategy: { type: 'string' },
  ttl: { type: 'string' },
  'owner-pid': { type: 'string' },
  wait: { type: 'string' },
  'allow-ephemeral': { type: 'boolean' },
  json: { type: 'boolean' },
};

const COMMANDS: Record<string, Options> = {
  allocate: ALLOCATE,
  service: {
    ...Object.fromEntries(Object.entries(ALLOCATE).filter(([k]) => k !== 'json' && k !== 'count')),
    ...SERVICE_OPTIONS,
  },
  exec: Object.fromEntries(
    Object.entries(ALLOCATE).filter(([k]) => k !== 'owner-pid' && k !== 'json'),
  ),
  release: { ...COMMON, key: { type: 'string' }, lease: { type: 'string' } },
  list: { ...COMMON, json: { type: 'boolean' } },
  gc: { ...COMMON, 'dry-run': { type: 'boolean' } },
};

type Values = Record<string, string | boolean | string[] | undefined>;

function parse(command: string, args: string[]): { values: Values; positionals: string[] } {
  const options = COMMANDS[command] ?? COMMON;
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (err) {
    throw parseError(command, err, args, options);
  }
}

/**
 * One line for a parseArgs error, decided by its code (never by Node's English wording):
 * the option is named, and for a value error the option's own type says what was wrong.
 */
function parseError(command: string, err: unknown, args: string[], options: Options): UsageError {
  const message = describeError(err);
  const opt = /'(--?[\w-]+)/.exec(message)?.[1] ?? '';
  switch (errnoCode(err)) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`${command}: unknown option ${opt}; see 'portlease ${command} --help'`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const def = opt.startsWith('--')
        ? options[opt.slice(2)]
        : Object.values(options).find((o) => `-${o.short ?? ''}` === opt);
      if (def?.type === 'boolean') return new UsageError(`${opt}: takes no value`);
      const next = args[args.indexOf(opt) + 1];
      return new UsageError(
        next?.startsWith('-') === true
          ? `${opt}: needs a value; to give one that starts with '-', write ${opt}=VALUE`
          : `${opt}: needs a value`,
      );
    }
    default:
      return new UsageError(`${command}: ${message}`);
  }
}

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function registryFrom(values: Values, io: Io): Registry {
  return createHostRegistry(registryDir(str(values, 'registry'), '--registry', io.env), {
    env: io.env,
    warn: (m) => {
      io.err(`portlease: warning: ${m}`);
    },
    debug: debugEnabled(io.env)
      ? (m) => {
          io.err(`portlease: debug: ${m}`);
        }
      : undefined,
  });
}

/** Build the allocate request from parsed flags; every value checked, nothing touched yet. */
function allocateRequest(
  values: Values,
  positionals: string[],
  owner: Owner | null,
): AllocateRequest {
  const countText = str(values, 'count');
  let names: string[];
  if (countText !== undefined) {
    if (positionals.length > 0) {
      throw new UsageError('--count: give either NAMEs or --count N, not both');
    }
    names = countNames(parseCount(countText, '--count'));
  } else {
    if (positionals.length === 0) {
      throw new UsageError(
        'allocate: no port names given; name at least one (like WEB_PORT) or use --count N',
      );
    }
    names = checkNames(positionals, 'NAME');
  }
  const rangeText = str(values, 'range');
  const key = str(values, 'key');
  const strategy = str(values, 'strategy');
  const ttl = str(values, 'ttl');
  const wait = str(values, 'wait');
  return {
    names,
    range: rangeText === undefined ? undefined : parseRange(rangeText, '--range'),
    contiguous: values.contiguous === true,
    key: key === undefined ? undefined : checkKey(key, '--key'),
    strategy: strategy === undefined ? 'hash' : parseStrategy(strategy, '--strategy'),
    ttlMs: ttl === undefined ? DEFAULT_TTL_MS : parseDuration(ttl, '--ttl'),
    waitMs: wait === undefined ? 0 : parseDuration(wait, '--wait', { allowZero: true }),
    owner,
    allowEphemeral: values['allow-ephemeral'] === true,
  };
}

function leaseJson(lease: Lease, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    lease: lease.id,
    key: lease.key,
    ports: lease.ports,
    owner: lease.owner,
    expires: lease.expires,
    created: lease.created,
    range: lease.range,
    contiguous: lease.contiguous,
    labels: lease.labels,
    ...extra,
  };
}

async function cmdAllocate(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('allocate', args);
  if (values.help) return help('allocate', io);
  const pidText = str(values, 'owner-pid');
  let owner: Owner | null;
  if (pidText !== undefined) {
    const pid = parsePid(pidText, '--owner-pid');
    owner = describeProcess(pid);
    if (owner === null) throw new UsageError(`--owner-pid: no process ${pid} is running`);
  } else {
    owner = describeProcess(process.ppid);
  }
  const req = allocateRequest(values, positionals, owner);
  const registry = registryFrom(values, io);
  const { lease, reused } = await registry.allocate(req);
  const text = values.json
    ? JSON.stringify(leaseJson(lease, { reused }))
    : Object.entries(lease.ports)
        .map(([name, port]) => `${name}=${port}`)
        .join('\n');
  try {
    io.out(text);
  } catch (err) {
    // Nobody learnt the ports: a lease made for nothing would only keep them from others.
    let what = `lease ${lease.id} was there before and stays`;
    if (!reused) {
      try {
        await registry.release({ lease: lease.id });
        what = `released lease ${lease.id}`;
      } catch {
        what = `lease ${lease.id} could not be released either; it ends with its owner or TTL`;
      }
    }
    throw new RuntimeError(
      `stdout: cannot write the ports (${errnoCode(err) ?? describeError(err)}); ${what}`,
    );
  }
  return 0;
}

async function cmdRelease(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('release', args);
  if (values.help) return help('release', io);
  if (positionals.length > 0) {
    throw new UsageError(
      `release: unexpected argument ${JSON.stringify(positionals[0])}; use --key KEY or --lease ID`,
    );
  }
  const key = str(values, 'key');
  const id = str(values, 'lease');
  if ((key === undefined) === (id === undefined)) {
    throw new UsageError('release: give exactly one of --key KEY or --lease ID');
  }
  const sel =
    key !== undefined
      ? { key: checkKey(key, '--key') }
      : { lease: checkLeaseId(id ?? '', '--lease') };
  const registry = registryFrom(values, io);
  const lease = await registry.release(sel);
  // A service container started for this lease (`portlease service`) goes with it.
  const leaseId = lease?.id ?? ('lease' in sel ? sel.lease : undefined);
  if (leaseId !== undefined) {
    const removed = await removeLeaseContainers(leaseId, {
      registry: registry.dir,
      env: io.env,
      warn: (m) => {
        io.err(`portlease: warning: ${m}`);
      },
    });
    for (const id of removed) io.err(`portlease: removed container ${id.slice(0, 12)}`);
  }
  if (lease === null) {
    io.err(
      `portlease: no live lease with ${key !== undefined ? `key ${JSON.stringify(key)}` : `id ${id}`}; nothing to release`,
    );
  } else {
    io.err(
      `portlease: released ${lease.id} (${Object.entries(lease.ports)
        .map(([n, p]) => `${n}=${p}`)
        .join(' ')})`,
    );
  }
  return 0;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

function expiresIn(expires: string | null): string {
  if (expires === null) return 'never';
  const ms = Date.parse(expires) - Date.now();
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 86_400_000)
    return `${Math.floor(ms / 3_600_000)}h${Math.floor((ms % 3_600_000) / 60_000)}m`;
  return `${Math.round(ms / 86_400_000)}d`;
}

async function cmdList(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('list', args);
  if (values.help) return help('list', io);
  if (positionals.length > 0)
    throw new UsageError(`list: unexpected argument ${JSON.stringify(positionals[0])}`);
  const registry = registryFrom(values, io);
  const leases = await registry.list();
  if (values.json) {
    io.out(
      JSON.stringify(
        leases.map((s) => leaseJson(s.lease, { liveness: s.liveness })),
        null,
        2,
      ),
    );
    return 0;
  }
  if (leases.length === 0) {
    io.out(`no live leases in ${registry.dir}`);
    return 0;
  }
  const rows = [['LEASE', 'KEY', 'PORTS', 'OWNER', 'EXPIRES IN']];
  for (const { lease, liveness } of leases) {
    const key = lease.key.length > 40 ? lease.key.slice(0, 39) + '…' : lease.key;
    rows.push([
      lease.id,
      key,
      Object.entries(lease.ports)
        .map(([n, p]) => `${n}=${p}`)
        .join(' '),
      describeOwner(lease.owner) + (liveness === 'unknown' ? ' (unverifiable)' : ''),
      expiresIn(lease.expires),
    ]);
  }
  for (const line of table(rows)) io.out(line);
  return 0;
}

async function cmdGc(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('gc', args);
  if (values.help) return help('gc', io);
  if (positionals.length > 0)
    throw new UsageError(`gc: unexpected argument ${JSON.stringify(positionals[0])}`);
  const registry = registryFrom(values, io);
  const dry = values['dry-run'] === true;
  const report = await registry.gc({ dryRun: dry });
  for (const { lease, reason } of report.removed) {
    io.out(
      `${dry ? 'would remove' : 'removed'} ${lease.id} key ${JSON.stringify(lease.key)} (${Object.values(lease.ports).join(',')}): ${reason}`,
    );
  }
  io.out(
    `${report.removed.length} lease${report.removed.length === 1 ? '' : 's'} ${dry ? 'would be removed' : 'removed'}, ${report.live.length} live`,
  );
  // Containers labelled portlease.lease=<id> whose lease is no longer live (a runner that died mid-job).
  // The live set is read after the containers are listed (see removeOrphanContainers). A read
  // that found damage may have lost live leases: then no container is judged an orphan.
  const damaged =
    'the registry had damaged records (see quarantine/; some leases may be lost), so no container was removed this time';
  if (report.damaged) {
    io.err(`portlease: warning: ${damaged}`);
    return 0;
  }
  const orphans = await removeOrphanContainers(
    async () => {
      const state = await registry.listState();
      if (!state.damaged) return state.leases.map((s) => s.lease.id);
      io.err(`portlease: warning: ${damaged}`);
      return null;
    },
    {
      dryRun: dry,
      registry: registry.dir,
      env: io.env,
      warn: (m) => {
        io.err(`portlease: warning: ${m}`);
      },
    },
  );
  for (const c of orphans) {
    if (dry || c.removed) {
      io.out(
        `${dry ? 'would remove' : 'removed'} ${c.engine} container ${c.id.slice(0, 12)}${c.name ? ` (${c.name})` : ''}: lease ${c.lease} is not live`,
      );
    }
  }
  if (orphans.length > 0) {
    const n = dry ? orphans.length : orphans.filter((c) => c.removed).length;
    io.out(`${n} orphan container${n === 1 ? '' : 's'} ${dry ? 'would be removed' : 'removed'}`);
  }
  return 0;
}

/** Passed on to the command; none of them ends exec itself (SIGUSR1: see signals.ts). */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

async function cmdExec(args: string[], io: Io): Promise<number> {
  const dash = args.indexOf('--');
  const own = dash < 0 ? args : args.slice(0, dash);
  const { values, positionals } = parse('exec', own);
  if (values.help) return help('exec', io);
  const command = dash < 0 ? [] : args.slice(dash + 1);
  if (command.length === 0) {
    throw new UsageError(
      "exec: no command given; put it after '--', like: portlease exec WEB_PORT -- npm test",
    );
  }
  const req = allocateRequest(values, positionals, selfOwner());
  const registry = registryFrom(values, io);
  const { lease } = await registry.allocate(req);
  const env = {
    ...io.env,
    ...Object.fromEntries(Object.entries(lease.ports).map(([n, p]) => [n, String(p)])),
    PORTLEASE_LEASE: lease.id,
  };
  try {
    return await runChild(command, env, io);
  } finally {
    try {
      await registry.release({ lease: lease.id });
    } catch (err) {
      // The command's own exit status matters more; the lease ends once gc finds this
      // process gone, or at its TTL.
      io.err(
        `portlease: warning: could not release lease ${lease.id}: ${describeError(err)}; gc reclaims it once this process is gone`,
      );
    }
  }
}

/** Run `command` with `env`, passing SIGINT/SIGTERM/SIGHUP on; its exit status (128+N for signal N). */
async function runChild(command: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const [file, ...rest] = command as [string, ...string[]];
  const { spawn } = await import('node:child_process'); // only exec needs it: load it here
  const handlers = new Map<string, () => void>();
  try {
    return await new Promise<number>((resolve) => {
      const child = spawn(file, rest, { stdio: 'inherit', env });
      for (const sig of FORWARDED) {
        const h = (): void => {
          child.kill(sig);
        };
        handlers.set(sig, h);
        process.on(sig, h);
      }
      child.once('error', (err: NodeJS.ErrnoException) => {
        io.err(
          `portlease: exec: cannot run ${JSON.stringify(file)}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`,
        );
        resolve(err.code === 'ENOENT' ? 127 : 126);
      });
      child.once('exit', (status, signal) => {
        if (signal !== null) resolve(128 + osConstants.signals[signal]);
        else resolve(status ?? 1);
      });
    });
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

async function cmdServiceArgs(args: string[], io: Io): Promise<number> {
  const dash = args.indexOf('--');
  const own = dash < 0 ? args : args.slice(0, dash);
  const { values, positionals } = parse('service', own);
  if (values.help) return help('service', io);
  const command = dash < 0 ? [] : args.slice(dash + 1);
  if (dash >= 0 && command.length === 0) {
    throw new UsageError(
      "service: no command after '--'; give one (like -- pytest), or leave out '--' to start the service and detach",
    );
  }
  const pidText = str(values, 'owner-pid');
  let owner: Owner | null;
  if (pidText !== undefined) {
    const pid = parsePid(pidText, '--owner-pid');
    owner = describeProcess(pid);
    if (owner === null) throw new UsageError(`--owner-pid: no process ${pid} is running`);
  } else {
    owner = command.length > 0 ? selfOwner() : describeProcess(process.ppid);
  }
  const registry = registryFrom(values, io);
  return cmdService({
    values,
    positionals,
    command,
    io,
    registry,
    request: (names) => allocateRequest(values, names, owner),
    runCommand: (cmd, env) => runChild(cmd, env, io),
  });
}

function help(command: string, io: Io): number {
  io.out(HELP[command] ?? HELP.main ?? '');
  return 0;
}

/** Run the CLI; returns the exit status. Never throws. */
export async function runCli(argv: string[], io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        io.err(HELP.main ?? '');
        return 2;
      case '--help':
      case '-h':
      case 'help':
        return help(rest[0] ?? 'main', io);
      case '--version':
      case '-V':
      case 'version':
        io.out(VERSION);
        return 0;
      case 'allocate':
        return await cmdAllocate(rest, io);
      case 'release':
        return await cmdRelease(rest, io);
      case 'list':
        return await cmdList(rest, io);
      case 'gc':
        return await cmdGc(rest, io);
      case 'exec':
        return await cmdExec(rest, io);
      case 'service':
        return await cmdServiceArgs(rest, io);
      default:
        throw new UsageError(
          `unknown command ${JSON.stringify(command)}; use allocate, release, list, gc, exec or service (portlease --help)`,
        );
    }
  } catch (err) {
    if (err instanceof PortleaseError) {
      io.err(`portlease: ${err.message}`);
      return err instanceof UsageError ? 2 : 1;
    }
    io.err(`portlease: unexpected error: ${describeError(err)}`);
    // The whole stack only when asked for (with NODE_OPTIONS=--enable-source-maps it names
    // the TypeScript sources: dist/ ships its source maps).
    if (debugEnabled(io.env) && err instanceof Error && err.stack !== undefined) io.err(err.stack);
    else io.err('portlease: set PORTLEASE_DEBUG=1 to see where it happened');
    return 1;
  }
}
