/**
 * The job summary: one table of the leased ports.
 */
import * as core from '@actions/core';
import { formatRange, type Lease } from '../registry/index.js';

function escape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export async function writeSummary(lease: Lease, registry: string, reused: boolean): Promise<void> {
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
    .addRaw(
      `<p>Lease <code>${escape(lease.id)}</code>${reused ? ' (handed back: this job already held it)' : ''}, expires ${escape(lease.expires ?? 'never (owner-bound)')}; released by this step's post step.</p>`,
      true,
    )
    .write();
}
