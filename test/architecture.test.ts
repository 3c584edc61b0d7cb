/**
 * The layering rule (docs/architecture.md) bites: a core module that imports a shell, the
 * engine adapter or the job layer that imports @actions/core, the job layer that
 * imports a shell, or one GitHub shell that imports the other, fails eslint; only the GitHub
 * shells import @actions/*. The probe files are written next to the real modules (the rule
 * is per folder) and removed afterwards.
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
  const bad = lint('core', "export { run } from '../action/main.js';\n");
  expect(bad.code).toBe(1);
  expect(bad.out).toMatch(/the core \(src\/core\) is pure/);
  const ok = lint('core', "export { UsageError } from './errors.js';\n");
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

interface Verdict {
  /** Errors and warnings eslint reports for the probe. */
  problems: number;
  /** `rule: message` lines. */
  messages: string;
}

/** Lint several probes in one eslint run (each run builds the TypeScript program: slow). */
function lintEach(cases: [folder: string, source: string][]): Verdict[] {
  const files = cases.map(([folder, source], i) => {
    const file = join(ROOT, 'src', folder, `layer-probe-${process.pid}-${i}.ts`);
    probes.push(file);
    writeFileSync(file, source);
    return file;
  });
  const r = spawnSync(NODE, [ESLINT, '--format', 'json', '--no-warn-ignored', ...files], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const results = JSON.parse(r.stdout) as {
    filePath: string;
    errorCount: number;
    warningCount: number;
    messages: { ruleId: string | null; message: string }[];
  }[];
  return files.map((file) => {
    const res = results.find((x) => x.filePath === file);
    if (res === undefined) throw new Error(`eslint reported nothing for ${file}: ${r.stderr}`);
    return {
      problems: res.errorCount + res.warningCount,
      messages: res.messages.map((m) => `${m.ruleId ?? '-'}: ${m.message}`).join('\n'),
    };
  });
}

const SHELLS = ['../action/main.js', '../container/main.js', '../cli/main.js', '../lib/index.js'];

it('fails @actions/* and any shell in the job layer, and allows the engines and the core', () => {
  const [actions, ok, ...shells] = lintEach([
    ['job', "export { getInput } from '@actions/core';\n"],
    [
      'job',
      "export { publishedPorts } from '../engines/host.js';\nexport { UsageError } from '../core/index.js';\n",
    ],
    ...SHELLS.map((shell): [string, string] => ['job', `export { run } from '${shell}';\n`]),
  ]);
  expect(actions?.problems).toBe(1);
  expect(actions?.messages).toMatch(
    /^no-restricted-imports: .*only the GitHub shells \(src\/action, src\/container\)/,
  );
  expect(ok).toEqual({ problems: 0, messages: '' });
  expect(shells).toHaveLength(SHELLS.length);
  for (const [i, bad] of shells.entries()) {
    expect(bad.problems, SHELLS[i]).toBe(1);
    expect(bad.messages, SHELLS[i]).toMatch(
      /^no-restricted-imports: .*the job layer \(src\/job\) imports only the engines/,
    );
  }
});

it('allows @actions/* in the GitHub shells only, and keeps them apart', () => {
  const [action, container, entry, cross, back] = lintEach([
    ['action', "export { getInput } from '@actions/core';\n"],
    ['container', "export { getInput } from '@actions/core';\n"],
    ['entrypoints', "export { getInput } from '@actions/core';\n"],
    ['action', "export { saveState } from '../container/state.js';\n"],
    ['container', "export { run } from '../action/main.js';\n"],
  ]);
  expect(action).toEqual({ problems: 0, messages: '' });
  expect(container).toEqual({ problems: 0, messages: '' });
  expect(entry?.problems).toBe(1);
  expect(entry?.messages).toMatch(/^no-restricted-imports: .*only the GitHub shells/);
  expect(cross?.problems).toBe(1);
  expect(cross?.messages).toMatch(/the action \(src\/action\) is a shell of its own/);
  expect(back?.problems).toBe(1);
  expect(back?.messages).toMatch(/the container step \(src\/container\) is a shell of its own/);
});
