/**
 * The lock's "someone is ahead of us" back-off. A contender lists the lock directory, finds
 * it free and goes to link the next generation; before its link() lands (strace holds that
 * syscall for 4 s), this process takes the lock twice, so the generation the contender
 * links has been cleaned up and recreating it succeeds, below the highest generation, which
 * this process holds. The contender must see that, give its generation up and wait: it may
 * only hold the lock after this process released it, at a higher generation.
 * Only acquireLock, its Lock and the on-disk gNNN naming are relied on.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect } from 'vitest';
import { acquireLock } from '../../src/core/lock.js';
import { LOADER, NODE, ROOT } from '../../harness/paths.js';
import { tempDir } from '../helpers.js';
import { itWith, strace } from '../prerequisites.js';

const DELAY_US = 4_000_000;
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

/** The children of a process (from /proc). */
function childrenOf(pid: number): number[] {
  const tasks = readdirSync(`/proc/${String(pid)}/task`);
  return tasks.flatMap((t) =>
    readFileSync(`/proc/${String(pid)}/task/${t}/children`, 'utf8')
      .split(' ')
      .filter((x) => x !== '')
      .map(Number),
  );
}

/** Resolve once `test` holds for the text seen so far (checked on every chunk). */
function until(text: () => string, on: NodeJS.ReadableStream, test: (t: string) => boolean) {
  return new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (test(text())) {
        on.off('data', check);
        resolve();
      }
    };
    on.on('data', check);
    on.once('end', () => {
      reject(new Error(`ended before the expected output:\n${text()}`));
    });
    check();
  });
}

describe('the registry lock', () => {
  itWith(
    strace(),
    'a contender whose link() recreates a generation below the highest backs off and waits',
    async () => {
      const dir = join(tempDir(), 'reg');
      const contender = spawn(
        'strace',
        [
          '-f',
          '-qq',
          '-e',
          'trace=link,linkat',
          '-e',
          `inject=link,linkat:delay_enter=${String(DELAY_US)}:when=1`,
          NODE,
          '--import',
          LOADER,
          join(ROOT, 'test/fixtures/hold-lock.ts'),
          dir,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      if (contender.pid !== undefined) pids.push(contender.pid);
      let out = '';
      let trace = '';
      contender.stdout.on('data', (d: Buffer) => (out += d.toString()));
      contender.stderr.on('data', (d: Buffer) => (trace += d.toString()));

      // The contender has listed the lock directory and entered link(): held there.
      await until(
        () => trace,
        contender.stderr,
        (t) => /\blink(at)?\(/.test(t),
      );
      const node = contender.pid === undefined ? [] : childrenOf(contender.pid);
      pids.unshift(...node);

      // Meanwhile this process takes the lock, releases it, and takes it again.
      const first = await acquireLock(dir);
      first.release();
      const held = await acquireLock(dir);
      expect(held.generation).toBeGreaterThan(first.generation);
      if (/\) = /.test(trace) || out !== '') {
        held.release();
        throw new Error(`the race window closed before this process held the lock:\n${trace}`);
      }

      // The contender's link() lands: it recreated a lower generation (the cleanup of ours
      // removed it). Wait until it has returned, then a moment for the contender to act on it.
      await until(
        () => trace,
        contender.stderr,
        (t) => /\) = /.test(t),
      );
      await new Promise((r) => setTimeout(r, 1000));
      const heldWhileOurs = out;
      held.release();

      // Now, and only now, the contender gets the lock, at a generation above ours.
      await until(
        () => out,
        contender.stdout,
        (t) => /held \d+/.test(t),
      );
      expect(heldWhileOurs).toBe('');
      const gen = Number(/held (\d+)/.exec(out)?.[1]);
      expect(gen).toBeGreaterThan(held.generation);
    },
  );
});
