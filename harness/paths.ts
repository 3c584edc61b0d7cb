// Where things are, for the harness and its users (tests, bench, scripts).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The Node running this (npm scripts: the node@24 devDependency); children run on it too. */
export const NODE = process.execPath;
/** `node --import LOADER file.ts`: TypeScript with `./x.js` imports resolved to `./x.ts`. */
export const LOADER = join(ROOT, 'harness/ts-loader.ts');
/** The built CLI, run with plain `node` as a user would. */
export const CLI = join(ROOT, 'dist/cli/index.js');
