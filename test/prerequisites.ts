/**
 * Tests that need something of the machine (root, podman, ...) say so here instead of
 * skipping silently. Under CI (CI set, and not "false" or "0") a missing prerequisite is a
 * failure: a test named after it fails with the reason, since CI (.ci/run) must provide it.
 * Elsewhere the tests are skipped, the reason printed on stderr and put in their name.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

/** What a prerequisite check returns: null when it is there, else why the tests cannot run. */
export type Missing = string | null;

export const onCI = ((v) => v !== '' && v !== '0' && v !== 'false')(
  (process.env.CI ?? '').toLowerCase(),
);

export function root(): Missing {
  return process.getuid?.() === 0 ? null : 'needs root (useradd, runuser, mount)';
}

export function podman(): Missing {
  return spawnSync('podman', ['--version']).status === 0
    ? null
    : 'podman is not installed (PORTLEASE_WITH_PODMAN=1 sh scripts/docker-test-env.sh installs it)';
}

export function strace(): Missing {
  return spawnSync('strace', ['-V']).status === 0
    ? null
    : 'strace is not installed (apt-get install strace; .ci/run installs it)';
}

/** Debian's python3-portpicker (the portpicker module, and its reference `portserver`). */
export function portpicker(): Missing {
  return spawnSync('/usr/bin/python3', ['-c', 'import portpicker, portserver']).status === 0
    ? null
    : "Debian's python3-portpicker is not installed (apt-get install python3-portpicker; .ci/run installs it)";
}

/** Debian's pytest, pytest-xdist, setuptools and pip for /usr/bin/python3 (the plugin's tests and recipes). */
export function pytest(): Missing {
  return spawnSync('/usr/bin/python3', ['-c', 'import pytest, xdist, setuptools, pip']).status === 0
    ? null
    : '/usr/bin/python3 lacks pytest, pytest-xdist, setuptools or pip (apt-get install python3-pytest python3-pytest-xdist python3-setuptools python3-pip; .ci/run installs them)';
}

/** OpenSSH's server, for the ssh one-liner lifetime test. */
export function sshd(): Missing {
  return existsSync('/usr/sbin/sshd')
    ? null
    : 'sshd is not installed (apt-get install openssh-server; scripts/lifetime-test-env.sh, run by .ci/run, installs it)';
}

function unmet(title: string, missing: string): string {
  if (!onCI) process.stderr.write(`SKIPPED ${JSON.stringify(title)}: ${missing}\n`);
  return `${title} [SKIPPED: ${missing}]`;
}

function failOnCI(missing: string): () => never {
  return () => {
    throw new Error(`${missing}; CI must provide it (see .ci/run)`);
  };
}

/** `describe` that runs only where nothing is missing (see the module comment). */
export function describeWith(missing: Missing, title: string, body: () => void): void {
  if (missing === null) describe(title, body);
  else if (onCI) {
    describe(title, () => {
      it('has what it needs', failOnCI(missing));
    });
  } else describe.skip(unmet(title, missing), body);
}

/** `it` that runs only where nothing is missing (see the module comment). */
export function itWith(
  missing: Missing,
  title: string,
  body: () => Promise<void>,
  timeout?: number,
): void {
  if (missing === null) it(title, body, timeout);
  else if (onCI) it(title, failOnCI(missing));
  else it.skip(unmet(title, missing), body);
}
