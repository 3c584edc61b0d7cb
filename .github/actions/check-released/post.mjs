// Runs after the post steps of every action used later in the job: each lease named in the
// lease file must be gone from the registry, and with containers: true, its container too.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../../dist/cli/index.js', import.meta.url));
const file = process.env['INPUT_LEASE-FILE'] ?? '';
const registry = process.env.INPUT_REGISTRY ?? '';
const containers = process.env.INPUT_CONTAINERS === 'true';

function fail(message) {
  console.log(`::error::check-released: ${message}`);
  process.exitCode = 1;
}

function main() {
  let ids;
  try {
    ids = readFileSync(file, 'utf8').split(/\s+/).filter(Boolean);
  } catch (err) {
    return fail(`cannot read ${file} (${err.code ?? err}): the job ended before it leased?`);
  }
  if (ids.length === 0 || ids.some((id) => !/^pl_[0-9a-z]{10}$/.test(id))) {
    return fail(`${file} should hold lease ids, holds ${JSON.stringify(ids)}`);
  }
  const args = [cli, 'list', '--json', ...(registry ? ['--registry', registry] : [])];
  const live = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }));
  console.log(`registry after the post steps: ${JSON.stringify(live)}`);
  for (const id of ids) {
    const held = live.find((l) => l.lease === id);
    if (held) fail(`lease ${id} (ports ${JSON.stringify(held.ports)}) is still in the registry`);
    else console.log(`lease ${id}: released`);
    if (containers) {
      const left = execFileSync(
        'docker',
        ['ps', '-aq', '--filter', `label=portlease.lease=${id}`],
        { encoding: 'utf8' },
      ).trim();
      if (left !== '') fail(`container ${left} of lease ${id} was not removed`);
      else console.log(`lease ${id}: no container left`);
    }
  }
}

try {
  main();
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
