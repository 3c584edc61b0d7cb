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
