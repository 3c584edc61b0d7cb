/**
 * /proc/self/mountinfo parsing (src/job/mountinfo.ts): escaped paths, malformed lines,
 * and the mount that holds a path is the deepest one above it.
 */
import { expect, it } from 'vitest';
import { mountOf, parseMountInfo } from '../../src/job/mountinfo.js';

const TEXT = [
  '1 0 0:1 / / rw - overlay overlay rw',
  '2 1 0:30 /port\\040lease /tmp/port\\040lease rw,nosuid - tmpfs tmpfs rw',
  'not a mountinfo line',
  '3 1 0:31 / /tmp rw - tmpfs tmpfs rw',
  '4 1 0:32 / /tmp/port rw - ext4 /dev/vda1 rw',
  '',
].join('\n');

it('parses fields, undoes octal escapes and skips malformed lines', () => {
  const mounts = parseMountInfo(TEXT);
  expect(mounts.map((m) => m.point)).toEqual(['/', '/tmp/port lease', '/tmp', '/tmp/port']);
  expect(mounts[1]).toEqual({
    root: '/port lease',
    point: '/tmp/port lease',
    fstype: 'tmpfs',
    source: 'tmpfs',
  });
});

it('finds the deepest mount holding a path, never a sibling with the same prefix', () => {
  const mounts = parseMountInfo(TEXT);
  expect(mountOf('/tmp/port lease/x', mounts)?.point).toBe('/tmp/port lease');
  expect(mountOf('/tmp/portlease', mounts)?.point).toBe('/tmp');
  expect(mountOf('/tmp', mounts)?.point).toBe('/tmp');
  expect(mountOf('/tmp/port/x', mounts)?.point).toBe('/tmp/port');
  expect(mountOf('/var/portlease', mounts)?.point).toBe('/');
  expect(mountOf('/x', [])).toBeUndefined();
});
