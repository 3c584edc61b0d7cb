// The shape of a benchmark run's results (bench/results/results.json), shared by the
// sections that measure, the goals, and the renderers.

export interface PortRange {
  lo: number;
  hi: number;
}

export interface Meta {
  date: string;
  mode: 'quick' | 'full';
  command: string;
  node: string;
  platform: string;
  cpus: string;
  filesystem: string;
  ephemeral: PortRange;
  allocRange: PortRange;
  collisionRange: PortRange;
  seconds?: number;
}

export interface LatencyRow {
  leases: number;
  bytes: number;
  samples: number;
  floorP50: number;
  floorP99: number;
  allocateP50: number;
  releaseP50: number;
  pairP50: number;
  pairP99: number;
  ratioP50: number;
  readP50: number;
  parseP50: number;
  readStateP50: number;
  serializeP50: number;
}

export type MainResult = { skipped: string } | { p50: number; p99: number; ratio: number };

export interface CommandResult {
  samples: number;
  nodeP50: number;
  cliP50: number;
  cliP99: number;
  cliRatio: number;
  main: MainResult;
}

export interface ContentionRow {
  processes: number;
  reps: number;
  nodeWallMs: number;
  cliWallMs: number;
  allocationsPerSec: number;
  ratio: number;
  preStartedWallMs: number;
  preStartedPerSec: number;
  failures: number;
  duplicates: number;
}

export interface CollisionRow {
  method: string;
  label: string;
  ranged: boolean;
  legs: number;
  rounds: number;
  roundsWithCollision: number;
  roundsWithDuplicate: number;
  legsFailedToBind: number;
  legsErrored: number;
  ports: number;
  portsOutsideRange: number;
  portsInEphemeral: number;
  errors: string[];
  collisionRate?: number;
}

export interface PytestRow {
  /** bind0: the test binds port 0, no fixture; server, cli: the `portlease` fixture's paths. */
  kind: 'bind0' | 'server' | 'cli';
  p50: number;
  p99: number;
  /** Includes the lease server's start in the first test's setup. */
  mean: number;
  sessionWallMs: number;
}

export type PytestResult =
  | { skipped: string }
  | {
      tests: number;
      sessions: number;
      rows: PytestRow[];
      serverVsBind0: number;
      cliVsServer: number;
      cliVsBind0: number;
    };

export interface Goal {
  id: string;
  what: string;
  goal: string;
  measured: string;
  /** null: not measured (skipped). */
  met: boolean | null;
}

export interface Results {
  meta: Meta;
  latency?: LatencyRow[];
  probe3P50?: number;
  command?: CommandResult;
  contention?: ContentionRow[];
  collision?: CollisionRow[];
  pytest?: PytestResult;
  portserver?: PortserverResult;
  serve?: ServeResult;
  goals: Goal[];
  warnings: string[];
}

/** portpicker's client against `portlease portserver` and the reference portserver. */
export type PortserverResult =
  | { skipped: string }
  | {
      requests: number;
      rounds: number;
      /** ms for `requests` requests, median over the rounds. */
      referenceP50: number;
      portleaseP50: number;
      /** portlease / reference. */
      ratio: number;
    };

/** One lease + release of one port through `portlease serve`, against the in-process core. */
export interface ServeRow {
  /** Where the registry was (the file system decides what a write costs). */
  where: string;
  requests: number;
  serveP50: number;
  serveP99: number;
  /** The same lease + release on an in-process core Registry: no socket, no engine query. */
  floorP50: number;
  ratio: number;
}

export interface ServeResult {
  rows: ServeRow[];
}
