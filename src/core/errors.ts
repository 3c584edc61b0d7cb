/**
 * Errors the core raises on purpose. Every message is one line meant for a person:
 * the shells (CLI, action, container step) print `message` and nothing else.
 *
 * - `UsageError`: the input is wrong (exit 2 in the CLI). Raised before the registry
 *   is touched, so the registry is never changed by bad input.
 * - `RuntimeError`: the input was fine but the work could not be done (range full,
 *   registry not writable, disk full, lock held too long): exit 1 in the CLI.
 */
export class PortleaseError extends Error {
  override readonly name: string = 'PortleaseError';
}

export class UsageError extends PortleaseError {
  override readonly name = 'UsageError';
}

export class RuntimeError extends PortleaseError {
  override readonly name: string = 'RuntimeError';
}

/**
 * A leased port could not be listened on: `code` is the errno (EADDRINUSE: a process outside
 * the registry holds it; EADDRNOTAVAIL: not an address of this host; EACCES).
 */
export class ListenError extends RuntimeError {
  override readonly name = 'ListenError';
  readonly code: string;
  readonly host: string;
  readonly port: number;
  constructor(message: string, where: { code: string; host: string; port: number }) {
    super(message);
    this.code = where.code;
    this.host = where.host;
    this.port = where.port;
  }
}

/** The errno code of a Node system error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** A short, single-line description of any thrown value (never a stack trace). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err).split('\n')[0] ?? 'unknown error';
}
