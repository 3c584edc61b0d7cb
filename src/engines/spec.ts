/**
 * A service container's specification (image, port inside, command, env, options,
 * readiness check, engine, pull policy): parsed and checked from text, the same for the
 * container step's inputs and `portlease service`'s flags. Nothing runs a shell: words are
 * split the way a POSIX shell would split a simple command, and nothing is expanded.
 */
import { checkName, parseDuration, UsageError } from '../core/index.js';
import type { EngineName } from './engine.js';

export type HealthMode = 'tcp' | 'http' | 'docker' | 'cmd' | 'none';
export type PullPolicy = 'missing' | 'always' | 'never';

export const HEALTH_MODES: readonly HealthMode[] = ['tcp', 'http', 'docker', 'cmd', 'none'];
export const PULL_POLICIES: readonly PullPolicy[] = ['missing', 'always', 'never'];
export const DEFAULT_NAME = 'SERVICE_PORT';
export const DEFAULT_HEALTH_TIMEOUT = '2m';

export interface ServiceSpec {
  image: string;
  containerPort: number;
  args: string[];
  /** The env/output name of the host port. */
  name: string;
  env: [string, string][];
  options: string[];
  health: HealthMode;
  healthCmd: string[];
  healthTimeoutMs: number;
  engine: EngineName | 'auto';
  pull: PullPolicy;
}

function show(value: string): string {
  return JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value);
}

/**
 * Split text into words the way a POSIX shell splits a simple command, without running
 * one: whitespace (including newlines) separates words; '...' keeps everything literally;
 * "..." keeps everything but lets a backslash escape $ ` " \ and newline; a backslash
 * outside quotes escapes the next character (backslash-newline joins lines). Nothing is
 * expanded: no $VARS, globs, ~, ; | & or redirections, which stay literal characters.
 * An unclosed quote or a trailing backslash is a UsageError naming `label`.
 */
export function splitShellWords(text: string, label: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charAt(i);
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) {
        words.push(word);
        word = '';
        inWord = false;
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= n) {
        throw new UsageError(
          `${label}: ends with a lone backslash; escape it as \\\\ or quote it, like '\\'`,
        );
      }
      const next = text.charAt(i + 1);
      if (next === '\n') {
        i += 2; // line continuation
        continue;
      }
      word += next;
      inWord = true;
      i += 2;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) {
        throw new UsageError(
          `${label}: unclosed ' quote starting at ${show(text.slice(i, i + 30))}; close it, or escape the quote as \\'`,
        );
      }
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let closed = false;
      while (j < n) {
        const d = text.charAt(j);
        if (d === '"') {
          closed = true;
          break;
        }
        if (d === '\\' && j + 1 < n) {
          const e = text.charAt(j + 1);
          if (e === '\n') {
            j += 2;
            continue;
          }
          if (e === '$' || e === '`' || e === '"' || e === '\\') {
            word += e;
            j += 2;
            continue;
          }
        }
        word += d;
        j++;
      }
      if (!closed) {
        throw new UsageError(
          `${label}: unclosed " quote starting at ${show(text.slice(i, i + 30))}; close it, or escape the quote as \\"`,
        );
      }
      inWord = true;
      i = j + 1;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** `5432` or `5432/tcp`. */
export function parseContainerPort(text: string, label: string): number {
  const t = text.trim();
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(t);
  const accepted =
    'give the port the service listens on inside the container, 1-65535, like 5432 or 5432/tcp';
  if (!m) throw new UsageError(`${label}: ${show(text)} is not a port; ${accepted}`);
  if (m[2] !== undefined && m[2].toLowerCase() !== 'tcp') {
    throw new UsageError(`${label}: ${show(text)}: only TCP ports can be leased; ${accepted}`);
  }
  const port = Number(m[1]);
  if (port < 1 || port > 65535) {
    throw new UsageError(`${label}: ${show(text)} is outside 1-65535; ${accepted}`);
  }
  return port;
}

/** Multiline KEY=VALUE (blank lines and lines starting with # skipped). */
export function parseEnvLines(text: string, label: string): [string, string][] {
  const out: [string, string][] = [];
  const seen = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const accepted = 'one KEY=VALUE per line, KEY a valid variable name like POSTGRES_PASSWORD';
    if (eq <= 0) throw new UsageError(`${label}: ${show(line)} is not KEY=VALUE; ${accepted}`);
    const key = line.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new UsageError(`${label}: ${show(key)} is not a valid variable name; ${accepted}`);
    }
    if (seen.has(key)) throw new UsageError(`${label}: ${show(key)} is set twice`);
    seen.add(key);
    out.push([key, raw.slice(raw.indexOf('=') + 1).trim()]);
  }
  return out;
}

/** An image reference: no whitespace or control characters, not an option. */
export function checkImage(text: string, label: string): string {
  const t = text.trim();
  if (t === '') {
    throw new UsageError(`${label}: required; name the image to run, like postgres:16 or redis:7`);
  }
  // eslint-disable-next-line no-control-regex
  if (t.startsWith('-') || /[\s\u0000-\u001f\u007f]/.test(t) || t.length > 512) {
    throw new UsageError(
      `${label}: ${show(t)} is not an image reference; name one like postgres:16, ghcr.io/owner/app:1.2 or an image id`,
    );
  }
  return t;
}

function oneOf<T extends string>(
  text: string,
  label: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const t = text.trim();
  if (t === '') return fallback;
  if ((allowed as readonly string[]).includes(t)) return t as T;
  throw new UsageError(`${label}: ${show(text)} is not accepted; use ${allowed.join(', ')}`);
}

/** The service inputs as text, as the container step's inputs and the CLI's flags give them. */
export interface RawInputs {
  image: string;
  'container-port': string;
  args: string;
  name: string;
  env: string;
  options: string;
  health: string;
  'health-cmd': string;
  'health-timeout': string;
  engine: string;
  pull: string;
}

/**
 * Check the service inputs; `label` names each input as the caller's user knows it (the
 * step's input name, or the CLI's --flag).
 */
export function parseServiceSpec(
  raw: RawInputs,
  label: (input: keyof RawInputs) => string = (i) => i,
): ServiceSpec {
  /** `health: cmd` for a step input, `--health cmd` for a CLI flag. */
  const setting = (input: keyof RawInputs, value: string): string => {
    const l = label(input);
    return l.startsWith('-') ? `${l} ${value}` : `${l}: ${value}`;
  };
  const image = checkImage(raw.image, label('image'));
  if (raw['container-port'].trim() === '') {
    throw new UsageError(
      `${label('container-port')}: required; give the port the service listens on inside the container, like 5432`,
    );
  }
  const containerPort = parseContainerPort(raw['container-port'], label('container-port'));
  const args = splitShellWords(raw.args, label('args'));
  const name = checkName(raw.name.trim() === '' ? DEFAULT_NAME : raw.name.trim(), label('name'));
  const env = parseEnvLines(raw.env, label('env'));
  const options = splitShellWords(raw.options, label('options'));
  const healthCmd = splitShellWords(raw['health-cmd'], label('health-cmd'));
  const health = oneOf(
    raw.health,
    label('health'),
    HEALTH_MODES,
    healthCmd.length > 0 ? 'cmd' : 'tcp',
  );
  if (health === 'cmd' && healthCmd.length === 0) {
    throw new UsageError(
      `${label('health-cmd')}: required with ${setting('health', 'cmd')}; give the command to run in the container, like pg_isready -U postgres`,
    );
  }
  if (health !== 'cmd' && healthCmd.length > 0) {
    throw new UsageError(
      `${label('health-cmd')}: only used with ${setting('health', 'cmd')}, but ${label('health')} is ${health}; drop ${label('health-cmd')} or set ${setting('health', 'cmd')}`,
    );
  }
  const healthTimeoutMs = parseDuration(
    raw['health-timeout'].trim() === '' ? DEFAULT_HEALTH_TIMEOUT : raw['health-timeout'],
    label('health-timeout'),
    { max: 6 * 3_600_000 },
  );
  const engine = oneOf(raw.engine, label('engine'), ['docker', 'podman', 'auto'] as const, 'auto');
  const pull = oneOf(raw.pull, label('pull'), PULL_POLICIES, 'missing');
  for (const o of options) {
    if (/^(--rm|--publish|--publish-all|-p|-P)(=|$)|^-p./.test(o)) {
      throw new UsageError(
        `${label('options')}: ${show(o)} is not accepted: portlease publishes the container port on the leased port itself (other published ports would not be leased) and removes the container when done; drop it`,
      );
    }
  }
  return {
    image,
    containerPort,
    args,
    name,
    env,
    options,
    health,
    healthCmd,
    healthTimeoutMs,
    engine,
    pull,
  };
}
