/**
 * Typed errors. An argument of the wrong type or out of range is a
 * `TypeError` (`code` 'ERR_INVALID_ARG_TYPE', or 'ERR_INVALID_ARG_VALUE'
 * for a value no call could take) or a `RangeError` ('ERR_OUT_OF_RANGE'),
 * as Node's own APIs throw. Every other error is a {@link GcmaError};
 * those that come from the kernel keep Node's SystemError shape: `code`
 * ('EINVAL'), `errno` (negative, as in Node: -22), `syscall` ('ioctl' or
 * 'open') and the ioctl `command` or the device `path`. The subclass is
 * chosen by `code` (and, for EACCES/ENOENT, by whether open or an ioctl
 * failed), following the errno table of include/uapi/linux/gcma_test.h.
 * Refusals the library makes itself, knowing the kernel would (an area
 * that does not exist, a range outside the area), have no `syscall` and
 * no `errno`.
 */
import { inspect } from 'node:util';

/** The fields of a {@link GcmaError}. */
export interface GcmaErrorDetails {
  /** 'EINVAL', ..., or 'ERR_GCMA_...' for errors without a system call. */
  code: string;
  /** Negative errno, as Node's SystemErrors have it (-22). */
  errno?: number;
  /** 'ioctl' or 'open'. */
  syscall?: string;
  /** The ioctl, e.g. 'GCMA_TEST_IOC_ALLOC'. */
  command?: string;
  /** The device node, for open(). */
  path?: string;
  /** The addon's error. */
  cause?: unknown;
}

/** The base class of every error this package throws. */
export class GcmaError extends Error {
  /** See {@link GcmaErrorDetails.code}. */
  readonly code: string;
  /** See {@link GcmaErrorDetails.errno}; undefined when no system call failed. */
  readonly errno: number | undefined;
  /** See {@link GcmaErrorDetails.syscall}. */
  readonly syscall: string | undefined;
  /** See {@link GcmaErrorDetails.command}. */
  readonly command: string | undefined;
  /** See {@link GcmaErrorDetails.path}. */
  readonly path: string | undefined;

  constructor(message: string, details: GcmaErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = details.code;
    this.errno = details.errno;
    this.syscall = details.syscall;
    this.command = details.command;
    this.path = details.path;
  }
}

/** EINVAL: a bad range, count, flag or name (from the kernel, or refused before it). */
export class InvalidArgumentError extends GcmaError {}
/** ENAMETOOLONG: an area name of 32 bytes or more. */
export class NameTooLongError extends InvalidArgumentError {}
/** EEXIST: an area of that name exists (areas are permanent). */
export class AreaExistsError extends GcmaError {}
/**
 * ENOSPC: GCMA's limit of 64 areas is reached, or the areas would hold more
 * than the module's max_area_pages (for the whole system, until reboot).
 */
export class AreaLimitError extends GcmaError {}
/** ENOMEM: no contiguous memory for a new area, no room in the area, or cma_alloc() failed. */
export class OutOfMemoryError extends GcmaError {}
/** ENOENT from an ioctl: no area with that index, or nothing allocated there. */
export class NotFoundError extends GcmaError {}
/** ERANGE: an explicit range that is not inside the area. */
export class OutOfAreaError extends InvalidArgumentError {}
/** EBUSY: a page of the range is allocated already. */
export class BusyError extends GcmaError {}
/** EACCES from an ioctl: the range belongs to another open file of the device. */
export class NotOwnedError extends GcmaError {}
/** EPERM (no CAP_SYS_ADMIN), or EACCES from open (the node is root-only). */
export class PermissionDeniedError extends GcmaError {}
/**
 * EOPNOTSUPP (errno 95, which Node names ENOTSUP): explicit or compound
 * allocation from a CMA area; DMA from a GCMA area; allocation from the
 * GCMA area backing a guaranteed CMA area; carving an area out of a
 * guaranteed default CMA area.
 */
export class NotSupportedError extends GcmaError {}
/** ENODEV: the kernel has no GCMA, or no default CMA area to carve an area from (boot with cma=). */
export class NoDeviceError extends GcmaError {}
/** ENOENT/ENXIO from open: /dev/gcma_test does not exist; gcma_test.ko is not loaded. */
export class DeviceMissingError extends GcmaError {}
/** ENOTTY: the module does not know the command: module and library ABIs differ. */
export class AbiMismatchError extends GcmaError {}
/**
 * EIO from a free: the range was freed, but GCMA found pages of it in a bad
 * state or hardware-poisoned and keeps them out of use for good (the area's
 * `lost` count in sysfs; the kernel log says which).
 */
export class PagesLostError extends GcmaError {}
/** EFAULT: the kernel could not read or write the argument. */
export class BadAddressError extends GcmaError {}
/** The Device was closed; no system call was made. */
export class DeviceClosedError extends GcmaError {}
/** An Allocation freed already; no system call was made. */
export class AlreadyFreedError extends GcmaError {}

type ErrorClass = new (message: string, details: GcmaErrorDetails) => GcmaError;

const BY_CODE: Readonly<Record<string, ErrorClass>> = {
  EINVAL: InvalidArgumentError,
  ENAMETOOLONG: NameTooLongError,
  EEXIST: AreaExistsError,
  ENOSPC: AreaLimitError,
  ENOMEM: OutOfMemoryError,
  ENOENT: NotFoundError,
  ERANGE: OutOfAreaError,
  EBUSY: BusyError,
  EACCES: NotOwnedError,
  EPERM: PermissionDeniedError,
  // errno 95: EOPNOTSUPP in the kernel, ENOTSUP in libuv and Node
  ENOTSUP: NotSupportedError,
  EOPNOTSUPP: NotSupportedError,
  ENODEV: NoDeviceError,
  ENOTTY: AbiMismatchError,
  EFAULT: BadAddressError,
  EIO: PagesLostError,
  ERR_GCMA_DEVICE_CLOSED: DeviceClosedError,
};

const OPEN_BY_CODE: Readonly<Record<string, ErrorClass>> = {
  ENOENT: DeviceMissingError,
  ENXIO: DeviceMissingError,
  ENODEV: DeviceMissingError,
  EACCES: PermissionDeniedError,
  EPERM: PermissionDeniedError,
};

/** What to do about it, by code: appended to the kernel's messages. */
const HINTS: Readonly<Record<string, string>> = {
  EACCES: 'only the open file that allocated a range can free it',
  EPERM: 'the device needs CAP_SYS_ADMIN: run as root',
  ENOSPC: 'areas are permanent: reboot to register more (or load gcma_test with a larger max_area_pages)',
  EEXIST: 'areas are permanent: use the existing one or another name',
  EBUSY: 'free the overlapping range first, or allocate anywhere in the area; a free waits for the same file\'s allocation or free of that range',
  ERANGE: 'the range must lie inside the area: see area.range',
  ENOTSUP:
    'a CMA area only allocates anywhere, without compound pages; the GCMA area backing a guaranteed CMA area is allocated through that CMA area; only CMA areas allocate through DMA',
  ENODEV: 'boot with cma=SIZE for a CMA area; the kernel needs CONFIG_GCMA',
  ENOTTY: 'rebuild gcma_test.ko and the addon from the same checkout',
  EIO: 'the range is freed; the bad pages are reported in the kernel log and never used again',
  ENAMETOOLONG: 'area names are at most 31 bytes',
};

const OPEN_HINTS: Readonly<Record<string, string>> = {
  ENOENT: 'load the module: insmod kernel/module/gcma_test.ko',
  EACCES: 'the device is root-only (0600): run as root',
};

/** What to do about an error, by code: for ioctls and other calls, and for open(). */
export interface ErrorHints {
  /** For a failed ioctl (or mmap), by code. */
  call: Readonly<Record<string, string>>;
  /** For a failed open(), by code; falls back to {@link call}. */
  open: Readonly<Record<string, string>>;
}

/** The test device's. */
export const DEVICE_HINTS: ErrorHints = { call: HINTS, open: OPEN_HINTS };

/** A dma-buf heap's and a dma-buf's (lib/dma-heap.ts). */
export const HEAP_HINTS: ErrorHints = {
  call: {
    ENOMEM: 'the heap has no room for it (a CMA heap: its area is full, or too fragmented for the size)',
    EINVAL: 'the length must be more than 0, the heap flags 0, the fd flags within O_RDWR | O_CLOEXEC',
    ENOTTY: 'not a dma-buf heap or a dma-buf',
    EACCES: 'a dma-buf opened read-only cannot be mapped writable',
  },
  open: {
    ENOENT: 'no such heap: see DmaHeap.list() (/dev/dma_heap)',
    EACCES: 'the heap node is not readable by this user',
  },
};

interface NativeErrorShape {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  command?: unknown;
  path?: unknown;
  message?: unknown;
}

/**
 * What a call does, for its error message ("cannot <what>: ..."): a string,
 * or a function that makes it, so that calls that succeed, the hot path,
 * do not build it.
 */
export type Description = string | (() => string);

/**
 * The typed error for an error the addon threw. `what` says what was asked,
 * e.g. 'allocate 16 pages anywhere in GCMA area "a"'. Errors without an
 * errno code (TypeErrors from bad argument types) are returned as they are.
 */

export function fromNative(err: unknown, what: Description, hints: ErrorHints = DEVICE_HINTS): unknown {
  if (typeof err !== 'object' || err === null) return err;
  const e = err as NativeErrorShape;
  // The addon's argument mistakes pass as they are (Node's TypeError and RangeError)
  if (typeof e.code !== 'string' || ARGUMENT_CODES.has(e.code)) return err;
  const isOpen = e.syscall === 'open';
  const Class = (isOpen ? OPEN_BY_CODE[e.code] : undefined) ?? BY_CODE[e.code] ?? GcmaError;
  const hint = (isOpen ? hints.open[e.code] : undefined) ?? hints.call[e.code] ?? '';
  const details: GcmaErrorDetails = { code: e.code, cause: err };
  if (typeof e.errno === 'number') details.errno = e.errno;
  if (typeof e.syscall === 'string') details.syscall = e.syscall;
  if (typeof e.command === 'string') details.command = e.command;
  if (typeof e.path === 'string') details.path = e.path;
  const reason = typeof e.message === 'string' ? e.message : e.code;
  return new Class(`cannot ${typeof what === 'string' ? what : what()}: ${reason}${hint ? ` (${hint})` : ''}`, details);
}

/** Call into the addon; an error it throws comes out typed ({@link fromNative}). */
export function callNative<T>(what: Description, fn: () => T, hints: ErrorHints = DEVICE_HINTS): T {
  try {
    return fn();
  } catch (err) {
    throw fromNative(err, what, hints);
  }
}

/** {@link callNative} for the addon's promises. */
export async function callNativeAsync<T>(what: Description, fn: () => Promise<T>, hints: ErrorHints = DEVICE_HINTS): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fromNative(err, what, hints);
  }
}

/** A malformed command of a text protocol (gcma session, the CLI's SIZE): EINVAL, as the kernel would say. */
export function invalidArgument(message: string): InvalidArgumentError {
  return new InvalidArgumentError(message, { code: 'EINVAL' });
}

/**
 * The Node error codes of an argument mistake: ERR_INVALID_ARG_TYPE and
 * ERR_INVALID_ARG_VALUE come as a TypeError, ERR_OUT_OF_RANGE as a RangeError.
 */
export type ArgumentErrorCode = 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE';

const ARGUMENT_CODES: ReadonlySet<string> = new Set<ArgumentErrorCode>(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE']);

/** An argument mistake, as Node's own APIs throw it: a TypeError or a RangeError with a code. */
export interface ArgumentError extends Error {
  /** Which mistake. */
  code: ArgumentErrorCode;
}

function received(v: unknown): string {
  if (v === null || v === undefined) return `Received ${String(v)}`;
  if (typeof v === 'object' || typeof v === 'function') return `Received an instance of ${(v as object).constructor?.name ?? 'Object'}`;
  return `Received type ${typeof v} (${inspect(v)})`;
}

/** `name` is not of the `expected` type: a TypeError with code ERR_INVALID_ARG_TYPE, as Node's. */
export function argTypeError(name: string, expected: string, actual: unknown): TypeError & { code: 'ERR_INVALID_ARG_TYPE' } {
  return Object.assign(new TypeError(`The "${name}" argument must be of type ${expected}. ${received(actual)}`), { code: 'ERR_INVALID_ARG_TYPE' as const });
}

/** `name` has a value no call could take (`reason`): a TypeError with code ERR_INVALID_ARG_VALUE, as Node's. */
export function argValueError(name: string, reason: string, actual: unknown): TypeError & { code: 'ERR_INVALID_ARG_VALUE' } {
  return Object.assign(new TypeError(`The argument '${name}' ${reason}. Received ${inspect(actual)}`), { code: 'ERR_INVALID_ARG_VALUE' as const });
}

/** `name` is outside what it may be (`range`, e.g. '>= 1 && <= 64'): a RangeError with code ERR_OUT_OF_RANGE, as Node's. */
export function outOfRange(name: string, range: string, actual: unknown): RangeError & { code: 'ERR_OUT_OF_RANGE' } {
  return Object.assign(new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${inspect(actual)}`), {
    code: 'ERR_OUT_OF_RANGE' as const,
  });
}

/** Whether `err` is an argument mistake (an {@link ArgumentError}) rather than a refusal. */
export function isArgumentError(err: unknown): err is ArgumentError {
  const code = (err as { code?: unknown } | null)?.code;
  return (err instanceof TypeError || err instanceof RangeError) && typeof code === 'string' && ARGUMENT_CODES.has(code);
}

/** `v` if it is a number that is an integer in [min, max]: else a TypeError, or a RangeError, naming it. */
export function checkInteger(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number') throw argTypeError(name, 'number', v);
  if (!Number.isInteger(v)) throw outOfRange(name, 'an integer', v);
  if (v < min || v > max) throw outOfRange(name, `>= ${min} && <= ${max}`, v);
  return v;
}
