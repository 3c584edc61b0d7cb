// A state file flooded with 200,000 bogus record lines (about 600 KB): how long the one
// allocator that reads it holds the lock, how many warning lines it prints, how many
// quarantine files it leaves, and how long four allocators started together take.
//
//   node bench/flood.mjs [CLI...]     default: dist/cli/index.js; name an older build to compare
//
// Run it with Node 24 (npm scripts do: `npm exec -- node bench/flood.mjs`).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = new URL('..', import.meta.url).pathname;
const clis = process.argv.slice(2);
if (clis.length === 0) clis.push(join(root, 'dist/cli/index.js'));
const LINES = 200_000;
const RANGE = '10000-10099';

function run(cli, args) {
  return new Promise((resolve) => {
    const t = performance.now();
    const c = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += d));
    c.stdout.resume();
    c.once('close', (code) => resolve({ code, stderr, ms: performance.now() - t }));
  });
}

const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
try {
  for (const cli of clis) {
    const dir = join(mkdtempSync(join(tmpdir(), 'portlease-flood-')), 'reg');
    for (let i = 0; i < 3; i++) {
      await run(cli, [
        'allocate',
        'P',
        '--range',
        RANGE,
        '--owner-pid',
        String(owner.pid),
        '--registry',
        dir,
      ]);
    }
    const path = join(dir, 'leases.json');
    const flood = () => {
      const bogus = Array.from({ length: LINES }, () => '1').join(',\n');
      writeFileSync(path, readFileSync(path, 'utf8').replace('\n]}\n', `,\n${bogus}\n]}\n`));
    };
    flood();
    const size = readFileSync(path).length;
    const one = await run(cli, [
      'allocate',
      'Q',
      '--range',
      RANGE,
      '--ttl',
      '1m',
      '--registry',
      dir,
    ]);
    const warnings = one.stderr.split('\n').filter((l) => l.includes('warning')).length;
    const q = join(dir, 'quarantine');
    const files = existsSync(q) ? readdirSync(q).length : 0;
    flood();
    const t = performance.now();
    const four = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        run(cli, ['allocate', `R${i}`, '--range', RANGE, '--ttl', '1m', '--registry', dir]),
      ),
    );
    const all = performance.now() - t;
    console.log(
      `${cli}\n  ${LINES} bogus lines (${Math.round(size / 1024)} KB): one allocate ${Math.round(one.ms)} ms (exit ${one.code}), ${warnings} warning lines, ${files} quarantine files; four at once ${Math.round(all)} ms, exits ${four.map((r) => r.code).join(',')}`,
    );
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
} finally {
  owner.kill();
}
