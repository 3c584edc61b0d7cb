/**
 * /proc/self/mountinfo, read as text: which mounts a process sees, and which of them holds a
 * path. Pure functions (no I/O); the caller reads the file (src/job/job.ts).
 */

/** One line of mountinfo: what was mounted (`root` of `source`, a `fstype`) at `point`. */
export interface MountEntry {
  root: string;
  point: string;
  fstype: string;
  source: string;
}

/** Undo the kernel's octal escapes (`\040` for a space, ...) in a mountinfo field. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Every well-formed line of a mountinfo text; malformed lines are skipped. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const a = line.slice(0, sep).split(' ');
    const b = line.slice(sep + 3).split(' ');
    if (a.length < 5 || b.length < 2) continue;
    out.push({
      root: unescapeMount(a[3] ?? ''),
      point: unescapeMount(a[4] ?? ''),
      fstype: b[0] ?? '',
      source: b[1] ?? '',
    });
  }
  return out;
}

/** The mount that holds `dir` (the last, deepest mount point that is dir or above it). */
export function mountOf(dir: string, mounts: MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) {
    const p = m.point;
    const covers = p === '/' || dir === p || dir.startsWith(p.endsWith('/') ? p : p + '/');
    if (covers && (best === undefined || p.length >= best.point.length)) best = m;
  }
  return best;
}
