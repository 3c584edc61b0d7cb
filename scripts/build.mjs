// Build one ncc bundle per entry point: src/entrypoints/NAME.ts -> dist/NAME/index.js, and
// the library's declarations: dist/types (see buildTypes).
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

/**
 * The library's declarations (tsconfig.lib.json), emitted to a temp directory; only the files
 * dist/types/lib/index.d.ts reaches through its imports are kept, so the published types are
 * the public ones (no engine internals, nothing from @actions/* or @types/node).
 */
function buildTypes() {
  const tmp = mkdtempSync(join(tmpdir(), 'portlease-types-'));
  try {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(
      process.execPath,
      [tsc, '-p', join(root, 'tsconfig.lib.json'), '--outDir', tmp],
      { stdio: 'inherit' },
    );
    if (r.status !== 0) throw new Error('tsc failed for tsconfig.lib.json');
    const out = join(root, 'dist/types');
    rmSync(out, { recursive: true, force: true });
    const todo = ['lib/index.d.ts'];
    const done = new Set();
    while (todo.length > 0) {
      const rel = todo.pop();
      if (done.has(rel)) continue;
      done.add(rel);
      const text = readFileSync(join(tmp, rel), 'utf8');
      if (/@actions\/|\bNodeJS\./.test(text)) {
        throw new Error(
          `dist/types/${rel} refers to @actions/* or @types/node; keep it out of the public types`,
        );
      }
      for (const m of text.matchAll(/(?:from |import\()'(\.{1,2}\/[^']+)\.js'/g)) {
        todo.push(relative(tmp, join(tmp, dirname(rel), `${m[1]}.d.ts`)));
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
    console.error(`build: ${err.message}`);
    process.exitCode = 1;
  }
}
