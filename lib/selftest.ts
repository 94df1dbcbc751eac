/**
 * `gcma selftest`: the VM suites that need only the device, and a scratch
 * ext4 filesystem when given one, run on the machine at hand (a device or
 * a host booted with the patched kernel, gcma_test loaded), printing TAP.
 *
 * Nothing is destroyed unless asked: `--scratch DIR` puts the suites'
 * files in a directory of an ext4 filesystem already mounted (and removes
 * them); only `--disk DEV --yes-destroy` lets a suite make a filesystem,
 * on a disk none of whose filesystems is mounted. The suites register
 * GCMA areas, which stay until reboot (the model's are taken again on the
 * next run). They run from a checkout (they are the project's jest suites,
 * and the device suite's C program is built by make).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Device, type Area } from './device';
import { DeviceMissingError, PermissionDeniedError } from './errors';
import { projectRoot } from './paths';
import { checkPlace, type DataPlace } from './scratch';

/** Lines the TAP reporter prints as comments after the version line. */
export const TAP_HEADER_ENV = 'GCMA_TAP_HEADER';

export interface SelftestSuite {
  /** test/vm/<name>.test.ts */
  name: string;
  /** 'scratch': runs only with --scratch DIR or --disk DEV --yes-destroy. */
  needs: 'device' | 'scratch';
  /** Files of the checkout it runs, and how to make them. */
  built?: { path: string; make: string };
}

export const SELFTEST_SUITES: readonly SelftestSuite[] = [
  { name: 'device', needs: 'device', built: { path: 'test/uapi/gcma_test_uapi', make: 'make test/uapi/gcma_test_uapi' } },
  { name: 'model', needs: 'device' },
  { name: 'cleancache-scope', needs: 'scratch' },
];

export interface SelftestOptions {
  /** Where the scratch suites write (checked: checkPlace()); without it they are left out. */
  place?: DataPlace | undefined;
}

/** Why the machine cannot run the suites: the CLI's exit 4 (no usable device). */
export class SelftestRefused extends Error {
  override name = 'SelftestRefused';
}

/** The machine's CMA areas, through the device; without it, refused (exit 4). */
function cmaAreasOrRefuse(): Area[] {
  try {
    using dev = Device.open();
    return dev.cmaAreas();
  } catch (err) {
    if (err instanceof DeviceMissingError || err instanceof PermissionDeniedError) throw new SelftestRefused(`${err.message}: load gcma_test.ko first (insmod gcma_test.ko)`);
    throw err;
  }
}

/** Check the options and the machine; the suites to run and those left out, with why. */
export function planSelftest(o: SelftestOptions, root = projectRoot()): { run: SelftestSuite[]; left: string[]; env: Record<string, string> } {
  if (process.getuid?.() !== 0) throw new SelftestRefused('this needs root (the device is root-only; the suites drop caches)');
  const cma = cmaAreasOrRefuse();
  if (!cma.some((a) => a.isDefault)) throw new SelftestRefused('the device suite needs the default CMA area (boot with cma=SIZE)');
  if (!cma.some((a) => a.backing === 'cma+gcma')) throw new SelftestRefused('the device suite needs a guaranteed CMA area (boot with gcma=NAME:SIZE)');
  const env: Record<string, string> = { GCMA_SELFTEST: '1' };
  const place = o.place && checkPlace(o.place);
  if (place) {
    if ('disk' in place) env['GCMA_SCRATCH_DISK'] = place.disk;
    else env['GCMA_SCRATCH_DIR'] = place.dir;
  }
  const run = SELFTEST_SUITES.filter((s) => s.needs === 'device' || place !== undefined);
  const left = SELFTEST_SUITES.filter((s) => !run.includes(s)).map((s) => `${s.name}: needs --scratch DIR (on ext4) or --disk DEV --yes-destroy`);
  const unbuilt = run.flatMap((s) => (s.built && !existsSync(join(root, s.built.path)) ? [`${s.built.path} (${s.built.make})`] : []));
  const suitesJs = run.map((s) => join(root, 'dist', 'test', 'vm', `${s.name}.test.js`));
  if (!existsSync(join(root, 'node_modules', 'jest')) || suitesJs.some((f) => !existsSync(f))) {
    throw new Error(`gcma selftest runs the project's suites from a checkout with its dev dependencies (git clone; npm ci): ${root} has not got them`);
  }
  if (unbuilt.length) throw new Error(`not built: ${unbuilt.join(', ')}`);
  return { run, left, env };
}

/** Run the suites under jest with the TAP reporter; resolves to jest's exit status. */
export async function runSelftest(o: SelftestOptions = {}): Promise<number> {
  const root = projectRoot();
  const plan = planSelftest(o, root);
  const header = [`gcma selftest: ${plan.run.map((s) => s.name).join(', ')}`, ...plan.left.map((l) => `left out: ${l}`)];
  const args = [
    join(root, 'node_modules', 'jest', 'bin', 'jest.js'),
    // No --selectProjects: jest would say so on stdout; the paths are the vm project's alone
    '--runInBand',
    // Console output buffered into the results (the reporter prints it as comments), not onto the TAP
    '--verbose=false',
    '--reporters',
    join(root, 'dist', 'test', 'support', 'tap-reporter.js'),
    '--runTestsByPath',
    ...plan.run.map((s) => join(root, 'dist', 'test', 'vm', `${s.name}.test.js`)),
  ];
  // TAP on stdout; jest's own messages (a config error, say) on stderr
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...plan.env, [TAP_HEADER_ENV]: header.join('\n') }, stdio: ['ignore', 'inherit', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
