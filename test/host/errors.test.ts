/**
 * Error mapping: the addon's errno errors become typed GcmaErrors by code
 * (and by syscall for open), keeping code, errno, syscall and command; the
 * library's own refusals are typed too. Real system calls where the host
 * can make them: opening a missing device node.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { checkAreaName, Device } from '../../lib/device';
import * as errors from '../../lib/errors';
import { native } from '../../lib/native';
import { caught } from '../support/throws';

const { fromNative, GcmaError } = errors;

function nativeError(code: string, errno: number, syscall: string, extra: Record<string, string> = {}): Error {
  return Object.assign(new Error(`${code}: something, ${syscall}`), { code, errno, syscall, ...extra });
}

describe('fromNative', () => {
  it.each([
    ['EINVAL', -22, errors.InvalidArgumentError],
    ['ENAMETOOLONG', -36, errors.NameTooLongError],
    ['EEXIST', -17, errors.AreaExistsError],
    ['ENOSPC', -28, errors.AreaLimitError],
    ['ENOMEM', -12, errors.OutOfMemoryError],
    ['ENOENT', -2, errors.NotFoundError],
    ['ERANGE', -34, errors.OutOfAreaError],
    ['EBUSY', -16, errors.BusyError],
    ['EACCES', -13, errors.NotOwnedError],
    ['EPERM', -1, errors.PermissionDeniedError],
    ['ENOTSUP', -95, errors.NotSupportedError],
    ['EOPNOTSUPP', -95, errors.NotSupportedError],
    ['ENODEV', -19, errors.NoDeviceError],
    ['ENOTTY', -25, errors.AbiMismatchError],
    ['EFAULT', -14, errors.BadAddressError],
    ['EIO', -5, errors.PagesLostError],
    ['EILSEQ', -84, GcmaError],
  ])('ioctl %s -> %p', (code, errno, Class) => {
    const e = fromNative(nativeError(code, errno, 'ioctl', { command: 'GCMA_TEST_IOC_ALLOC' }), 'allocate 16 pages anywhere in GCMA area "a"');
    expect(e).toBeInstanceOf(Class);
    expect(e).toBeInstanceOf(GcmaError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ code, errno, syscall: 'ioctl', command: 'GCMA_TEST_IOC_ALLOC', name: Class.name });
    expect((e as Error).message).toMatch(/^cannot allocate 16 pages anywhere in GCMA area "a": /);
  });

  it.each([
    ['ENOENT', errors.DeviceMissingError, /insmod/],
    ['EACCES', errors.PermissionDeniedError, /root/],
  ])('open %s -> %p, saying what to do', (code, Class, hint) => {
    const e = fromNative(nativeError(code, -2, 'open', { path: '/dev/gcma_test' }), 'open /dev/gcma_test');
    expect(e).toBeInstanceOf(Class);
    expect(e).toMatchObject({ code, syscall: 'open', path: '/dev/gcma_test' });
    expect((e as Error).message).toMatch(hint);
  });

  it('keeps the native error as the cause', () => {
    const n = nativeError('EBUSY', -16, 'ioctl');
    expect((fromNative(n, 'x') as Error).cause).toBe(n);
  });

  it("passes through errors without an errno code, and the addon's argument mistakes (TypeErrors, RangeErrors)", () => {
    const t = new TypeError('count must be a number');
    expect(fromNative(t, 'x')).toBe(t);
    expect(fromNative('s', 'x')).toBe('s');
    for (const code of ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE']) {
      const e = Object.assign(new RangeError('startPfn must be an integer from 0 to 9'), { code });
      expect(fromNative(e, 'x')).toBe(e);
    }
    // The control: an errno code is typed
    expect(fromNative(nativeError('EBUSY', -16, 'ioctl'), 'x')).toBeInstanceOf(errors.BusyError);
  });
});

describe('refused before the kernel', () => {
  it.each([[''], ['a/b'], ['a\0b']])('area name %p: a TypeError, ERR_INVALID_ARG_VALUE, as Node says', (name) => {
    expect(caught(() => checkAreaName(name))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('an area name that is no string: ERR_INVALID_ARG_TYPE; a number out of range: ERR_OUT_OF_RANGE; both argument errors, no GcmaError', () => {
    const type = caught(() => checkAreaName(42));
    expect(type).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'The "name" argument must be of type string. Received type number (42)' });
    const range = caught(() => errors.checkInteger('pages', 0, 1, 8));
    expect(range).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: 'The value of "pages" is out of range. It must be >= 1 && <= 8. Received 0' });
    expect([type, range].map((e) => [errors.isArgumentError(e), e instanceof errors.GcmaError])).toEqual([
      [true, false],
      [true, false],
    ]);
    // The control: a kernel-typed error is none
    expect(errors.isArgumentError(new errors.InvalidArgumentError('x', { code: 'EINVAL' }))).toBe(false);
  });

  it('a name of 32 bytes is too long; 31 is not', () => {
    expect(checkAreaName('x'.repeat(31))).toBe('x'.repeat(31));
    const e = (() => {
      try {
        checkAreaName('é'.repeat(16));
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(errors.NameTooLongError);
    expect(e).toMatchObject({ code: 'ENAMETOOLONG', syscall: undefined, errno: undefined });
  });
});

describe('the addon on the host (no gcma_test module here)', () => {
  it('exports the uapi header constants', () => {
    expect(native().constants).toMatchObject({ ABI_VERSION: 1, DEVICE: '/dev/gcma_test', NAME_LEN: 32, MAX_AREAS: 64, PFN_MAX: 2 ** 52 - 1 });
  });

  it('opening a missing node is a DeviceMissingError from open(2)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gcma-')), 'gcma_test');
    for (const attempt of [() => Device.open(path), () => Device.openAsync(path)]) {
      let caught: unknown;
      try {
        await attempt();
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(errors.DeviceMissingError);
      expect(caught).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'open', path });
      expect((caught as Error).message).toContain(`cannot open ${path}: ENOENT: No such file or directory, open ${path}`);
    }
  });

  it("names every errno Node names as Node does, a few more by POSIX, the rest UNKNOWN (a table: no glibc-only call)", () => {
    const { errnoName } = native();
    // Linux's errnos end at 133 (EHWPOISON); libuv's own codes (EOF, EAI_*) from 3000 are no errnos
    const named = Array.from({ length: 200 }, (_, i) => i + 1).filter((n) => !getSystemErrorName(-n).startsWith('Unknown'));
    // The control: Node names the common ones
    expect(named).toEqual(expect.arrayContaining([1, 2, 12, 16, 22, 25, 28, 95]));
    expect(named.map((n) => [n, errnoName(n)])).toEqual(named.map((n) => [n, getSystemErrorName(-n)]));
    expect([errnoName(35), errnoName(116), errnoName(4000)]).toEqual(['EDEADLK', 'ESTALE', 'UNKNOWN']);
    // The addon's RangeError, of another realm than jest's
    expect(caught(() => errnoName(-1))).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: 'errno must be an integer from 0 to 4095' });
    expect(caught(() => errnoName('1' as unknown as number))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('an open file that is not the device answers ENOTTY: AbiMismatchError', () => {
    expect(() => Device.open('/dev/null')).toThrow(errors.AbiMismatchError);
  });
});
