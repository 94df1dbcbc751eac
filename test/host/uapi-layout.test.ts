/**
 * The uapi header has one layout for 32- and 64-bit user space: the
 * offsets and sizes asserted in test/uapi/layout.c hold under -m32 and
 * -m64, and the header compiles cleanly in user space as C and C++.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';

const root = projectRoot();
const include = join(root, 'kernel', 'include', 'uapi');

function compile(compiler: string, args: string[]): string {
  try {
    execFileSync(compiler, ['-Wall', '-Wextra', '-Werror', '-fsyntax-only', ...args, '-I', include], { encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (err) {
    return (err as { stderr?: string }).stderr ?? String(err);
  }
}

it.each(['-m32', '-m64'])('struct layouts hold with %s', (abi) => {
  expect(compile('gcc', [abi, join(root, 'test', 'uapi', 'layout.c')])).toBe('');
});

it('fails when a field moves', () => {
  // The same assertions against a copy of the header with two fields swapped.
  const header = readFileSync(join(include, 'linux', 'gcma_test.h'), 'utf8');
  const start = /^\t__u64 start_pfn;.*$/m.exec(header)?.[0];
  const count = /^\t__u64 count;\t\t\/\* \(in\) pages \*\/$/m.exec(header.slice(header.indexOf('struct gcma_test_range {')))?.[0];
  expect(start && count).toBeTruthy();
  const range = header.indexOf('struct gcma_test_range {');
  const swapped = header.slice(0, range) + header.slice(range).replace(start!, '@@').replace(count!, start!).replace('@@', count!);
  expect(swapped).not.toBe(header);
  const dir = mkdtempSync(join(tmpdir(), 'gcma-uapi-'));
  mkdirSync(join(dir, 'linux'));
  writeFileSync(join(dir, 'linux', 'gcma_test.h'), swapped);
  const err = compile('gcc', ['-m64', '-I', dir, join(root, 'test', 'uapi', 'layout.c')]);
  expect(err).toContain('gcma_test_range.start_pfn at 16');
});

it('compiles in user space as C++ (the addon includes it)', () => {
  expect(compile('g++', ['-x', 'c++', '-std=c++17', '-include', 'linux/gcma_test.h', '/dev/null'])).toBe('');
});
