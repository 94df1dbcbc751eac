/**
 * Runs inside the QEMU guest: /dev/gcma_test command by command and error
 * by error, through ioctl(2) from the C program test/uapi/gcma_test_uapi.c,
 * one jest test per TAP case. The guest was booted with cma=64M, so the CMA
 * target exists; the area limit has a boot of its own (test/boot).
 */
import { statSync } from 'node:fs';
import { projectRoot } from '../../lib/paths';
import { listTap, runTap, uapiTestProgram, type TapRun } from '../support/tap';
import { dropCaches, insmod, rmmod, TEST_MODULE } from './support/guest';

const program = uapiTestProgram(projectRoot());
const names = listTap(program, []);
let run: TapRun;

beforeAll(() => {
  // The suites before this one leave the plain CMA area full of page cache:
  // every case that takes it whole would migrate it all first (half a
  // minute under TCG). Migration has its own cases (cma-areas); here the
  // interface is under test.
  dropCaches();
  insmod(TEST_MODULE);
  run = runTap(program, [], 300_000);
}, 330_000);

afterAll(() => {
  rmmod('gcma_test');
});

it('has a root-only device node', () => {
  const st = statSync('/dev/gcma_test');
  expect(st.isCharacterDevice()).toBe(true);
  expect(st.mode & 0o777).toBe(0o600);
  expect(st.uid).toBe(0);
});

it('ran every case to the end', () => {
  expect(run.bailOut).toBeNull();
  expect(run.planned).toBe(names.length);
  expect(run.cases.map((c) => c.name)).toEqual(names);
  // Killed by a signal or a timeout: null
  expect(run.exitCode).toBe(run.cases.every((c) => c.ok) ? 0 : 1);
});

it.each(names)('%s', (name) => {
  const c = run.cases.find((x) => x.name === name);
  expect(c).toBeDefined();
  expect({ name, ok: c?.ok, diagnostics: c?.diagnostics }).toEqual({ name, ok: true, diagnostics: [] });
});
