/**
 * The job summary: one table of the leased ports.
 */
import * as core from '@actions/core';
import { formatRange, type Lease } from '../core/index.js';

function escape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** How this step came by its lease: handed back for its key, and who holds it if not this job. */
export interface Holding {
  /** The key named a live lease, which was handed back. */
  reused: boolean;
  /** Set when that lease is another owner's (describeOwner): this step's post leaves it. */
  holder?: string | undefined;
}

function aboutLease(lease: Lease, { reused, holder }: Holding): string {
  const id = `<code>${escape(lease.id)}</code>`;
  const expires = escape(lease.expires ?? 'never (owner-bound)');
  if (holder !== undefined) {
    return `Lease ${id} of key <code>${escape(lease.key)}</code> is held by another owner, ${escape(holder)}: this step reused it for its key, and this step's post step will not release it. It stays leased until its owner releases it or is gone (expires ${expires}); give each job its own key for ports of its own.`;
  }
  return `Lease ${id}${reused ? ' (handed back: this job already held it)' : ''}, expires ${expires}; released by this step's post step.`;
}

export async function writeSummary(
  lease: Lease,
  registry: string,
  holding: Holding,
): Promise<void> {
  const range = escape(formatRange(lease.range));
  const dir = escape(registry);
  const rows = Object.entries(lease.ports).map(([name, port]) => [
    `<code>${escape(name)}</code>`,
    String(port),
    range,
    `<code>${dir}</code>`,
  ]);
  await core.summary
    .addHeading('portlease: leased ports', 3)
    .addTable([
      [
        { data: 'Name', header: true },
        { data: 'Port', header: true },
        { data: 'Range', header: true },
        { data: 'Registry', header: true },
      ],
      ...rows,
    ])
    .addRaw(`<p>${aboutLease(lease, holding)}</p>`, true)
    .write();
}
