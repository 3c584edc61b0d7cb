/**
 * The one way every shell (the action, the container step, the CLI, the library) builds
 * the host's registry: the core Registry, with the container engines' knowledge plugged in
 * (host ports they publish count as busy; job-container owners are judged by the engines).
 */
import { containerLivenessChecker, publishedPorts } from '../engines/host.js';
import { defaultRegistryDir, Registry, type RegistryOptions } from '../registry/index.js';

export interface HostRegistryOptions {
  env?: NodeJS.ProcessEnv;
  warn?: (msg: string) => void;
  debug?: (msg: string) => void;
  lockTimeoutMs?: number;
}

/** The registry in `dir` (default: $PORTLEASE_REGISTRY, else the host-wide path). */
export function createHostRegistry(
  dir: string | undefined,
  opts: HostRegistryOptions = {},
): Registry {
  const env = opts.env ?? process.env;
  const ro: RegistryOptions = {
    warn: opts.warn,
    debug: opts.debug,
    lockTimeoutMs: opts.lockTimeoutMs,
    busyPorts: () => publishedPorts({ env, debug: opts.debug }),
    containerLiveness: containerLivenessChecker({ env }),
  };
  return new Registry(dir ?? defaultRegistryDir(env), ro);
}
