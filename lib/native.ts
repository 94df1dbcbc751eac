/**
 * The addon (addon/, built by node-gyp on `npm install`, or by cmake-js):
 * one method per ioctl of include/uapi/linux/gcma_test.h, synchronous and
 * Promise-returning, and the dma-buf heap and dma-buf calls. Loaded on
 * first use, so that what does not touch the device works without it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './paths';

export interface NativeVersion {
  abiVersion: number;
  features: number;
  pageSize: number;
  maxAreas: number;
}

export interface NativeRegistered {
  index: number;
  basePfn: number;
}

export interface NativeAreaInfo {
  target: number;
  index: number;
  name: string;
  basePfn: number;
  count: number;
  allocated: number;
  cached: number;
  allocations: number;
  failures: number;
  owned: number;
  flags: number;
}

export interface NativeRange {
  target: number;
  index: number;
  startPfn: number;
  count: number;
  kernelNs: number;
}

export interface NativeDevice {
  readonly closed: boolean;
  readonly path: string;
  close(): void;
  version(): NativeVersion;
  versionAsync(): Promise<NativeVersion>;
  register(name: string, count: number, flags?: number): NativeRegistered;
  registerAsync(name: string, count: number, flags?: number): Promise<NativeRegistered>;
  areaInfo(target: number, index: number): NativeAreaInfo;
  areaInfoAsync(target: number, index: number): Promise<NativeAreaInfo>;
  /** areaInfo() without the name, its numbers written to `out` in AREA_INFO_FIELDS order: no object made. */
  areaInfoInto(target: number, index: number, out: Float64Array): void;
  alloc(target: number, index: number, flags: number, startPfn: number, count: number): NativeRange;
  allocAsync(target: number, index: number, flags: number, startPfn: number, count: number): Promise<NativeRange>;
  /** alloc() writing to `out` in RANGE_FIELDS order. */
  allocInto(target: number, index: number, flags: number, startPfn: number, count: number, out: Float64Array): void;
  free(target: number, startPfn: number, count: number): NativeRange;
  freeAsync(target: number, startPfn: number, count: number): Promise<NativeRange>;
  /** free() writing to `out` in RANGE_FIELDS order. */
  freeInto(target: number, startPfn: number, count: number, out: Float64Array): void;
}

type NumericKeys<T> = { [K in keyof T]: T[K] extends number ? K : never }[keyof T];

/** Where each number of an area's info is in an Into result. */
export type AreaInfoIndex = Record<NumericKeys<NativeAreaInfo>, number>;
/** Where each number of a range is in an Into result. */
export type RangeIndex = Record<keyof NativeRange, number>;

export interface NativeConstants {
  /** The order of the Into forms' numbers. */
  readonly AREA_INFO_FIELDS: readonly string[];
  readonly RANGE_FIELDS: readonly string[];
  readonly ABI_VERSION: number;
  readonly DEVICE: string;
  readonly NAME_LEN: number;
  readonly MAX_AREAS: number;
  readonly PFN_MAX: number;
  readonly TARGET_GCMA: number;
  readonly TARGET_CMA: number;
  readonly REGISTER_FROM_CMA: number;
  readonly ALLOC_ANYWHERE: number;
  readonly ALLOC_COMPOUND: number;
  readonly ALLOC_DMA: number;
  readonly AREA_DEFAULT: number;
  readonly AREA_GUARANTEED: number;
  readonly FEATURE_GCMA: number;
  readonly FEATURE_CMA: number;
  readonly FEATURE_CMA_AREAS: number;
}

/** An mmap of a dma-buf: the Buffer over it, and the handle unmap() takes. */
export interface NativeMapping {
  buffer: Buffer;
  handle: unknown;
}

/** dma-buf heaps and dma-bufs, through linux/dma-heap.h and linux/dma-buf.h. */
export interface NativeDmaBuf {
  /** DMA_HEAP_IOCTL_ALLOC on the heap node at `path`: the dma-buf's fd. */
  alloc(path: string, len: number, fdFlags: number, heapFlags: number): number;
  allocAsync(path: string, len: number, fdFlags: number, heapFlags: number): Promise<number>;
  map(fd: number, len: number, writable: boolean): NativeMapping;
  /** munmap; the Buffer is detached (length 0). */
  unmap(handle: unknown, buffer: Buffer): void;
  /** DMA_BUF_IOCTL_SYNC. */
  sync(fd: number, flags: number): void;
  /** DMA_BUF_SET_NAME_B. */
  setName(fd: number, name: string): void;
  constants: {
    readonly DMA_BUF_SYNC_READ: number;
    readonly DMA_BUF_SYNC_WRITE: number;
    readonly DMA_BUF_SYNC_RW: number;
    readonly DMA_BUF_SYNC_START: number;
    readonly DMA_BUF_SYNC_END: number;
    readonly DMA_BUF_NAME_LEN: number;
    readonly DMA_HEAP_VALID_FD_FLAGS: number;
    readonly O_RDONLY: number;
    readonly O_RDWR: number;
    readonly O_CLOEXEC: number;
  };
}

export interface NativeBinding {
  Device: {
    new (path: string): NativeDevice;
    open(path: string): Promise<NativeDevice>;
  };
  constants: NativeConstants;
  dmaBuf: NativeDmaBuf;
  /** The code an errno's error gets: Node's name for it, 'UNKNOWN' for none. */
  errnoName(errno: number): string;
}

/** Where node-gyp (build/Release) or a debug build (build/Debug) put it. */
export function bindingCandidates(root = projectRoot()): string[] {
  return ['Release', 'Debug'].map((d) => join(root, 'build', d, 'gcma.node'));
}

let binding: NativeBinding | undefined;

/** The addon's field order as an index, checked to name every field `want` lists. */
function fieldIndex<K extends string>(fields: readonly string[], want: readonly K[]): Record<K, number> {
  const index = Object.fromEntries(fields.map((f, i) => [f, i])) as Record<string, number>;
  const missing = want.filter((k) => index[k] === undefined);
  if (missing.length || fields.length !== want.length) throw new Error(`the addon's result fields (${fields.join(', ')}) are not these: ${want.join(', ')}: rebuild it`);
  return index as Record<K, number>;
}

let indices: { areaInfo: AreaInfoIndex; range: RangeIndex } | undefined;

/** Where the Into forms put each number (the addon says, once). */
export function resultIndex(): { areaInfo: AreaInfoIndex; range: RangeIndex } {
  if (!indices) {
    const c = native().constants;
    indices = {
      areaInfo: fieldIndex(c.AREA_INFO_FIELDS, ['target', 'index', 'basePfn', 'count', 'allocated', 'cached', 'allocations', 'failures', 'owned', 'flags']),
      range: fieldIndex(c.RANGE_FIELDS, ['target', 'index', 'startPfn', 'count', 'kernelNs']),
    };
  }
  return indices;
}

export function native(): NativeBinding {
  if (!binding) {
    const path = process.env['GCMA_ADDON'] ?? bindingCandidates().find((p) => existsSync(p));
    if (!path) {
      throw new Error(`the gcma addon is not built (looked for ${bindingCandidates().join(', ')}): run npm install, or npx node-gyp rebuild`);
    }
    binding = require(path) as NativeBinding;
  }
  return binding;
}
