/**
 * GCMA's area limit through /dev/gcma_test, in a boot of its own: areas are
 * permanent, so using them all up would starve the other VM suites. Booted
 * without cma=, which the same run checks (the CMA target: ENODEV).
 */
import { join } from 'node:path';
import { buildKernel } from '../../lib/kernel/build';
import { projectRoot } from '../../lib/paths';
import { runInVm } from '../../lib/vm/runner';
import { listTap, parseTap, uapiTestProgram } from '../support/tap';

jest.setTimeout(600_000);

const root = projectRoot();
const program = uapiTestProgram(root);

it('registers areas up to the limit, then fails with ENOSPC; no CMA area: ENODEV', async () => {
  const kernel = await buildKernel({ log: () => undefined });
  let out = '';
  const r = await runInVm({
    bzImage: kernel.bzImage,
    cwd: root,
    modules: [join(root, 'kernel', 'module', 'gcma_test.ko')],
    command: [program, 'area-limit'],
    resultsDir: join(root, 'results', 'test', 'boot', 'area-limit'),
    output: (t) => (out += t),
  });
  const tap = parseTap(out);
  expect({ cases: tap.cases, exitCode: r.exitCode }).toEqual({
    cases: listTap(program, ['area-limit']).map((name) => ({ name, ok: true, diagnostics: expect.any(Array) })),
    exitCode: 0,
  });
  expect(out).toMatch(/^# \d+ areas registered, \d+ existed$/m);
});
