/**
 * What one Registry remembers of its state file between operations, and the reads and
 * writes that keep it: the state it last saw under the lock (so a read under the next lock
 * can be skipped when provably nothing changed) and its record memo (so a line read again is
 * not validated again). Each Registry owns one; two registries in one process never share
 * what they remember.
 */
import { RuntimeError } from './errors.js';
import type { Lock } from './lock.js';
import { RecordMemo } from './memo.js';
import { STATE_VERSION, type Lease } from './schema.js';
import {
  readState,
  sameFile,
  stateFileId,
  writeState,
  type FileId,
  type ReadResult,
} from './store.js';

export class StateCache {
  /**
   * The state as this registry last saw it under the lock: lock generation, file identity and
   * the validated leases. Lock generations are consecutive, so when this registry now holds
   * generation G+1 and the file is the very one it saw at G, no other process can have
   * written in between and the file need not be read and validated again.
   */
  private seen: { generation: number; file: FileId | null; leases: Lease[] } | undefined;
  /** The record lines this registry last read or wrote, validated (memo.ts). */
  private readonly memo = new RecordMemo();

  private readonly dir: string;
  private readonly log: { warn?: (msg: string) => void; debug?: (msg: string) => void };

  constructor(dir: string, log: { warn?: (msg: string) => void; debug?: (msg: string) => void }) {
    this.dir = dir;
    this.log = log;
  }

  /** The state, under the lock: from the last operation when provably unchanged, else read. */
  read(lock: Lock): ReadResult {
    const file = stateFileId(this.dir);
    const seen = this.seen;
    this.seen = undefined;
    if (seen && lock.generation === seen.generation + 1 && sameFile(file, seen.file)) {
      return { leases: [...seen.leases], rejected: 0 };
    }
    const state = readState(this.dir, { quarantine: true, warn: this.log.warn, memo: this.memo });
    if (state.newer !== undefined) {
      throw new RuntimeError(
        `registry ${this.dir} was written by a newer portlease (format version ${state.newer}; this one writes version ${STATE_VERSION}); refusing to change it. Upgrade portlease, or use another --registry`,
      );
    }
    if (state.rejected === 0) this.remember(lock, file, state.leases);
    return state;
  }

  /**
   * The state without the lock (every write is atomic, so a read sees a whole state):
   * damage is only warned about, never quarantined or moved aside.
   */
  peek(): ReadResult {
    return readState(this.dir, { quarantine: false, warn: this.log.warn, memo: this.memo });
  }

  /**
   * Write the state under the lock. Returns false when the lock had moved on by the time the
   * write landed (a takeover needs proof of the holder's death, so this should never
   * happen; if it does, the caller checks under a fresh lock what is really there).
   */
  write(lock: Lock, leases: Lease[]): boolean {
    lock.assertHeld();
    this.seen = undefined;
    writeState(this.dir, leases, this.memo);
    if (!lock.held()) {
      this.log.debug?.(`lock generation ${lock.generation} was taken over while this wrote`);
      return false;
    }
    this.remember(lock, stateFileId(this.dir), leases);
    return true;
  }

  private remember(lock: Lock, file: FileId | null, leases: Lease[]): void {
    this.seen = file === null ? undefined : { generation: lock.generation, file, leases };
  }
}
