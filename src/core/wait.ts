/**
 * Waiting for a release: until the registry directory changes (fs.watch, where the platform
 * has it) or a poll interval passes, whichever comes first. The poll doubles from 50 ms to
 * 1 s, so a watch that misses an event (network file systems, some containers) costs at
 * most a second.
 */
import { watch, type FSWatcher } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export class DirWaiter {
  private readonly dir: string;
  private watcher: FSWatcher | undefined;
  private changed: (() => void) | undefined;
  private pollMs = 50;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Resolves on the next change in the directory, or after the poll interval (at most `maxMs`). */
  async wait(maxMs: number): Promise<void> {
    if (this.watcher === undefined) {
      try {
        this.watcher = watch(this.dir, { persistent: false }, () => this.changed?.());
      } catch {
        // no watch support here: polling alone
      }
    }
    const ac = new AbortController();
    const woke = new Promise<void>((resolve) => {
      this.changed = () => {
        ac.abort();
        resolve();
      };
    });
    await Promise.race([
      woke,
      sleep(Math.min(this.pollMs, maxMs), undefined, { signal: ac.signal }).catch(() => undefined),
    ]);
    this.changed = undefined;
    ac.abort();
    this.pollMs = Math.min(this.pollMs * 2, 1000);
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
