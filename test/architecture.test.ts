/**
 * The layering rule (docs/architecture.md) bites: a core module that imports a shell, or
 * the engine adapter that imports @actions/core, fails eslint. The probe files are written
 * next to the real modules (the rule is per folder) and removed afterwards.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { NODE, ROOT } from './helpers.js';

const ESLINT = join(ROOT, 'node_modules/eslint/bin/eslint.js');
const probes: string[] = [];
afterEach(() => {
  for (const p of probes.splice(0)) rmSync(p, { force: true });
});

function lint(folder: string, source: string): { code: number | null; out: string } {
  const file = join(ROOT, 'src', folder, `layer-probe-${process.pid}.ts`);
  probes.push(file);
  writeFileSync(file, source);
  const r = spawnSync(NODE, [ESLINT, '--max-warnings', '0', '--no-warn-ignored', file], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

it('fails a core -> action import, and allows an import of the core itself', () => {
  const bad = lint('registry', "export { run } from '../action/main.js';\n");
  expect(bad.code).toBe(1);
  expect(bad.out).toMatch(/the core \(src\/registry\) is pure/);
  const ok = lint('registry', "export { UsageError } from './errors.js';\n");
  expect(ok.out).toBe('');
  expect(ok.code).toBe(0);
});

it('fails @actions/* in the engine adapter and the CLI', () => {
  for (const folder of ['engines', 'cli']) {
    const bad = lint(folder, "export { info } from '@actions/core';\n");
    expect(bad.code, folder).toBe(1);
    expect(bad.out).toMatch(/only the GitHub shells/);
  }
});
