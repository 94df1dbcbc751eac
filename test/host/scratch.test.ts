/**
 * Where a user's machine lets the suites and the benchmark write
 * (lib/scratch.ts): /proc/self/mountinfo read right, a path's filesystem
 * found, and a directory not on ext4 refused. The disk checks need block
 * devices: test/boot/selftest.test.ts has them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkScratchDir, mountOf, mounts } from '../../lib/scratch';

const INFO = [
  '22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
  '23 22 0:21 / /proc rw,nosuid shared:2 - proc proc rw',
  '24 22 0:30 / /tmp rw,nosuid shared:3 - tmpfs tmpfs rw,size=1g',
  '25 22 254:17 / /mnt/with\\040space rw shared:4 - ext4 /dev/vdb rw',
  '26 24 254:17 / /tmp rw shared:5 - ext4 /dev/vdb rw',
].join('\n');

it('reads mountinfo: device, mount point (octal escapes undone), type and source', () => {
  expect(mounts(INFO).slice(0, 4)).toEqual([
    { dev: '254:1', point: '/', fstype: 'ext4', source: '/dev/vda1' },
    { dev: '0:21', point: '/proc', fstype: 'proc', source: 'proc' },
    { dev: '0:30', point: '/tmp', fstype: 'tmpfs', source: 'tmpfs' },
    { dev: '254:17', point: '/mnt/with space', fstype: 'ext4', source: '/dev/vdb' },
  ]);
});

it('finds the mount a path lives on: the deepest mount point, the last of those stacked there', () => {
  const all = mounts(INFO);
  expect(mountOf('/proc/self/fd', all).fstype).toBe('proc');
  expect(mountOf('/', all).source).toBe('/dev/vda1');
  // Not fooled by a mount point that only shares a prefix
  expect(mountOf('/usr', [...all, { dev: '0:1', point: '/us', fstype: 'tmpfs', source: 'x' }]).fstype).toBe('ext4');
  expect(mountOf('/tmp', all.slice(0, 3)).fstype).toBe('tmpfs');
  expect(mountOf('/tmp', all)).toEqual({ dev: '254:17', point: '/tmp', fstype: 'ext4', source: '/dev/vdb' });
});

it('takes a scratch directory only on ext4, and only one that exists', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gcma-scratch-'));
  const here = mountOf(dir);
  if (here.fstype === 'ext4') expect(checkScratchDir(dir)).toBe(dir);
  else expect(() => checkScratchDir(dir)).toThrow(`--scratch ${dir} is on ${here.fstype} (${here.point}): cleancache keeps ext4's pages, so the directory must be on ext4`);
  // /proc is never ext4: the refusal, whatever the machine
  expect(() => checkScratchDir('/proc/self')).toThrow(/^--scratch \/proc\/self is on proc \(\/proc\): cleancache keeps ext4's pages/);
  expect(() => checkScratchDir(join(dir, 'nonesuch'))).toThrow(`--scratch ${join(dir, 'nonesuch')}: no such directory`);
});
