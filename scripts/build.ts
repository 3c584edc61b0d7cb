// Build one ncc bundle per entry point: src/entrypoints/NAME.ts -> dist/NAME/index.js (with
// its source map, so NODE_OPTIONS=--enable-source-maps shows TypeScript lines in a stack),
// and the library's declarations: dist/types (see buildTypes).
//
//   npm run build               every entry point
//   npm run build -- cli main   only these
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
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
    const r = spawnSync(
      NODE,
      [
        NCC,
        'build',
        entry,
        '-o',
        out,
        '--source-map',
        '--no-source-map-register',
        '--license',
        'licenses.txt',
        '-q',
      ],
      {
        stdio: 'inherit',
      },
    );
    if (r.status !== 0) {
      console.error(`build: ncc failed for src/entrypoints/${name}.ts`);
      process.exitCode = 1;
      break;
    }
    if (name === 'cli') chmodSync(join(out, 'index.js'), 0o755);
    console.log(`built dist/${name}/index.js`);
  }
}

/**
 * The library's declarations (tsconfig.lib.json), emitted to a temp directory; only the files
 * dist/types/lib/index.d.ts reaches through its imports are kept, so the published types are
 * the public ones (no engine internals, nothing from @actions/* or @types/node).
 */
function buildTypes(): void {
  const tmp = mkdtempSync(join(tmpdir(), 'portlease-types-'));
  try {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(NODE, [tsc, '-p', join(ROOT, 'tsconfig.lib.json'), '--outDir', tmp], {
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('tsc failed for tsconfig.lib.json');
    const out = join(ROOT, 'dist/types');
    rmSync(out, { recursive: true, force: true });
    const todo = ['lib/index.d.ts'];
    const done = new Set<string>();
    for (let rel = todo.pop(); rel !== undefined; rel = todo.pop()) {
      if (done.has(rel)) continue;
      done.add(rel);
      const text = readFileSync(join(tmp, rel), 'utf8');
      if (/@actions\/|\bNodeJS\./.test(text)) {
        throw new Error(
          `dist/types/${rel} refers to @actions/* or @types/node; keep it out of the public types`,
        );
      }
      for (const m of text.matchAll(/(?:from |import\()'(\.{1,2}\/[^']+)\.js'/g)) {
        todo.push(relative(tmp, join(tmp, dirname(rel), `${m[1] ?? ''}.d.ts`)));
      }
      mkdirSync(join(out, dirname(rel)), { recursive: true });
      copyFileSync(join(tmp, rel), join(out, rel));
    }
    console.log(`built dist/types (${[...done].sort().join(', ')})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.exitCode === undefined && (only.length === 0 || only.includes('lib'))) {
  try {
    buildTypes();
  } catch (err) {
    console.error(`build: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
