/**
 * A kernel build that failed on compiler warnings must fail again when
 * re-run, not pass because make finds everything up to date: the work
 * that warned is redone (lib/kernel/build.ts redoWarnedWork).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPILER_WARNING, redoWarnedWork } from '../../lib/kernel/build';

let dir: string;
const old = new Date('2020-01-01T00:00:00Z');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gcma-warn-'));
  mkdirSync(join(dir, 'src', 'mm'), { recursive: true });
  mkdirSync(join(dir, 'build'));
  for (const f of ['src/mm/gcma.c', 'src/mm/cma.c', 'build/vmlinux.o']) {
    writeFileSync(join(dir, f), '');
    utimesSync(join(dir, f), old, old);
  }
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mtime = (f: string): number => statSync(join(dir, f)).mtimeMs;

it('recognises compiler and linker warnings, not other lines', () => {
  expect(COMPILER_WARNING.test("../mm/gcma.c:12:5: warning: unused variable 'x' [-Wunused-variable]")).toBe(true);
  expect(COMPILER_WARNING.test('vmlinux.o: warning: objtool: foo+0x12: call without frame pointer save/setup')).toBe(true);
  expect(COMPILER_WARNING.test('  CC      mm/gcma.o')).toBe(false);
});

it('touches the source file a warning names, relative or absolute, and nothing else', () => {
  redoWarnedWork(join(dir, 'src'), join(dir, 'build'), ["mm/gcma.c:12:5: warning: unused variable 'x'"]);
  expect(mtime('src/mm/gcma.c')).toBeGreaterThan(old.getTime());
  expect(mtime('src/mm/cma.c')).toBe(old.getTime());
  redoWarnedWork(join(dir, 'src'), join(dir, 'build'), [`${join(dir, 'src', 'mm', 'cma.c')}:3:1: warning: x`]);
  expect(mtime('src/mm/cma.c')).toBeGreaterThan(old.getTime());
  expect(() => statSync(join(dir, 'build', 'vmlinux.o'))).not.toThrow();
});

it('removes vmlinux.o for a warning from the link, so it is linked again', () => {
  redoWarnedWork(join(dir, 'src'), join(dir, 'build'), ['vmlinux.o: warning: objtool: foo+0x12: unreachable instruction']);
  expect(() => statSync(join(dir, 'build', 'vmlinux.o'))).toThrow();
});
