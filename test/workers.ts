/**
 * Stand-in runner workers (harness/runner.ts) for a test file: `const workers =
 * standInWorkers()` at the top of a file or a describe block, then `await workers.start(3)`
 * or `await workers.one()`; every worker started is stopped after each test.
 */
import { afterEach } from 'vitest';
import { StandInWorker } from '../harness/runner.js';

export interface Workers {
  start(n: number): Promise<StandInWorker[]>;
  one(): Promise<StandInWorker>;
}

export function standInWorkers(): Workers {
  const workers: StandInWorker[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop().catch(() => undefined)));
  });
  const start = async (n: number): Promise<StandInWorker[]> => {
    const ws = await Promise.all(Array.from({ length: n }, () => StandInWorker.start()));
    workers.push(...ws);
    return ws;
  };
  return {
    start,
    async one() {
      const [w] = await start(1);
      if (w === undefined) throw new Error('no stand-in worker started');
      return w;
    },
  };
}
