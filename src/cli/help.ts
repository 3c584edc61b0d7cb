import { DEFAULT_RANGE, formatRange } from '../core/index.js';

const RANGE = formatRange(DEFAULT_RANGE);

export const ALLOCATE_OPTIONS = `Options:
  --count N             N ports named PORT_1..PORT_N instead of NAMEs
  --range LO-HI         ports to choose from (default ${RANGE})
  --contiguous          one block of consecutive ports
  --key KEY             same key while its lease lives: the same ports back; more NAMEs
                        grow it; a new --ttl or --owner renews it (default: a new key)
  --strategy S          hash (default: the key picks a stable start), random, sequential
  --ttl D               lease ends after D even if its owner lives (default 24h, none for
                        --owner dir:; 90s, 15m, 6h, 2d)
  --owner OWNER         who the lease lives with (default: the job's Runner.Worker in a
                        GitHub Actions step, else the calling shell's session):
                          pid:N        while process N runs (alias: --owner-pid N)
                          session      while any process of this session runs
                          session:SID  while any process of session SID runs
                          dir:PATH     while directory PATH exists (key: dir:<realpath>)
                          job          while this GitHub Actions job's Runner.Worker runs
                          none         TTL only
  --wait D              when the range is full, wait up to D for a release (default 0)
  --write FILE          also write the ports to FILE, atomically: NAME=PORT lines if FILE
                        ends in .env, else a JSON object {"NAME": port}
  --allow-ephemeral     allow ports inside the kernel's ephemeral range
  --registry DIR        registry directory (default $PORTLEASE_REGISTRY, else /tmp/portlease)
  --json                print one JSON object instead of NAME=PORT lines`;

export const HELP: Record<string, string> = {
  main: `portlease: collision-free TCP ports for parallel jobs that share one host

Usage:
  portlease allocate NAME... [options]      lease ports; prints NAME=PORT lines
  portlease release (--key KEY | --lease ID) give a lease back
  portlease list [--json]                   live leases
  portlease gc [--dry-run]                  remove leases whose owner died or TTL passed
  portlease exec NAME... [options] -- CMD   run CMD with NAME=PORT set; release on exit
  portlease service NAME --image I --container-port P [options] [-- CMD]
                                            a service container on a leased port
  portlease serve [--socket PATH]           a warm lease server (JSON lines on a socket)
  portlease portserver [--address ADDR]     serve portpicker's clients (PORTSERVER_ADDRESS)

Every command takes --registry DIR and --help. 'portlease COMMAND --help' for more.
Exit status: 0 ok, 1 could not be done (range full, registry not writable), 2 bad usage.
Set PORTLEASE_DEBUG=1 to log every decision to stderr.`,

  allocate: `Usage: portlease allocate NAME... [options]
       portlease allocate --count N [options]

Lease one port per NAME (an environment-variable name) and print NAME=PORT lines, e.g.
  eval "$(portlease allocate WEB_PORT DB_PORT --key "$PWD")"

${ALLOCATE_OPTIONS}`,

  release: `Usage: portlease release (--key KEY | --lease ID) [--registry DIR]

Give a lease back. Releasing a lease that is already gone is not an error (exit 0).`,

  list: `Usage: portlease list [--json] [--registry DIR]

Show the live leases: id, key, ports, owner and expiry. --json prints a JSON array.`,

  serve: `Usage: portlease serve [--socket PATH] [--idle D] [--exit-on-eof] [--registry DIR]

Answer lease requests over a Unix stream socket, one JSON object per line each way, through
the same registry, lock and store as every other command (docs/cli.md has the protocol):
  {"op":"allocate","pid":PID,"names":["WEB_PORT"],"range":"21000-21099",...}
  {"op":"release","lease":ID,"token":T}   {"op":"renew","lease":ID,"token":T,"ttl":"1h"}
  {"op":"list"}
A lease is owned by the client's PID (or the owner it names), never by the server. When it
listens it prints one line: {"socket":PATH,"pid":N,"version":V}.

Options:
  --socket PATH         where to listen (default <registry>/serve.sock; mode 0666)
  --idle D              exit after D with no connection (default: never)
  --exit-on-eof         exit when stdin closes (the process that started it went away)
  --registry DIR        registry directory (default $PORTLEASE_REGISTRY, else /tmp/portlease)`,

  gc: `Usage: portlease gc [--dry-run] [--registry DIR]

Remove leases whose owner is provably dead (same boot: pid gone or reused; host rebooted) or
whose TTL has passed. Never removes a live lease. --dry-run only says what it would remove.`,

  exec: `Usage: portlease exec NAME... [options] -- COMMAND [ARGS...]
       portlease exec --portserver [NAME...] [options] -- COMMAND [ARGS...]

Lease ports, print them on stderr, and run COMMAND in its own session (and process group)
with NAME=PORT and PORTLEASE_LEASE=ID in its environment. The lease lives while exec, any
process of that session, or any process carrying PORTLEASE_LEASE=ID runs, even after exec
itself is killed with SIGKILL. When COMMAND exits, or exec gets SIGINT, SIGTERM or SIGHUP,
the whole tree gets that signal (SIGTERM for what COMMAND left behind), then SIGKILL after
the grace period; then the lease is released and exec exits with COMMAND's status (128+N
when it died of signal N). With --key on another owner's live lease, exec uses its ports
and leaves it as it is.

${ALLOCATE_OPTIONS.replace(/\n {2}--owner OWNER[^]*?(?=\n {2}--wait)/, '')
  .replace(/\n {2}--json[^\n]*/, '')
  .replace(
    /\n {2}--ttl D[^\n]*\n[^\n]*/,
    '\n  --ttl D               lease ends after D even if the tree lives (default: 24h,\n                        renewed every hour while exec runs)',
  )}
  --grace D             time between SIGTERM and SIGKILL (default 5s; 0 = SIGKILL at once)
  --listen              bind every leased port here and pass the listening sockets to COMMAND
                        as fds 3, 4, ... (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES; NAME_FD=N)
  --listen-host H       the address for --listen: 127.0.0.1 (default), 0.0.0.0, ::, ::1 or
                        another IP address of this host
  --portserver          also serve portpicker's protocol to COMMAND's tree on a fresh private
                        address, set in PORTSERVER_ADDRESS: each pick_unused_port() is a lease
                        owned by the asking process, in --range (see 'portlease portserver
                        --help'). NAMEs may then be left out: no ports of exec's own`,

  portserver: `Usage: portlease portserver [--address ADDR] [--range LO-HI] [--registry DIR]

Serve portpicker's portserver protocol (Python's portpicker: a client sends its pid and a
newline, gets PORT and a newline) on a Unix socket, until SIGINT, SIGTERM or SIGHUP (exit 0).
Set PORTSERVER_ADDRESS=ADDR for the clients. Each port handed out is a lease in the registry
owned by the pid that asked (key portserver:pid:PID:..., label source=portserver): it ends
when that process exits (portlease gc, or the next allocation reclaims it), never with this
server. A request that is not the pid of a live process (0, 1, garbage, a line of more than
32 bytes, nothing within 5s) gets an empty reply and changes nothing; so does one that
cannot be served, with one warning line on stderr (range full). Prints one JSON line on
stdout once it listens: {"address":ADDR,"pid":N,"range":"LO-HI","registry":DIR}.

Options:
  --address ADDR        @NAME (abstract socket, Linux) or a socket path (a stale socket file
                        there is replaced; default @unittest-portserver, the reference
                        portserver's, so PORTSERVER_ADDRESS=@unittest-portserver keeps working)
  --range LO-HI         ports to lease from (default ${RANGE})
  --allow-ephemeral     allow ports inside the kernel's ephemeral range
  --registry DIR        registry directory (default $PORTLEASE_REGISTRY, else /tmp/portlease)`,

  service: `Usage: portlease service NAME --image IMAGE --container-port PORT [options] [-- COMMAND [ARGS...]]

Lease a host port for NAME, run IMAGE detached with PORT published on 127.0.0.1:<leased
port> and the labels portlease.lease and portlease.registry, and wait until it is ready.
With COMMAND: run it with NAME=<port> set, then remove the container (with its volumes) and
release the lease when it exits or on SIGINT/SIGTERM/SIGHUP; exit with its status.
Without COMMAND: print one JSON object (lease, port, container, ...) and leave the service
running; 'portlease release --lease ID' removes it, and 'portlease gc' removes it once the
lease's owner is gone. Nothing is ever run through a shell.

Service options (the container step's inputs):
  --image IMAGE         the image to run (required), like postgres:16
  --container-port P    the port the service listens on inside the container (required)
  --args WORDS          command and arguments for the image (split like shell words)
  --env KEY=VALUE       an environment variable for the container (repeatable); values
                        reach the engine through its environment, never its command line
  --options WORDS       more options for 'docker run' (not -p/--publish/--rm)
  --health MODE         tcp (default), http, docker (its HEALTHCHECK), cmd, none
  --health-cmd WORDS    a command that succeeds in the container once it is ready
  --health-timeout D    how long to wait until ready (default 2m)
  --engine E            docker, podman or auto (default: docker when its daemon answers)
  --pull P              missing (default), always, never

${ALLOCATE_OPTIONS.replace(/\n {2}--count[^\n]*/, '').replace(/\n {2}--json[^\n]*/, '')}`,
};
