/**
 * The core's public face: what the layers above (engines, runner, shells) import from
 * `src/registry`. Re-exports only; each module holds one responsibility (docs/architecture.md).
 */
export * from './errors.js';
export * from './parse.js';
export { Registry } from './registry.js';
export type {
  Allocation,
  GcReport,
  LeaseStatus,
  RegistryOptions,
  ReleaseSelector,
} from './registry.js';
export type { GcEntry } from './conflicts.js';
export type { AllocateRequest } from './request.js';
export { excludedCount } from './request.js';
export { defaultRegistryDir } from './dirs.js';
export type { Lease } from './schema.js';
export type {
  Owner,
  OwnerKind,
  OwnerChoice,
  OwnerSpec,
  ProcessOwner,
  ContainerOwner,
  SessionOwner,
  DirOwner,
  TreeOwner,
  Liveness,
} from './owner.js';
export {
  defaultOwner,
  describeProcess,
  describeOwner,
  findAncestor,
  parseOwnerSpec,
  resolveOwner,
  RUNNER_WORKER,
  sameOwner,
  self as selfOwner,
  treeOwner,
} from './owner.js';
export { formatRange } from './probe.js';
