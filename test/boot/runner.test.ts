/**
 * The runner against the real patched kernel under QEMU: the failure modes
 * a CI run must never miss. Each case is one short boot.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KernelBuild } from '../../lib/kernel/build';
import { projectRoot } from '../../lib/paths';
import { MODULE_LOAD_FAILED } from '../../lib/vm/job';
import { runInVm, VmError, type VmRunOptions } from '../../lib/vm/runner';
import { externalTestKernel, SMALL_GUEST_MIB, TEST_FLAVOUR, testKernel, testModule } from '../support/test-kernel';

jest.setTimeout(600_000);

let kernel: KernelBuild;
const root = projectRoot();
const resultsRoot = join(root, 'results', 'test', 'boot');

beforeAll(async () => {
  kernel = await testKernel();
});

async function boot(name: string, opts: Partial<VmRunOptions> & Pick<VmRunOptions, 'command'>): Promise<{ exitCode: number; out: string }> {
  let out = '';
  const r = await runInVm({
    bzImage: kernel.bzImage,
    cwd: root,
    resultsDir: join(resultsRoot, name),
    memoryMiB: SMALL_GUEST_MIB,
    output: (t) => (out += t),
    ...opts,
  });
  return { exitCode: r.exitCode, out };
}

async function bootFailure(name: string, opts: Partial<VmRunOptions> & Pick<VmRunOptions, 'command'>): Promise<VmError> {
  try {
    await boot(name, opts);
  } catch (err) {
    if (err instanceof VmError) return err;
    throw err;
  }
  throw new Error(`${name}: the run succeeded but should have failed`);
}

// One boot for both: a command run from a host directory under /tmp.
describe('a command that runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gcma-keep-'));
  let r: { exitCode: number; out: string };

  beforeAll(async () => {
    writeFileSync(join(dir, 'marker'), 'host file\n');
    const script = 'cat marker && touch /tmp/guest-writable && echo "$PWD"; echo "hello from $(uname -r)"; echo to-stderr >&2; exit 7';
    r = await boot('exit-status', { cwd: dir, command: ['sh', '-c', script] });
  });

  it('streams the guest command output and passes its exit status back', () => {
    expect(r.out).toContain(`hello from ${kernel.release}\n`);
    expect(r.out).toContain('to-stderr\n');
    expect(r.exitCode).toBe(7);
  });

  it('keeps a host cwd under /tmp visible beneath the guest tmpfs', () => {
    expect(r.out.startsWith(`host file\n${dir}\n`)).toBe(true);
  });
});

it('fails the run and shows the WARN when the kernel WARNs', async () => {
  const ko = await testModule(kernel, 'warn_on_load');
  const err = await bootFailure('warn', { command: ['true'], modules: [ko] });
  expect(err.reason).toBe('kernel-report');
  expect(err.findings.map((f) => f.kind)).toContain('warning');
  expect(err.message).toContain('deliberate WARN on load');
  expect(existsSync(err.consoleLog)).toBe(true);
});

it('fails the run with the report when the guest kernel panics', async () => {
  const err = await bootFailure('panic', { command: ['sh', '-c', 'echo c > /proc/sysrq-trigger; sleep 60'] });
  expect(err.reason).toBe('kernel-report');
  expect(err.findings.map((f) => f.kind)).toContain('panic');
  expect(err.message).toContain('sysrq triggered crash');
});

it('reports a module that does not load as a distinct exit status', async () => {
  const r = await boot('bad-module', { command: ['true'], modules: [join(root, 'no-such-module.ko')] });
  expect(r.exitCode).toBe(MODULE_LOAD_FAILED);
  expect(r.out).toContain('insmod');
});

it('gives up with the console tail when the guest does not boot in time', async () => {
  const err = await bootFailure('boot-timeout', { command: ['true'], bootTimeoutMs: 500 });
  expect(err.reason).toBe('boot-timeout');
  expect(err.message).toMatch(/did not boot within 0\.5s/);
});

// No boot: the kernel every case here boots, as the CLI tells a script
// (not when make test was given a kernel built elsewhere: nothing is built).
const ownBuild = externalTestKernel() ? it.skip : it;
ownBuild('gcma kernel build --json names that kernel: flavour, release, bzImage, KDIR and the test modules', async () => {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'lib', 'cli.js'), 'kernel', 'build', '--flavour', TEST_FLAVOUR, '--json'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  const facts = JSON.parse(r.stdout) as { flavour: string; release: string; bzImage: string; kdir: string; modules: Record<string, string> };
  expect(facts).toEqual({ flavour: TEST_FLAVOUR, release: kernel.release, bzImage: kernel.bzImage, kdir: kernel.buildDir, modules: expect.any(Object) });
  expect(readFileSync(join(facts.kdir, 'include', 'config', 'kernel.release'), 'utf8').trim()).toBe(facts.release);
  expect(existsSync(join(facts.kdir, 'Module.symvers'))).toBe(true);
  expect(facts.modules['gcma_test']).toBe(await testModule(kernel, 'gcma_test'));
  expect(existsSync(facts.modules['gcma_vendor_heap']!)).toBe(true);
});
