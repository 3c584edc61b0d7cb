// One pre-started process of the contention benchmark: loads the engine, says "ready",
// allocates 3 ports when told "go" (all processes are told at once), reports, and stays
// alive (it owns the lease) until told again, then exits.
//
//   node bench/alloc-child.mjs REGISTRY LO HI   (forked with an IPC channel)
import { owner, registry } from './engine.mjs';

const [dir = '', lo = '', hi = ''] = process.argv.slice(2);
const reg = new registry.Registry(dir);
const me = owner.self();
let told = 0;
process.on('message', () => {
  if (++told > 1) {
    process.disconnect();
    return;
  }
  reg
    .allocate({
      names: ['WEB_PORT', 'DB_PORT', 'CACHE_PORT'],
      range: { lo: Number(lo), hi: Number(hi) },
      owner: me,
      ttlMs: 3_600_000,
    })
    .then(
      (a) => process.send({ ports: Object.values(a.lease.ports) }),
      (err) => process.send({ error: String(err.message ?? err) }),
    );
});
process.send('ready');
