/**
 * Container lists as the engines give them (`docker ps`, Docker's API, `podman ps`),
 * normalised to ContainerInfo, and the look into rootful podman's store that spares starting
 * podman when it holds no container.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRecord } from '../core/text.js';
import type { EngineName } from './engine.js';

/** One container as the engines describe it, normalised. */
export interface ContainerInfo {
  engine: EngineName;
  id: string;
  name: string;
  running: boolean;
  labels: Record<string, string>;
  /** Host TCP ports it publishes. */
  hostPorts: number[];
}

function validPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Host TCP ports out of a `docker ps` Ports column: `127.0.0.1:8080->80/tcp, :::8000-8002->8000-8002/tcp`. */
export function parsePortsColumn(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /:(\d{1,5})(?:-(\d{1,5}))?->[^/]*\/(\w+)\s*$/.exec(part.trim());
    if (!m || m[3] !== 'tcp') continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let p = lo; p <= hi && p - lo < 65536; p++) if (validPort(p)) out.push(p);
  }
  return out;
}

/** `docker ps --format '{{json .}}'` lines, normalised. */
export function parseDockerPsLines(stdout: string): ContainerInfo[] {
  const out: ContainerInfo[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const row: unknown = JSON.parse(line);
    if (!isRecord(row)) continue;
    const labels: Record<string, string> = {};
    if (typeof row.Labels === 'string') {
      for (const kv of row.Labels.split(',')) {
        const i = kv.indexOf('=');
        if (i > 0) labels[kv.slice(0, i)] = kv.slice(i + 1);
      }
    }
    out.push({
      engine: 'docker',
      id: typeof row.ID === 'string' ? row.ID : '',
      name: typeof row.Names === 'string' ? (row.Names.split(',')[0] ?? '') : '',
      running: row.State === 'running',
      labels,
      hostPorts: typeof row.Ports === 'string' ? parsePortsColumn(row.Ports) : [],
    });
  }
  return out;
}

/** The Docker API's `GET /containers/json` rows, normalised. */
export function parseDockerApiRows(body: string): ContainerInfo[] {
  const rows: unknown = JSON.parse(body);
  if (!Array.isArray(rows)) throw new Error('docker API: not a list of containers');
  return rows.filter(isRecord).map((r) => {
    const ports = Array.isArray(r.Ports) ? r.Ports.filter(isRecord) : [];
    const names = Array.isArray(r.Names) ? r.Names : [];
    return {
      engine: 'docker',
      id: typeof r.Id === 'string' ? r.Id : '',
      name: typeof names[0] === 'string' ? names[0].replace(/^\//, '') : '',
      running: r.State === 'running',
      labels: stringRecord(r.Labels),
      hostPorts: ports
        .filter((p) => p.Type === 'tcp' && validPort(p.PublicPort))
        .map((p) => p.PublicPort as number),
    };
  });
}

/** `podman ps --format json`, normalised. */
export function parsePodmanPs(stdout: string): ContainerInfo[] {
  const rows: unknown = JSON.parse(stdout.trim() === '' ? '[]' : stdout);
  if (!Array.isArray(rows)) throw new Error('podman ps: not a list of containers');
  return rows.filter(isRecord).map((row) => {
    const hostPorts: number[] = [];
    for (const p of Array.isArray(row.Ports) ? row.Ports.filter(isRecord) : []) {
      if (p.protocol !== undefined && p.protocol !== 'tcp') continue;
      if (!validPort(p.host_port)) continue;
      const range = typeof p.range === 'number' && p.range > 1 ? Math.min(p.range, 65536) : 1;
      for (let i = 0; i < range && p.host_port + i <= 65535; i++) hostPorts.push(p.host_port + i);
    }
    const names = Array.isArray(row.Names) ? row.Names : [];
    return {
      engine: 'podman',
      id: typeof row.Id === 'string' ? row.Id : '',
      name: typeof names[0] === 'string' ? names[0] : '',
      running: row.State === 'running',
      labels: stringRecord(row.Labels),
      hostPorts,
    } satisfies ContainerInfo;
  });
}

/**
 * true when rootful podman's store provably holds no container: every
 * `<graphroot>/<driver>-containers/containers.json` is an empty list. Anything unexpected
 * (not root, another graphroot that cannot be read, a file that does not parse) is false, so
 * podman itself is asked. Starting podman costs tens of milliseconds.
 */
export function podmanStoreEmpty(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.getuid?.() !== 0) return false;
  let graphroot = '/var/lib/containers/storage';
  try {
    const conf = readFileSync(
      env.CONTAINERS_STORAGE_CONF ?? '/etc/containers/storage.conf',
      'utf8',
    );
    const m = /^\s*graphroot\s*=\s*"([^"]+)"/m.exec(conf);
    if (m?.[1] !== undefined) graphroot = m[1];
  } catch {
    // no storage.conf: podman's default graphroot
  }
  try {
    const stores = readdirSync(graphroot).filter((n) => n.endsWith('-containers'));
    if (stores.length === 0) return !existsSync(join(graphroot, 'libpod'));
    return stores.every((d) => {
      const list: unknown = JSON.parse(readFileSync(join(graphroot, d, 'containers.json'), 'utf8'));
      return Array.isArray(list) && list.length === 0;
    });
  } catch (err) {
    // No store at all yet: podman has never made a container here.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(graphroot);
  }
}
