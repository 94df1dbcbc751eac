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
  alloc(target: number, index: number, flags: number, startPfn: number, count: number): NativeRange;
  allocAsync(target: number, index: number, flags: number, startPfn: number, count: number): Promise<NativeRange>;
  free(target: number, startPfn: number, count: number): NativeRange;
  freeAsync(target: number, startPfn: number, count: number): Promise<NativeRange>;
}

export interface NativeConstants {
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
}

/** Where node-gyp (build/Release) or a debug build (build/Debug) put it. */
export function bindingCandidates(root = projectRoot()): string[] {
  return ['Release', 'Debug'].map((d) => join(root, 'build', d, 'gcma.node'));
}

let binding: NativeBinding | undefined;

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
