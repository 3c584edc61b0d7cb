// What a benchmark run does: the command line, the sizes and repetitions of a quick or a
// full run, and the ranges every section allocates in.
import { parseArgs } from 'node:util';
import type { PortRange } from './results.js';

export const USAGE =
  'usage: npm run bench -- [--quick] [--json] [--out DIR] [--only latency,command,contention,collision,pytest,portserver,serve]';

export const SECTIONS = [
  'latency',
  'command',
  'contention',
  'collision',
  'pytest',
  'portserver',
  'serve',
] as const;
export type Section = (typeof SECTIONS)[number];

/** The three names every allocation in the benchmark asks for. */
export const NAMES = ['WEB_PORT', 'DB_PORT', 'CACHE_PORT'];
/** Benchmark registries allocate here: below the ephemeral range, away from 20000-29999. */
export const ALLOC_RANGE: PortRange = { lo: 10000, hi: 19999 };
/** The range every allocator in the collision comparison is asked for. */
export const COLLISION_RANGE: PortRange = { lo: 10000, hi: 10999 };

export interface Config {
  sizes: number[];
  iters: Record<number, number>;
  warmup: number;
  commandReps: number;
  contention: number[];
  contentionReps: number;
  legs: number[];
  rounds: Record<number, number>;
  /** Tests per pytest session, and measured sessions of each kind (after one warm-up). */
  pytestTests: number;
  pytestSessions: number;
  /** Requests per round from portpicker's client to each portserver, and the rounds. */
  portserverRequests: number;
  portserverReps: number;
  /** Lease + release pairs through `portlease serve` (after 20 warm-up pairs). */
  serveRequests: number;
}

const QUICK: Config = {
  sizes: [0, 100, 1000, 10000],
  iters: { 0: 30, 100: 30, 1000: 30, 10000: 4 },
  warmup: 3,
  commandReps: 6,
  contention: [1, 8, 64],
  contentionReps: 1,
  legs: [8],
  rounds: { 8: 4 },
  pytestTests: 20,
  pytestSessions: 2,
  portserverRequests: 200,
  portserverReps: 2,
  serveRequests: 100,
};

const FULL: Config = {
  sizes: [0, 100, 1000, 10000],
  iters: { 0: 200, 100: 200, 1000: 150, 10000: 30 },
  warmup: 5,
  commandReps: 25,
  contention: [1, 8, 32, 64],
  contentionReps: 5,
  legs: [8, 32],
  rounds: { 8: 40, 32: 10 },
  pytestTests: 50,
  pytestSessions: 5,
  portserverRequests: 200,
  portserverReps: 5,
  serveRequests: 400,
};

export interface Options {
  quick: boolean;
  json: boolean;
  /** Where to write results.md, results.json and chart.svg; null: nowhere. */
  out: string | null;
  /** Whether docs/bench.md is rewritten too (a full run of every section, no --out). */
  doc: boolean;
  only: Section[];
  config: Config;
}

/** The options, or a message for the user (usage, or what is wrong) and an exit status. */
export function parseOptions(
  argv: string[],
  defaultOut: string,
): Options | { message: string; status: number } {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        out: { type: 'string' },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    return { message: `bench: ${(err as Error).message}\n${USAGE}`, status: 2 };
  }
  if (values.help) return { message: USAGE, status: 0 };
  const only: Section[] = [];
  for (const s of values.only?.split(',').map((x) => x.trim()) ?? SECTIONS) {
    const section = SECTIONS.find((x) => x === s);
    if (section === undefined) {
      return {
        message: `--only: ${JSON.stringify(s)} is not a section; use ${SECTIONS.join(', ')}`,
        status: 2,
      };
    }
    only.push(section);
  }
  const partial = values.quick || values.only !== undefined;
  return {
    quick: values.quick,
    json: values.json,
    out: values.out ?? (partial ? null : defaultOut),
    doc: values.out === undefined && !partial,
    only,
    config: values.quick ? QUICK : FULL,
  };
}
