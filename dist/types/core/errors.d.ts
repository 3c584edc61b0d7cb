/**
 * Errors the core raises on purpose. Every message is one line meant for a person:
 * the shells (CLI, action, container step) print `message` and nothing else.
 *
 * - `UsageError`: the input is wrong (exit 2 in the CLI). Raised before the registry
 *   is touched, so the registry is never changed by bad input.
 * - `RuntimeError`: the input was fine but the work could not be done (range full,
 *   registry not writable, disk full, lock held too long): exit 1 in the CLI.
 */
export declare class PortleaseError extends Error {
    readonly name: string;
}
export declare class UsageError extends PortleaseError {
    readonly name = "UsageError";
}
export declare class RuntimeError extends PortleaseError {
    readonly name: string;
}
/**
 * A leased port could not be listened on: `code` is the errno (EADDRINUSE: a process outside
 * the registry holds it; EADDRNOTAVAIL: not an address of this host; EACCES).
 */
export declare class ListenError extends RuntimeError {
    readonly name = "ListenError";
    readonly code: string;
    readonly host: string;
    readonly port: number;
    constructor(message: string, where: {
        code: string;
        host: string;
        port: number;
    });
}
/** The errno code of a Node system error, or undefined. */
export declare function errnoCode(err: unknown): string | undefined;
/** A short, single-line description of any thrown value (never a stack trace). */
export declare function describeError(err: unknown): string;
