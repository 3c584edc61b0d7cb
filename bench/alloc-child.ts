// One pre-started process of the contention benchmark: loads the registry, says "ready",
// allocates 3 ports when told (all processes are told at once), reports, and stays alive
// (it owns the lease) until told again, then exits.
//
//   fork('bench/alloc-child.ts', [REGISTRY, LO, HI], { execArgv: ['--import', LOADER] })
import { Registry } from '../src/core/index.js';
import { self } from '../src/core/owner.js';
import { NAMES } from './options.js';

/** What this process tells its parent. */
export type AllocChildMessage = 'ready' | { ports: number[] } | { error: string };

const send = (msg: AllocChildMessage): void => {
  if (process.send === undefined) throw new Error('alloc-child needs an IPC channel (fork)');
  process.send(msg);
};

const [dir = '', lo = '', hi = ''] = process.argv.slice(2);
const reg = new Registry(dir);
const me = self();
let told = 0;
process.on('message', () => {
  if (++told > 1) {
    process.disconnect();
    return;
  }
  reg
    .allocate({
      names: NAMES,
      range: { lo: Number(lo), hi: Number(hi) },
      owner: me,
      ttlMs: 3_600_000,
    })
    .then(
      (a) => {
        send({ ports: Object.values(a.lease.ports) });
      },
      (err: unknown) => {
        send({ error: err instanceof Error ? err.message : String(err) });
      },
    );
});
send('ready');
