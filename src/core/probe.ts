/**
 * Can a port be bound right now, and which ports does the kernel keep for itself.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { PortRange } from './parse.js';

/** Try to listen on `host:port` and close again. Resolves to null when it worked, else the errno code. */
export function tryListen(port: number, host: string): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      resolve(err.code ?? 'EUNKNOWN');
    });
    // For '::' no host is passed: Node then binds the IPv6 any-address itself, without the
    // first-use cost (~5 ms) of compiling net.isIPv6's pattern for a host string.
    const where = host === '::' ? { ipv6Only: true } : { host };
    server.listen({ port, exclusive: true, ...where }, () => {
      server.close(() => {
        resolve(null);
      });
    });
  });
}

let ipv6: Promise<boolean> | undefined;

/**
 * Does this host have IPv6 at all (can it bind ::1)? Asked once per process. On Linux the
 * loopback's addresses are read from /proc/net/if_inet6 (no socket needed); elsewhere, or
 * when that file cannot be read, by binding ::1.
 */
export function hasIPv6(): Promise<boolean> {
  if (ipv6 === undefined) {
    const text = readText('/proc/net/if_inet6');
    ipv6 =
      text !== null
        ? Promise.resolve(/^0{31}1 /m.test(text))
        : tryListen(0, '::1').then((code) => code === null);
  }
  return ipv6;
}

/**
 * Is `port` bindable on every address a server is likely to use: 0.0.0.0, 127.0.0.1 and
 * :: (where the host has IPv6)? Returns null when it is, else a short reason.
 */
export async function probePort(port: number): Promise<string | null> {
  const hosts = ['0.0.0.0', '127.0.0.1'];
  if (await hasIPv6()) hosts.push('::');
  // One at a time: binding 0.0.0.0 and 127.0.0.1 at once would make them fail each other.
  for (const host of hosts) {
    const code = await tryListen(port, host);
    if (code !== null) return `${host}:${port} ${code}`;
  }
  return null;
}

export interface KernelPorts {
  /** ip_local_port_range: where bind(0) and outbound connections get their ports. */
  ephemeral: PortRange | null;
  /** ip_local_reserved_ports. */
  reserved: PortRange[];
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Parse "32768\t60999". */
export function parseEphemeral(text: string | null): PortRange | null {
  if (text === null) return null;
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  return lo >= 1 && hi <= 65535 && lo <= hi ? { lo, hi } : null;
}

/** Parse "8080,9000-9010". */
export function parseReserved(text: string | null): PortRange[] {
  if (text === null) return [];
  const out: PortRange[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo >= 1 && hi <= 65535 && lo <= hi) out.push({ lo, hi });
  }
  return out;
}

/**
 * The kernel's own port ranges. Linux reads /proc; elsewhere the documented defaults
 * (macOS/BSD and Windows hand out 49152-65535).
 */
export function kernelPorts(procRoot = '/proc'): KernelPorts {
  const text = readText(`${procRoot}/sys/net/ipv4/ip_local_port_range`);
  if (text === null && process.platform !== 'linux') {
    return { ephemeral: { lo: 49152, hi: 65535 }, reserved: [] };
  }
  return {
    ephemeral: parseEphemeral(text),
    reserved: parseReserved(readText(`${procRoot}/sys/net/ipv4/ip_local_reserved_ports`)),
  };
}

export function inRange(port: number, r: PortRange): boolean {
  return port >= r.lo && port <= r.hi;
}

export function formatRange(r: PortRange): string {
  return r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`;
}
