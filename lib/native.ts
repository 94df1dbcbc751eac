/**
 * The addon (addon/, built by node-gyp on `npm install`, or by cmake-js):
 * one method per ioctl of include/uapi/linux/gcma_test.h, synchronous and
 * Promise-returning. Loaded on first use, so that what does not touch the
 * device works without it.
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

export interface NativeBinding {
  Device: {
    new (path: string): NativeDevice;
    open(path: string): Promise<NativeDevice>;
  };
  constants: NativeConstants;
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
