/**
 * Imported first by the CLI, so it runs before anything else is loaded.
 *
 * SIGUSR1 makes Node start its inspector: a debugger on 127.0.0.1:9229 that any local user
 * may connect to and run code through, in a tool that may run as root.
 *
 * - From here on, a JS listener replaces Node's own SIGUSR1 handler: the signal only
 *   reaches this listener (and `exec` forwards it to its command). It stays installed for
 *   the life of the process: with no listener left, SIGUSR1 would kill it.
 * - A SIGUSR1 that came during Node's start-up, before this line, has started the
 *   inspector already (or will, at the first turn of the event loop: Node starts it both
 *   from an interrupt and from an async callback). It is ended here, at the first turn and
 *   once more shortly after, unless Node was started with --inspect on purpose.
 *
 * `node --disable-sigusr1` would close even the start-up window, but the bin must run under
 * plain `node`, and Node before 22.14 refuses that flag (in the shebang or NODE_OPTIONS).
 * Where every node is new enough, NODE_OPTIONS=--disable-sigusr1 does it for good.
 */
process.on('SIGUSR1', () => undefined);

const onPurpose =
  process.execArgv.some((a) => a.startsWith('--inspect')) ||
  /--inspect/.test(process.env.NODE_OPTIONS ?? '');
if (!onPurpose) {
  const end = (): void => {
    (process as { _debugEnd?: () => void })._debugEnd?.();
  };
  end();
  setImmediate(end);
  setTimeout(end, 100).unref();
}
