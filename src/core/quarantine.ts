/**
 * What a read of the state file rejects (docs/adr/0002-store-salvage.md): the damage of one
 * read is kept in ONE bounded `quarantine/` file (mode 0600) for a person to inspect, and
 * named in a bounded number of warnings; a state file that is not a regular file is moved
 * aside under the lock. Read-only commands only warn.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, errnoCode, RuntimeError } from './errors.js';
import { writeAtomic } from './fsio.js';
import type { Damage } from './layout.js';
import { STATE_FILE } from './schema.js';
import { randomSuffix } from './text.js';

/** At most this many files are kept in quarantine/. */
const MAX_QUARANTINE = 200;
/** At most this many warnings name a damaged line; the rest are counted in one more line. */
const MAX_DAMAGE_WARNINGS = 3;
/** A quarantine file holds at most this much of the damage (each piece cut to 4 KiB). */
const MAX_QUARANTINE_BYTES = 256 * 1024;
const MAX_PIECE = 4096;

/** How a read deals with damage. */
export interface DamagePolicy {
  /** Under the lock: quarantine damage and move an unreadable state file aside. */
  quarantine: boolean;
  warn?: (msg: string) => void;
}

/**
 * Keep a copy of what was rejected in `<registry>/quarantine/` (bounded, mode 0600) and
 * return its path, or null when it could not be kept; never throws.
 */
export function keepInQuarantine(dir: string, what: string, content: string): string | null {
  const qdir = join(dir, 'quarantine');
  try {
    try {
      mkdirSync(qdir, { mode: 0o777 });
      chmodSync(qdir, 0o777);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    if (!lstatSync(qdir).isDirectory()) return null;
    if (readdirSync(qdir).length >= MAX_QUARANTINE) return null;
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${what}-${randomSuffix(6)}.json`;
    const path = join(qdir, name);
    // Only its writer may read it: it may hold what another user wrote, and a copy must
    // never be more readable than what it copies.
    writeAtomic(path, content, 0o600);
    return path;
  } catch {
    return null;
  }
}

/**
 * A state file that cannot be read as one (a directory, FIFO, socket, symlink, or too
 * large): under the lock it is renamed aside so the registry can go on; read-only, ignored.
 * Either way the caller goes on with an empty registry.
 */
export function moveAside(dir: string, what: string, opts: DamagePolicy): void {
  const path = join(dir, STATE_FILE);
  if (!opts.quarantine) {
    opts.warn?.(
      `registry: ${path} is ${what}, not a registry file; ignoring it (the next allocate, release or gc moves it aside)`,
    );
    return;
  }
  const aside = `${STATE_FILE}.rejected-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomSuffix(4)}`;
  try {
    renameSync(path, join(dir, aside)); // rename never follows a symlink: the link itself moves
  } catch (err) {
    throw new RuntimeError(
      `registry: ${path} is ${what}, not a registry file, and cannot be moved aside (${errnoCode(err) ?? describeError(err)}); remove it`,
    );
  }
  opts.warn?.(
    `registry: ${path} was ${what}, not a registry file; moved it aside as ${aside} and went on with an empty registry`,
  );
}

/** Warn about damage (a bounded number of lines) and keep it in one quarantine file. */
export function reportDamage(
  dir: string,
  text: string,
  damage: readonly Damage[],
  recognised: boolean,
  intact: number,
  links: number,
  opts: DamagePolicy,
): void {
  const path = join(dir, STATE_FILE);
  let note = '';
  if (opts.quarantine) {
    if (links > 1) {
      // A hard link may be another file entirely (a secret linked in here): never copy it.
      note = `; not copied to quarantine (the file has ${links} hard links)`;
    } else {
      const pieces: { line: number; reason: string; text: string }[] = [];
      let size = 0;
      for (const d of damage) {
        if (size >= MAX_QUARANTINE_BYTES) break;
        const piece = d.text.length > MAX_PIECE ? d.text.slice(0, MAX_PIECE) : d.text;
        size += piece.length + d.reason.length + 32;
        pieces.push({ line: d.line, reason: d.reason, text: piece });
      }
      const kept = keepInQuarantine(
        dir,
        'state',
        JSON.stringify({
          file: path,
          read: new Date().toISOString(),
          bytes: text.length,
          damaged: pieces,
          more: damage.length - pieces.length,
        }) + '\n',
      );
      if (kept !== null) note = `; the damage is kept in ${kept}`;
    }
  }
  if (!recognised && intact === 0) {
    opts.warn?.(`registry: ${path} does not parse as a portlease registry; ignoring it${note}`);
    return;
  }
  for (const d of damage.slice(0, MAX_DAMAGE_WARNINGS)) {
    opts.warn?.(`registry: ${path}${d.line > 0 ? ` line ${d.line}` : ''}: ${d.reason}; skipped it`);
  }
  const more = damage.length - MAX_DAMAGE_WARNINGS;
  opts.warn?.(
    `registry: ${path}: ${more > 0 ? `${more} more damaged line${more === 1 ? '' : 's'} skipped; ` : ''}kept the ${intact} intact record${intact === 1 ? '' : 's'}${note}`,
  );
}
