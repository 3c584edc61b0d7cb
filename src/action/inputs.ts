/**
 * The action's inputs, read once into one typed object (docker/login-action style). Every
 * value is checked here, before the registry is touched; an error names the input.
 */
import * as core from '@actions/core';
import { parseBoolean, parseNameList, UsageError } from '../core/index.js';
import { readLeaseInputs, type LeaseInputs } from '../job/lease-inputs.js';

export interface ActionInputs extends LeaseInputs {
  /** Port names, in the order given (`ports`). */
  names: string[];
  contiguous: boolean;
  exportEnv: boolean;
}

/** Output names the action sets itself (output names are compared case-insensitively). */
const OWN_OUTPUTS = new Set(['ports', 'lease']);

/** Reserved names (PATH, LD_*, ...) are refused by the core's checkNames, like everywhere. */
function checkNotOwnOutput(name: string): void {
  if (OWN_OUTPUTS.has(name.toLowerCase())) {
    throw new UsageError(
      `ports: ${JSON.stringify(name)} clashes with this action's own output "${name.toLowerCase()}"; choose another name, like WEB_PORT`,
    );
  }
}

function booleanInput(name: string, fallback: boolean): boolean {
  const text = core.getInput(name, { trimWhitespace: true });
  return text === '' ? fallback : parseBoolean(text, name);
}

/** Read and validate every input. Throws UsageError naming the input; touches nothing. */
export function getInputs(): ActionInputs {
  const names = parseNameList(core.getInput('ports', { trimWhitespace: true }), 'ports');
  for (const name of names) checkNotOwnOutput(name);
  const contiguous = booleanInput('contiguous', false);
  const exportEnv = booleanInput('export-env', true);
  return { names, contiguous, exportEnv, ...readLeaseInputs(core.getInput) };
}
