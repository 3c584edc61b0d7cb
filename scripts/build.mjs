// Build one ncc bundle per entry point: src/entrypoints/NAME.ts -> dist/NAME/index.js.
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const entries = readdirSync(join(root, 'src/entrypoints')).filter((f) => f.endsWith('.ts'));
const only = process.argv.slice(2);
for (const file of entries) {
  const name = basename(file, '.ts');
  if (only.length > 0 && !only.includes(name)) continue;
  const out = join(root, 'dist', name);
  rmSync(out, { recursive: true, force: true });
  const ncc = join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js');
  const r = spawnSync(
    process.execPath,
    [
      ncc,
      'build',
      join(root, 'src/entrypoints', file),
      '-o',
      out,
      '--license',
      'licenses.txt',
      '-q',
    ],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) {
    console.error(`build: ncc failed for ${file}`);
    process.exitCode = 1;
    break;
  }
  if (name === 'cli') chmodSync(join(out, 'index.js'), 0o755);
  console.log(`built dist/${name}/index.js`);
}
