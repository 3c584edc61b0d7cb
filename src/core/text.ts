/** Small text and value helpers shared by every layer (no I/O). */

/** A plain object (not null, not an array): the first check on any parsed JSON value. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The first non-empty line of a text, trimmed ('' when there is none). */
export function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

/**
 * `n` random base-36 characters. Names and ids need to be unique, not secret: Math.random
 * (seeded per process from the OS) gives ~5 bits a character, and a lease id that is taken
 * already is drawn again. (node:crypto would cost every command several ms to load.)
 */
export function randomSuffix(n: number): string {
  let out = '';
  while (out.length < n)
    out += Math.floor(Math.random() * 36 ** 6)
      .toString(36)
      .padStart(6, '0');
  return out.slice(0, n);
}
