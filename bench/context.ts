// What every section of one benchmark run shares: its scratch directory, snapshots of the
// built bundles (a rebuild of dist/ during the run cannot change what is measured), the
// environment for child processes, warnings, progress on stderr, and facts of the machine.
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statfsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAction, LEASE_ACTION, type Action } from '../harness/runner.js';
import { ROOT } from '../harness/paths.js';
import { Registry } from '../src/core/index.js';
import type { Config } from './options.js';
import type { PortRange } from './results.js';

export const log = (msg: string): void => {
  process.stderr.write(msg + '\n');
};

export class Context {
  readonly config: Config;
  readonly work: string;
  /** The snapshot of dist/cli/index.js, or null when it is not built. */
  readonly cli: string | null;
  /** The lease action in the snapshot (action.yml beside dist/main, dist/post), or null. */
  readonly action: Action | null;
  readonly warnings: string[] = [];
  private dirs = 0;

  constructor(config: Config) {
    this.config = config;
    this.work = mkdtempSync(join(tmpdir(), 'portlease-bench-'));
    const copy = (rel: string): boolean => {
      if (!existsSync(join(ROOT, rel))) return false;
      cpSync(join(ROOT, rel), join(this.work, rel), { recursive: true });
      return true;
    };
    this.cli = copy('dist/cli') ? join(this.work, 'dist/cli/index.js') : null;
    this.action =
      copy('dist/main') && copy('dist/post') && copy(LEASE_ACTION)
        ? loadAction(join(this.work, LEASE_ACTION))
        : null;
  }

  /** A new empty directory in the scratch area, named for what uses it. */
  freshDir(name: string): string {
    const d = join(this.work, `${String(++this.dirs).padStart(2, '0')}-${name}`);
    mkdirSync(d);
    return d;
  }

  /** Registry warnings, kept (the first 20) for the report. */
  readonly warn = (m: string): void => {
    if (this.warnings.length < 20) this.warnings.push(m);
  };

  /** Release every lease in a registry (between repetitions). */
  async releaseAll(dir: string): Promise<void> {
    const reg = new Registry(dir, { warn: this.warn });
    for (const { lease } of await reg.list()) await reg.release({ lease: lease.id });
  }

  dispose(): void {
    rmSync(this.work, { recursive: true, force: true });
  }
}

/** The environment for measured child processes: this one's, without portlease settings. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  delete env.PORTLEASE_REGISTRY;
  delete env.PORTLEASE_DEBUG;
  delete env.NODE_OPTIONS;
  return env;
}

/** The file system a path lives on, by statfs magic number. */
export function fsType(path: string): string {
  const names: Record<number, string> = {
    0xef53: 'ext4',
    0x01021994: 'tmpfs',
    0x58465342: 'xfs',
    0x9123683e: 'btrfs',
    0x794c7630: 'overlayfs',
    0x6969: 'nfs',
  };
  try {
    const t = statfsSync(path).type;
    return names[t] ?? `0x${t.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

/** The kernel's ephemeral port range. */
export function ephemeralRange(): PortRange {
  try {
    const [lo = NaN, hi = NaN] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    return { lo, hi };
  } catch {
    return { lo: 49152, hi: 65535 };
  }
}

export const inRange = (p: number, r: PortRange): boolean => p >= r.lo && p <= r.hi;
