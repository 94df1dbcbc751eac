/**
 * GCMA's area limit through /dev/gcma_test, in a boot of its own: areas are
 * permanent, so using them all up would starve the other VM suites. Booted
 * without cma=, which the same run checks (the CMA target has no area:
 * ENOENT). The C program fills the areas; then the TypeScript API must see
 * the same errors typed: AreaLimitError, NoDeviceError (no default area)
 * and NotFoundError (no CMA area 0).
 */
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { runInVm } from '../../lib/vm/runner';
import { listTap, parseTap, uapiTestProgram } from '../support/tap';
import { SMALL_GUEST_MIB, testKernel, testModule } from '../support/test-kernel';

jest.setTimeout(600_000);

const root = projectRoot();
const program = uapiTestProgram(root);

// Runs in the guest after the C program used up the areas.
const addonCheck = `
const { Device } = require(${JSON.stringify(join(root, 'dist', 'lib', 'index.js'))});
const pick = (e) => ({ name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, command: e.command });
const attempt = (fn) => { try { fn(); return 'no error'; } catch (e) { return pick(e); } };
const dev = Device.open();
console.log('addon: ' + JSON.stringify({
  hasCma: dev.hasCma,
  areas: dev.areas().length,
  register: attempt(() => dev.register('one-too-many', 1)),
  cma: attempt(() => dev.cmaArea()),
  cmaAreas: dev.cmaAreas().length,
  cmaIndex0: attempt(() => dev.cmaArea(0)),
}));
dev.close();`;

it('registers areas up to the limit, then fails with ENOSPC; no CMA area: ENODEV/ENOENT', async () => {
  const kernel = await testKernel();
  let out = '';
  const r = await runInVm({
    bzImage: kernel.bzImage,
    cwd: root,
    modules: [await testModule(kernel, 'gcma_test')],
    command: ['sh', '-c', `${program} area-limit && node -e "$ADDON_CHECK"`],
    env: { ADDON_CHECK: addonCheck },
    memoryMiB: SMALL_GUEST_MIB,
    resultsDir: join(root, 'results', 'test', 'boot', 'area-limit'),
    output: (t) => (out += t),
  });
  const tap = parseTap(out);
  expect({ cases: tap.cases, exitCode: r.exitCode }).toEqual({
    cases: listTap(program, ['area-limit']).map((name) => ({ name, ok: true, diagnostics: expect.any(Array) })),
    exitCode: 0,
  });
  expect(out).toMatch(/^# \d+ areas registered, \d+ existed$/m);
  const line = /^addon: (.*)$/m.exec(out)?.[1];
  expect(line && JSON.parse(line)).toEqual({
    hasCma: false,
    areas: 64,
    register: { name: 'AreaLimitError', code: 'ENOSPC', errno: -28, syscall: 'ioctl', command: 'GCMA_TEST_IOC_REGISTER' },
    // The library knows there is no default area; the kernel has no area 0.
    cma: { name: 'NoDeviceError', code: 'ENODEV' },
    cmaAreas: 0,
    cmaIndex0: { name: 'NotFoundError', code: 'ENOENT', errno: -2, syscall: 'ioctl', command: 'GCMA_TEST_IOC_AREA_INFO' },
  });
});
