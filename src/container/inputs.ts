/**
 * The container step's inputs: read once, every one checked with an error that names it
 * (src/engines/spec.ts, shared with `portlease service`), returned as one typed object.
 * Nothing is touched while reading them.
 */
import * as core from '@actions/core';
import { parseServiceSpec, type RawInputs, type ServiceSpec } from '../engines/spec.js';
import { readLeaseInputs, type LeaseInputs } from '../job/lease-inputs.js';

export interface ContainerInputs extends ServiceSpec {
  lease: LeaseInputs;
}

/** Every input, read through @actions/core and checked. Throws UsageError naming the input. */
export function getInputs(): ContainerInputs {
  const get = (name: keyof RawInputs): string => core.getInput(name, { trimWhitespace: false });
  const raw: RawInputs = {
    image: get('image'),
    'container-port': get('container-port'),
    args: get('args'),
    name: get('name'),
    env: get('env'),
    options: get('options'),
    health: get('health'),
    'health-cmd': get('health-cmd'),
    'health-timeout': get('health-timeout'),
    engine: get('engine'),
    pull: get('pull'),
  };
  const parsed = parseServiceSpec(raw);
  return { ...parsed, lease: readLeaseInputs(core.getInput) };
}
