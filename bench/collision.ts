// 4. The peer comparison: collisions under the real pattern. N legs (processes) each get 3
// ports with one allocator, wait until every leg has its ports (servers start later than
// ports are picked), then bind them all; a round collides when two legs got the same port,
// a leg cannot bind what it got, or a leg got nothing.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LOADER, ROOT } from '../harness/paths.js';
import { baseEnv, inRange, log, type Context } from './context.js';
import type { LegMessage, RoundMessage } from './leg.js';
import { COLLISION_RANGE } from './options.js';
import type { CollisionRow, PortRange } from './results.js';
import { round } from './stats.js';

const LEG = join(ROOT, 'bench/leg.ts');

export const METHODS = [
  { id: 'portlease', label: 'portlease (CLI)', ranged: true },
  { id: 'get-port-range', label: 'get-port, portNumbers(range)', ranged: true },
  { id: 'get-port', label: 'get-port, no range', ranged: false },
  { id: 'portfinder', label: 'portfinder', ranged: true },
  { id: 'detect-port', label: 'detect-port', ranged: true },
  { id: 'hash-offset', label: 'run-id hash offset', ranged: true },
  { id: 'bind0', label: 'bind(0), held then closed', ranged: false },
];

interface LegOutcome {
  ports: number[];
  error: string | null;
  results: { port: number; code: string | null }[];
}

function collisionRound(
  cli: string,
  method: string,
  n: number,
  registry: string,
): Promise<LegOutcome[]> {
  const runId = randomBytes(6).toString('hex');
  return new Promise((resolve, reject) => {
    const legs: (LegOutcome & {
      child: ReturnType<typeof fork>;
      stage: 'ports' | 'bind' | 'done';
      stderr: string;
    })[] = [];
    let gotPorts = 0;
    let bound = 0;
    let exited = 0;
    const tell = (leg: (typeof legs)[number], msg: RoundMessage): void => {
      if (leg.child.connected) leg.child.send(msg);
    };
    const timer = setTimeout(() => {
      for (const l of legs) l.child.kill('SIGKILL');
      reject(new Error(`collision round ${method} x${String(n)} timed out`));
    }, 120_000);
    const afterBound = (): void => {
      if (++bound < n) return;
      for (const l of legs) tell(l, { type: 'close' });
    };
    const afterPorts = (): void => {
      if (++gotPorts < n) return;
      // Barrier reached: every leg holds its ports (or failed). Now everyone binds.
      for (const l of legs) {
        if (l.ports.length > 0 && l.child.connected) tell(l, { type: 'bind', ports: l.ports });
        else afterBound();
      }
    };
    for (let i = 0; i < n; i++) {
      const child = fork(
        LEG,
        [
          method,
          String(COLLISION_RANGE.lo),
          String(COLLISION_RANGE.hi),
          registry,
          `${runId}-leg${String(i)}`,
          cli,
        ],
        {
          execArgv: ['--import', LOADER],
          env: baseEnv(),
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        },
      );
      const leg = {
        child,
        ports: [] as number[],
        error: null as string | null,
        results: [] as LegOutcome['results'],
        stage: 'ports' as 'ports' | 'bind' | 'done',
        stderr: '',
      };
      legs.push(leg);
      child.stderr?.on('data', (d: Buffer) => (leg.stderr += d.toString()));
      child.on('message', (raw) => {
        const msg = raw as LegMessage;
        if (msg.type === 'ports' && leg.stage === 'ports') {
          leg.stage = 'bind';
          leg.ports = msg.ports;
          leg.error = msg.error ?? null;
          afterPorts();
        } else if (msg.type === 'bound' && leg.stage === 'bind') {
          leg.stage = 'done';
          leg.results = msg.results;
          afterBound();
        }
      });
      child.on('exit', () => {
        // A leg that dies early still counts towards each barrier.
        if (leg.stage === 'ports') {
          leg.stage = 'done';
          leg.error ??= `exited early: ${leg.stderr.trim().split('\n').pop() ?? ''}`;
          afterPorts();
          afterBound();
        } else if (leg.stage === 'bind') {
          leg.stage = 'done';
          leg.error ??= 'exited before binding';
          afterBound();
        }
        if (++exited === n) {
          clearTimeout(timer);
          resolve(legs.map((l) => ({ ports: l.ports, error: l.error, results: l.results })));
        }
      });
    }
  });
}

export async function collision(ctx: Context, ephemeral: PortRange): Promise<CollisionRow[]> {
  if (ctx.cli === null) throw new Error('dist/cli/index.js is not built: npm run build');
  const rows: CollisionRow[] = [];
  for (const n of ctx.config.legs) {
    const rounds = ctx.config.rounds[n] ?? 1;
    for (const m of METHODS) {
      const registry = ctx.freshDir(`collision-${m.id}-${String(n)}`);
      const row: CollisionRow = {
        method: m.id,
        label: m.label,
        ranged: m.ranged,
        legs: n,
        rounds,
        roundsWithCollision: 0,
        roundsWithDuplicate: 0,
        legsFailedToBind: 0,
        legsErrored: 0,
        ports: 0,
        portsOutsideRange: 0,
        portsInEphemeral: 0,
        errors: [],
      };
      for (let r = 0; r < rounds; r++) {
        const legs = await collisionRound(ctx.cli, m.id, n, registry);
        const count = new Map<number, number>();
        let bad = false;
        for (const leg of legs) {
          if (leg.error !== null) {
            row.legsErrored++;
            bad = true;
            if (row.errors.length < 3) row.errors.push(leg.error);
          }
          if (leg.results.some((x) => x.code !== null)) {
            row.legsFailedToBind++;
            bad = true;
          }
          for (const p of leg.ports) {
            row.ports++;
            count.set(p, (count.get(p) ?? 0) + 1);
            if (!inRange(p, COLLISION_RANGE)) row.portsOutsideRange++;
            if (inRange(p, ephemeral)) row.portsInEphemeral++;
          }
        }
        if ([...count.values()].some((c) => c > 1)) {
          row.roundsWithDuplicate++;
          bad = true;
        }
        if (bad) row.roundsWithCollision++;
      }
      row.collisionRate = round(row.roundsWithCollision / rounds, 3);
      rows.push(row);
      log(
        `collision ${String(n)} legs, ${m.label}: ${String(row.roundsWithCollision)}/${String(rounds)} rounds collided; ${String(row.legsFailedToBind)} legs failed to bind; ${String(row.legsErrored)} errors; ${String(row.portsOutsideRange)}/${String(row.ports)} outside range; ${String(row.portsInEphemeral)} ephemeral`,
      );
    }
  }
  return rows;
}
