// Where a run's results go: results.md, results.json and chart.svg in a directory, and
// docs/bench.md (formatted as prettier would, since `prettier --check .` covers docs/).
// Nothing here writes README.md: it links to docs/bench.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../harness/paths.js';
import { renderSvg } from './chart.js';
import { renderDoc, renderMarkdown } from './report.js';
import type { Results } from './results.js';

export const RESULTS_DIR = join(ROOT, 'bench/results');
export const DOC = join(ROOT, 'docs/bench.md');

/** Write results.md, results.json and chart.svg to `dir`; the files written. */
export function writeResults(dir: string, results: Results): string[] {
  mkdirSync(dir, { recursive: true });
  const files = {
    'results.md': renderMarkdown(results),
    'results.json': JSON.stringify(results, null, 2) + '\n',
    'chart.svg': renderSvg(results),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return Object.keys(files).map((name) => join(dir, name));
}

/** Rewrite docs/bench.md from the results. */
export async function writeDoc(results: Results): Promise<string> {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(DOC)) ?? {};
  writeFileSync(DOC, await prettier.format(renderDoc(results), { ...options, parser: 'markdown' }));
  return DOC;
}
