/**
 * The `portlease` command: a thin shell over the registry (src/core).
 */
import './signals.js'; // first: SIGUSR1 must never start the inspector
import { writeSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  checkLeaseId,
  describeOwner,
  parseDuration,
  PortleaseError,
  treeOwner,
  UsageError,
  checkKey,
  describeError,
  errnoCode,
  RuntimeError,
} from '../core/index.js';
import { checkListenHost, DEFAULT_LISTEN_HOST, parseListenHost } from '../core/bind.js';
import { VERSION } from '../version.js';
import { removeLeaseContainers, removeOrphanContainers } from '../engines/host.js';
import {
  debugEnabled,
  DEFAULT_TTL_MS,
  renewWhileHeld,
  SERVER_BUSY_PORTS_MAX_AGE_MS,
} from '../job/host-registry.js';
import {
  allocateRequest,
  askedPorts,
  leaseJson,
  ownerFrom,
  registryFrom,
  str,
  type Io,
  type Values,
} from './args.js';
import { HELP } from './help.js';
import { bindListeners } from './socket-activation.js';
import { cmdServe } from './serve.js';
import {
  cmdPortserver,
  execPortserverOnly,
  PORTSERVER_OPTIONS,
  startExecPortserver,
} from './portserver.js';
import { cmdService, SERVICE_OPTIONS } from './service.js';
import { supervise } from './supervise.js';
import { checkWriteTarget, writePorts, type WriteTarget } from './write.js';

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

const DEFAULT_GRACE_MS = 5_000;

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
  owner: { type: 'string' },
  'owner-pid': { type: 'string' },
  wait: { type: 'string' },
  'allow-ephemeral': { type: 'boolean' },
  write: { type: 'string' },
  json: { type: 'boolean' },
};

const COMMANDS: Record<string, Options> = {
  allocate: ALLOCATE,
  service: {
    ...Object.fromEntries(Object.entries(ALLOCATE).filter(([k]) => k !== 'json' && k !== 'count')),
    ...SERVICE_OPTIONS,
  },
  exec: {
    ...Object.fromEntries(
      Object.entries(ALLOCATE).filter(([k]) => !['owner', 'owner-pid', 'json'].includes(k)),
    ),
    grace: { type: 'string' },
    listen: { type: 'boolean' },
    'listen-host': { type: 'string' },
    portserver: { type: 'boolean' },
  },
  portserver: { ...COMMON, ...PORTSERVER_OPTIONS },
  release: { ...COMMON, key: { type: 'string' }, lease: { type: 'string' } },
  list: { ...COMMON, json: { type: 'boolean' } },
  gc: { ...COMMON, 'dry-run': { type: 'boolean' } },
  serve: {
    ...COMMON,
    socket: { type: 'string' },
    idle: { type: 'string' },
    'exit-on-eof': { type: 'boolean' },
  },
};

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

/** parse() for a command with a `-- COMMAND [ARGS...]` tail: its options, and the command after `--`. */
function parseWithCommand(
  command: string,
  args: string[],
): { values: Values; positionals: string[]; tail: string[] | null } {
  const dash = args.indexOf('--');
  const { values, positionals } = parse(command, dash < 0 ? args : args.slice(0, dash));
  return { values, positionals, tail: dash < 0 ? null : args.slice(dash + 1) };
}

/** parse() for a command that takes options only. */
function parseFlags(command: string, args: string[]): Values {
  const { values, positionals } = parse(command, args);
  if (values.help !== true && positionals.length > 0) {
    throw new UsageError(`${command}: unexpected argument ${JSON.stringify(positionals[0])}`);
  }
  return values;
}

function writeTarget(values: Values): WriteTarget | undefined {
  const text = str(values, 'write');
  return text === undefined ? undefined : checkWriteTarget(text, '--write');
}

async function cmdAllocate(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('allocate', args);
  if (values.help) return help('allocate', io);
  const choice = ownerFrom(values, io);
  const req = allocateRequest(values, positionals, choice);
  const target = writeTarget(values);
  const registry = registryFrom(values, io);
  if (debugEnabled(io.env)) io.err(`portlease: debug: ${choice.describe}`);
  const { lease, reused } = await registry.allocate(req);
  const ports = askedPorts(lease, req.names);
  if (target !== undefined) {
    try {
      writePorts(target, ports);
    } catch (err) {
      if (!reused) await registry.release({ lease: lease.id });
      throw err;
    }
  }
  const text = values.json
    ? JSON.stringify(leaseJson(lease, { reused }, ports))
    : Object.entries(ports)
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
  const values = parseFlags('list', args);
  if (values.help) return help('list', io);
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
      describeOwner(lease.owner, { names: true }) +
        (liveness === 'unknown' ? ' (unverifiable)' : ''),
      expiresIn(lease.expires),
    ]);
  }
  for (const line of table(rows)) io.out(line);
  return 0;
}

async function cmdGc(args: string[], io: Io): Promise<number> {
  const values = parseFlags('gc', args);
  if (values.help) return help('gc', io);
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

async function cmdExec(args: string[], io: Io): Promise<number> {
  const { values, positionals, tail } = parseWithCommand('exec', args);
  if (values.help) return help('exec', io);
  const command = tail ?? [];
  if (command.length === 0) {
    throw new UsageError(
      "exec: no command given; put it after '--', like: portlease exec WEB_PORT -- npm test",
    );
  }
  const hostText = str(values, 'listen-host');
  if (hostText !== undefined && values.listen !== true) {
    throw new UsageError('--listen-host: only with --listen');
  }
  const listenHost = parseListenHost(hostText ?? DEFAULT_LISTEN_HOST, '--listen-host');
  const graceText = str(values, 'grace');
  const graceMs =
    graceText === undefined
      ? DEFAULT_GRACE_MS
      : parseDuration(graceText, '--grace', { allowZero: true, max: 3_600_000 });
  // Owned by the tree exec supervises: exec itself, its command's session once it runs, and
  // every process carrying PORTLEASE_LEASE=<id>. Never a renewal of someone else's lease.
  if (positionals.length === 0 && str(values, 'count') === undefined) {
    if (values.portserver !== true) {
      throw new UsageError(
        "exec: no port names given; name at least one (like WEB_PORT), use --count N, or --portserver (portpicker's clients only)",
      );
    }
    return execPortserverOnly({
      values,
      command,
      graceMs,
      registry: () => registryFrom(values, io, SERVER_BUSY_PORTS_MAX_AGE_MS),
      io,
    });
  }
  const tree = treeOwner();
  const req = {
    ...allocateRequest(values, positionals, {
      owner: tree,
      describe: 'exec tree',
      explicit: false,
    }),
    renew: {},
  };
  const target = writeTarget(values);
  const registry = registryFrom(values, io);
  // A host that cannot be listened on is bad input: refused before any lease is taken.
  if (values.listen === true) await checkListenHost(listenHost, '--listen-host');
  const { lease, reused } = await registry.allocate(req);
  const ports = askedPorts(lease, req.names);
  // With the default TTL, the lease is renewed while exec runs: a dev server may run for
  // days. An explicit --ttl is a hard bound. (After a SIGKILL of exec the last renewal's
  // TTL still bounds a tree that cannot be judged from here.)
  const stopRenewal =
    reused || str(values, 'ttl') !== undefined
      ? undefined
      : renewWhileHeld(
          registry,
          lease.id,
          DEFAULT_TTL_MS,
          (message) => {
            io.err(`portlease: warning: exec: ${message}`);
          },
          io.env,
        );
  let status: number;
  let leftovers: number[];
  let portserver: Awaited<ReturnType<typeof startExecPortserver>> | undefined;
  try {
    if (target !== undefined) writePorts(target, ports);
    portserver =
      values.portserver === true
        ? await startExecPortserver({
            registry,
            range: req.range,
            allowEphemeral: req.allowEphemeral === true,
            tag: reused ? undefined : lease.id, // a shared key's lease: its own address
            io,
          })
        : undefined;
    const shown = Object.entries(ports)
      .map(([n, p]) => `${n}=${p}`)
      .join(' ');
    io.err(
      reused
        ? `portlease: exec: ${shown} (live lease ${lease.id} of key ${JSON.stringify(lease.key)}, owner ${describeOwner(lease.owner)}; left as it is)`
        : `portlease: exec: ${shown} (lease ${lease.id})`,
    );
    // --listen: the leased ports bound here, while the lease is held, and handed over as
    // fds 3, 4, ... (systemd's protocol): no other process can take them from now on.
    const listeners =
      values.listen === true ? await bindListeners(Object.entries(ports), listenHost) : null;
    const [file, ...rest] = (listeners?.wrap(command) ?? command) as [string, ...string[]];
    ({ status, leftovers } = await supervise({
      file,
      args: rest,
      env: {
        ...io.env,
        ...Object.fromEntries(Object.entries(ports).map(([n, p]) => [n, String(p)])),
        ...(listeners?.env ?? {}),
        ...(portserver?.env ?? {}),
        PORTLEASE_LEASE: lease.id,
      },
      fds: listeners?.stdio,
      graceMs,
      cookie: reused ? null : lease.id,
      onSpawn: async (sid) => {
        // The command holds its own copies now: this process keeps none.
        await listeners?.close();
        if (reused) return;
        try {
          await registry.update(lease.id, { owner: { ...tree, sid } });
        } catch (err) {
          io.err(
            `portlease: warning: exec: could not record the command's session in the lease (${err instanceof Error ? err.message : String(err)}); it stays owned by this process and PORTLEASE_LEASE carriers`,
          );
        }
      },
      err: io.err,
    }));
  } catch (err) {
    stopRenewal?.();
    await portserver?.close();
    if (!reused) await registry.release({ lease: lease.id });
    throw err;
  }
  await portserver?.close();
  stopRenewal?.();
  if (reused) return status;
  if (leftovers.length > 0) {
    io.err(
      `portlease: warning: exec: ${leftovers.length} process${leftovers.length === 1 ? '' : 'es'} of the command's tree did not exit after SIGKILL (${leftovers.slice(0, 10).join(', ')}); lease ${lease.id} stays until they are gone`,
    );
    return status;
  }
  try {
    await registry.release({ lease: lease.id });
  } catch (err) {
    io.err(
      `portlease: warning: exec: could not release ${lease.id}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}; it ends once its tree is gone (portlease gc)`,
    );
  }
  return status;
}

async function cmdPortserverArgs(args: string[], io: Io): Promise<number> {
  const values = parseFlags('portserver', args);
  if (values.help) return help('portserver', io);
  return cmdPortserver(values, io, () => registryFrom(values, io, SERVER_BUSY_PORTS_MAX_AGE_MS));
}

async function cmdServiceArgs(args: string[], io: Io): Promise<number> {
  const { values, positionals, tail } = parseWithCommand('service', args);
  if (values.help) return help('service', io);
  const command = tail ?? [];
  if (tail !== null && command.length === 0) {
    throw new UsageError(
      "service: no command after '--'; give one (like -- pytest), or leave out '--' to start the service and detach",
    );
  }
  const registry = registryFrom(values, io);
  // Detached: the default owner (or --owner), like allocate. With COMMAND: the tree, like exec.
  const tree = treeOwner();
  const choice =
    command.length > 0
      ? { owner: tree, describe: 'exec tree', explicit: false }
      : ownerFrom(values, io);
  return cmdService({
    values,
    positionals,
    command,
    io,
    registry,
    request: (names) => allocateRequest(values, names, choice),
    runCommand: async (cmd, env, lease) => {
      const [file, ...rest] = cmd as [string, ...string[]];
      const { status } = await supervise({
        file,
        args: rest,
        env,
        graceMs: DEFAULT_GRACE_MS,
        cookie: lease.id,
        onSpawn: async (sid) => {
          try {
            await registry.update(lease.id, { owner: { ...tree, sid } });
          } catch {
            // it stays owned by this process and the PORTLEASE_LEASE carriers
          }
        },
        err: io.err,
      });
      return status;
    },
  });
}

function help(command: string, io: Io): number {
  io.out(HELP[command] ?? HELP.main ?? '');
  return 0;
}

const COMMAND_RUNNERS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  allocate: cmdAllocate,
  release: cmdRelease,
  list: cmdList,
  gc: cmdGc,
  exec: cmdExec,
  service: cmdServiceArgs,
  serve: async (args, io) => {
    const values = parseFlags('serve', args);
    return values.help ? help('serve', io) : cmdServe(values, io);
  },
  portserver: cmdPortserverArgs,
};

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
      default: {
        const run = Object.hasOwn(COMMAND_RUNNERS, command) ? COMMAND_RUNNERS[command] : undefined;
        if (run !== undefined) return await run(rest, io);
        throw new UsageError(
          `unknown command ${JSON.stringify(command)}; use allocate, release, list, gc, exec, service, serve or portserver (portlease --help)`,
        );
      }
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
