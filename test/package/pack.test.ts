/**
 * The npm package as users get it: `npm pack`, then a global install into a temp prefix,
 * `npx` on the tarball, a temp ESM project that installs it (offline: the bundles are
 * self-contained, there is nothing to fetch), and `tsc` over code using `lease()` and
 * `listen()` with `await using`: without @types/node (the published types need none), and
 * with it (servers passed in come back as their own types).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { collect, NODE, ROOT, tempDir, testRange, type Run } from '../helpers.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
};
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
let tarball: string;
let files: string[];
let npmCache: string;

/** npm (from PATH, as a user runs it), offline, with a private cache. */
function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return collect(
    spawn('npm', [...args, '--offline', '--no-audit', '--no-fund', '--cache', npmCache], {
      cwd,
      env: { ...process.env, npm_config_update_notifier: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

function node(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return collect(
    spawn(NODE, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

beforeAll(async () => {
  const out = tempDir();
  npmCache = join(tempDir(), 'cache');
  const r = await npm(['pack', '--json', '--pack-destination', out], ROOT);
  expect(r.code, r.stderr).toBe(0);
  const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(out, info?.filename ?? '');
  files = (info?.files ?? []).map((f) => f.path).sort();
});

describe('the npm package', () => {
  it('ships the CLI, the library and its types, the pytest plugin, README and LICENSE; not test/, bench/ or src/', () => {
    expect(tarball).toMatch(new RegExp(`${pkg.name}-${pkg.version}\\.tgz$`));
    for (const f of [
      'package.json',
      'README.md',
      'dist/cli/index.js',
      'dist/cli/package.json',
      'dist/lib/index.js',
      'dist/lib/package.json',
      'dist/types/lib/index.d.ts',
      'python/pyproject.toml',
      'python/README.md',
      'python/pytest_portlease/__init__.py',
    ]) {
      expect(files).toContain(f);
    }
    if (existsSync(join(ROOT, 'LICENSE'))) expect(files).toContain('LICENSE');
    for (const f of files) {
      expect(f).toMatch(
        /^(package\.json|README\.md|LICENSE|dist\/(cli|lib|types)\/.*|python\/.*)$/,
      );
      expect(f).not.toMatch(/__pycache__|\.egg-info|\/build\//);
    }
    // Self-contained bundles: installing pulls nothing from a registry.
    expect(pkg.dependencies ?? {}).toEqual({});
    // The published types name nothing of @actions/* or @types/node.
    for (const f of files.filter((x) => x.endsWith('.d.ts'))) {
      expect(readFileSync(join(ROOT, f), 'utf8')).not.toMatch(/@actions\/|NodeJS\.|from 'node:/);
    }
  });

  it('npm install -g --prefix TMP gives a working `portlease`; `npx ./tarball --version` works', async () => {
    const prefix = tempDir();
    const inst = await npm(['install', '-g', '--prefix', prefix, tarball], tempDir());
    expect(inst.code, inst.stderr).toBe(0);
    const bin = join(prefix, 'bin/portlease');
    const version = await collect(spawn(bin, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(version.stdout.trim()).toBe(pkg.version);
    const range = await testRange(4);
    const registry = join(tempDir(), 'reg');
    const alloc = await collect(
      spawn(
        bin,
        [
          'allocate',
          'WEB_PORT',
          'DB_PORT',
          '--range',
          `${range.lo}-${range.hi}`,
          '--registry',
          registry,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      ),
    );
    expect(alloc.code, alloc.stderr).toBe(0);
    expect(alloc.stdout).toMatch(/^WEB_PORT=\d+\nDB_PORT=\d+\n$/);

    const npx = await collect(
      // As the README says it: a relative ./ path (a bare absolute path is taken for a command).
      spawn(
        'npx',
        ['--yes', '--offline', '--cache', npmCache, `./${basename(tarball)}`, '--version'],
        {
          cwd: dirname(tarball),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      ),
    );
    expect(npx.code, npx.stderr).toBe(0);
    expect(npx.stdout.trim()).toBe(pkg.version);
  });

  it('npm publish --dry-run is clean (the one warning: not logged in)', async () => {
    const r = await npm(['publish', '--dry-run', tarball], tempDir());
    expect(r.code, r.stderr).toBe(0);
    const warnings = (r.stdout + r.stderr)
      .split('\n')
      .filter((l) => /^npm (warn|WARN|ERR)/.test(l))
      .filter((l) => !/requires you to be logged in to .* \(dry-run\)$/.test(l));
    expect(warnings).toEqual([]);
    expect(r.stdout).toContain(`+ ${pkg.name}@${pkg.version}`);
  });

  it('a temp ESM project installs the tarball, imports portlease, and tsc checks `await using lease()` and `listen()`', async () => {
    const proj = tempDir();
    writeFileSync(
      join(proj, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    const inst = await npm(['install', tarball], proj);
    expect(inst.code, inst.stderr).toBe(0);
    expect(existsSync(join(proj, 'node_modules/.bin/portlease'))).toBe(true);
    const range = await testRange(6);
    const registry = join(tempDir(), 'reg');
    const env = { PORTLEASE_REGISTRY: registry };

    // Plain ESM, native `await using` (Node 24).
    writeFileSync(
      join(proj, 'plain.mjs'),
      `import getPort, { lease, getPort as named, portNumbers, releasePort, clearLockedPorts, UsageError, RuntimeError } from 'portlease';
import meta from 'portlease/package.json' with { type: 'json' };
if (getPort !== named || typeof RuntimeError !== 'function') throw new Error('exports');
let id;
{
  await using l = await lease({ names: ['WEB_PORT', 'DB_PORT'], range: '${range.lo}-${range.hi}' });
  id = l.id;
  console.log(JSON.stringify(l.ports));
}
// Released at the end of the block: the whole range can be leased again.
const all = await lease({ count: 6, range: [${range.lo}, ${range.hi}], contiguous: true });
await all.release();
const port = await getPort({ port: portNumbers(${range.lo}, ${range.hi}) });
await releasePort(port);
await clearLockedPorts();
try { await lease({ names: ['A'], range: 'nope' }); } catch (e) { console.log(e instanceof UsageError, e.message); }
console.log(meta.version, id.startsWith('pl_'));
`,
    );
    const plain = await node(['plain.mjs'], proj, env);
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    const [ports, err, last] = plain.stdout.trim().split('\n');
    expect(Object.keys(JSON.parse(ports ?? '{}') as object)).toEqual(['WEB_PORT', 'DB_PORT']);
    expect(err).toBe(
      'true range: "nope" is not a port range; use LO-HI with 1 <= LO <= HI <= 65535, like 20000-29999',
    );
    expect(last).toBe(`${pkg.version} true`);

    // TypeScript: the published declarations, without @types/node, strict, ES2022 + disposable.
    writeFileSync(
      join(proj, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'esnext.disposable'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          skipLibCheck: false,
          types: [],
          outDir: 'out',
        },
        include: ['check.ts'],
      }),
    );
    writeFileSync(
      join(proj, 'check.ts'),
      `import getPort, { lease, listen, portNumbers, ListenError, UsageError, type Lease, type LeaseOptions, type Listening, type ListeningServer } from 'portlease';
const options: LeaseOptions = { names: ['WEB_PORT', 'DB_PORT'], range: [${range.lo}, ${range.hi}], ttl: '1h', owner: 'self' };
export async function main(): Promise<string> {
  let out = '';
  {
    await using l: Lease = await lease(options);
    const web: number | undefined = l.ports.WEB_PORT;
    const expires: Date | null = l.expires;
    out = \`\${l.id} \${web} \${expires instanceof Date}\`;
  }
  const p: number = await getPort({ port: portNumbers(${range.lo}, ${range.hi}), exclude: [${range.lo}] });
  const e: UsageError | undefined = undefined;
  return \`\${out} \${p} \${String(e)}\`;
}
export async function serve(): Promise<string> {
  await using l: Listening = await listen({ names: ['RAW'], range: [${range.lo}, ${range.hi}], host: '127.0.0.1', backlog: 16 });
  const raw: ListeningServer | undefined = l.servers.RAW;
  raw?.on('connection', (socket) => { socket.end(); });
  const a = raw?.address();
  const failed: ListenError | undefined = undefined;
  return \`\${typeof a === 'object' && a !== null && a.port === l.ports.RAW} \${String(failed)}\`;
}
`,
    );
    const tsc = await node([TSC, '-p', 'tsconfig.json'], proj);
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
    // The compiled (down-levelled) disposal releases, too.
    writeFileSync(
      join(proj, 'run.mjs'),
      `import { main, serve } from './out/check.js';
console.log(await main());
console.log(await serve());`,
    );
    const ran = await node(['run.mjs'], proj, env);
    expect(ran.stderr).toBe('');
    expect(ran.stdout).toMatch(/^pl_\w+ \d+ true \d+ undefined\ntrue undefined\n$/);

    // ...and the types have teeth: wrong options do not compile.
    writeFileSync(
      join(proj, 'check.ts'),
      `import { lease, listen } from 'portlease';
await lease({ names: 'WEB_PORT', range: 5, strategy: 'best' });
await listen({ names: ['WEB'], host: 5, servers: { WEB: {} } });
`,
    );
    const bad = await node([TSC, '-p', 'tsconfig.json', '--noEmit'], proj);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(/check\.ts.*error TS2322/);
    expect(bad.stdout.match(/error TS/g)?.length).toBe(5);

    // With @types/node (a project serving HTTP has it): your own servers come back as your
    // types, and a new one is a net.Server away.
    writeFileSync(
      join(proj, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023', 'esnext.disposable'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          skipLibCheck: false,
          typeRoots: [join(ROOT, 'node_modules/@types')],
          types: ['node'],
          noEmit: true,
        },
        include: ['check.ts'],
      }),
    );
    writeFileSync(
      join(proj, 'check.ts'),
      `import { createServer, type Server } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { listen } from 'portlease';
export async function web(): Promise<string> {
  await using l = await listen({ names: ['WEB', 'RAW'], servers: { WEB: createServer((_q, res) => res.end('ok')) } });
  const s: Server = l.servers.WEB;
  const raw = l.servers.RAW as NetServer | undefined;
  raw?.on('connection', (socket: Socket) => socket.end());
  return \`\${s.listening} \${raw?.listening}\`;
}
`,
    );
    const typed = await node([TSC, '-p', 'tsconfig.json'], proj);
    expect(typed.code, typed.stdout + typed.stderr).toBe(0);
    writeFileSync(
      join(proj, 'check.ts'),
      `import { createServer } from 'node:http';
import { listen } from 'portlease';
const l = await listen({ names: ['WEB'], servers: { WEB: createServer(), API: 'server' } });
const n: number = l.servers.WEB;
`,
    );
    const wrong = await node([TSC, '-p', 'tsconfig.json'], proj);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout.match(/error TS/g)?.length, wrong.stdout).toBe(2);
  });
});
