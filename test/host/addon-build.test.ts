/**
 * The addon builds with cmake-js too (CMakeLists.txt, for CMake users),
 * from the same sources as node-gyp's build, with no compiler warnings
 * under -Wall -Wextra, and the result loads and carries the uapi header's
 * constants. (npm install / make addon build it with node-gyp.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';

jest.setTimeout(300_000);

const root = projectRoot();

it('builds with cmake-js without warnings, and loads', () => {
  const out = mkdtempSync(join(tmpdir(), 'gcma-cmake-'));
  try {
    const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
    const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', out], { cwd: root, encoding: 'utf8' });
    const log = `${r.stdout}\n${r.stderr}`;
    expect({ status: r.status, warnings: log.split('\n').filter((l) => /warning:/.test(l)) }).toEqual({ status: 0, warnings: [] });
    const addon = join(out, 'Release', 'gcma.node');
    expect(existsSync(addon)).toBe(true);
    const probe = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addon)}); console.log(JSON.stringify([typeof a.Device, a.constants.ABI_VERSION, a.constants.DEVICE]))`], {
      encoding: 'utf8',
    });
    expect(probe.stderr).toBe('');
    expect(JSON.parse(probe.stdout)).toEqual(['function', 1, '/dev/gcma_test']);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
