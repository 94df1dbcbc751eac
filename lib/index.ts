/**
 * gcma: drive GCMA from user space through /dev/gcma_test.
 *
 * ```ts
 * import { Device } from 'gcma';
 * using dev = Device.open();
 * const area = dev.area('gcma_test');
 * using a = area.alloc(16);
 * console.log(a.range.format(), a.kernelNs);
 * ```
 */
export { Allocation, Area, checkAreaName, DEFAULT_DEVICE_PATH, DEFAULT_MAX_IN_FLIGHT, Device, MAX_NAME_BYTES } from './device';
export type { AllocOptions, AreaStats, Backing, DeviceOptions, FreeResult, RegisterOptions, Target } from './device';
export { DMA_HEAP_DIR, DmaBuf, DmaHeap } from './dma-heap';
export type { HeapAllocOptions, SyncOptions } from './dma-heap';
export {
  AbiMismatchError,
  AlreadyFreedError,
  AreaExistsError,
  AreaLimitError,
  BadAddressError,
  BusyError,
  DeviceClosedError,
  DeviceMissingError,
  GcmaError,
  InvalidArgumentError,
  isArgumentError,
  NameTooLongError,
  NoDeviceError,
  NotFoundError,
  NotOwnedError,
  NotSupportedError,
  OutOfAreaError,
  OutOfMemoryError,
  PagesLostError,
  PermissionDeniedError,
} from './errors';
export type { ArgumentError, ArgumentErrorCode, GcmaErrorDetails } from './errors';
export { formatPfn, PFN_MAX, PfnRange, systemPageSize } from './pfn-range';
export { cleancacheStats, cmaAreaStats } from './stats';
export type { CleancacheStats, CmaAreaStats } from './stats';
