// Build one ncc bundle per entry point: src/entrypoints/NAME.ts -> dist/NAME/index.js.
//
//   npm run build               every entry point
//   npm run build -- cli main   only these
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { NODE, ROOT } from '../harness/paths.js';

const NCC = join(ROOT, 'node_modules/@vercel/ncc/dist/ncc/cli.js');
const only = process.argv.slice(2);
const names = readdirSync(join(ROOT, 'src/entrypoints'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => basename(f, '.ts'));
const unknown = only.filter((n) => !names.includes(n));

if (unknown.length > 0) {
  console.error(`build: no entry point ${unknown.join(', ')} in src/entrypoints`);
  process.exitCode = 2;
} else {
  for (const name of names.filter((n) => only.length === 0 || only.includes(n))) {
    const out = join(ROOT, 'dist', name);
    rmSync(out, { recursive: true, force: true });
    const entry = join(ROOT, 'src/entrypoints', `${name}.ts`);
    const r = spawnSync(NODE, [NCC, 'build', entry, '-o', out, '--license', 'licenses.txt', '-q'], {
      stdio: 'inherit',
    });
    if (r.status !== 0) {
      console.error(`build: ncc failed for src/entrypoints/${name}.ts`);
      process.exitCode = 1;
      break;
    }
    if (name === 'cli') chmodSync(join(out, 'index.js'), 0o755);
    console.log(`built dist/${name}/index.js`);
  }
}
