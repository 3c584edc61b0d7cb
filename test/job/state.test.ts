/**
 * Step state as JSON (src/job/state.ts) over an in-memory store standing in for
 * core.saveState / core.getState: the format main writes, what post accepts, and that an
 * untrusted value that is not a lease reference is refused.
 */
import { describe, expect, it } from 'vitest';
import {
  getJsonState,
  isLeaseRef,
  saveJsonState,
  type StateReader,
  type StateWriter,
} from '../../src/job/state.js';

function store(): { save: StateWriter; get: StateReader; saved: Map<string, string> } {
  const saved = new Map<string, string>();
  return {
    saved,
    save: (name, value) => saved.set(name, value),
    get: (name) => saved.get(name) ?? '',
  };
}

const REF = { lease: 'pl_abc123xyz', key: 'gh/o/r/1-1/job/step#0123', registry: '/tmp/portlease' };

describe('step state', () => {
  it('saves one JSON value under the name and reads it back through the guard', () => {
    const s = store();
    saveJsonState(s.save, 'portlease', REF);
    // the format post steps of this and earlier builds read: plain JSON of the object
    expect(s.saved.get('portlease')).toBe(
      '{"lease":"pl_abc123xyz","key":"gh/o/r/1-1/job/step#0123","registry":"/tmp/portlease"}',
    );
    expect(getJsonState(s.get, 'portlease', isLeaseRef)).toEqual(REF);
    expect(getJsonState(s.get, 'other', isLeaseRef)).toBeUndefined();
  });

  it.each([
    ['unparsable', '{"lease":'],
    ['not an object', '"pl_abc123xyz"'],
    ['null', 'null'],
    ['a bad lease id', JSON.stringify({ ...REF, lease: '../../etc' })],
    ['a relative registry', JSON.stringify({ ...REF, registry: 'tmp/portlease' })],
    ['no key', JSON.stringify({ lease: REF.lease, registry: REF.registry })],
  ])('refuses state that is %s', (_what, text) => {
    const s = store();
    s.saved.set('portlease', text);
    expect(getJsonState(s.get, 'portlease', isLeaseRef)).toBeUndefined();
  });
});
