/**
 * The object API over /dev/gcma_test: a {@link Device} (one open file),
 * its {@link Area}s, and {@link Allocation}s, handles that free themselves
 * with `using` / `await using`. Everything the kernel can refuse is checked
 * here first where it can be known (names, counts, alignment, the area's
 * bounds); what only the kernel knows still comes back as a typed error.
 *
 * Ownership follows the device: ranges belong to the Device that
 * allocated them, and closing it frees all of them.
 */
import {
  AlreadyFreedError,
  argTypeError,
  argValueError,
  callNative,
  callNativeAsync,
  fromNative,
  GcmaError,
  checkInteger,
  NameTooLongError,
  NoDeviceError,
  NotFoundError,
  NotSupportedError,
  OutOfAreaError,
  outOfRange,
  PagesLostError,
  type Description,
} from './errors';
import { native, resultIndex, type NativeAreaInfo, type NativeDevice } from './native';
import { formatPfn, PFN_MAX, PfnRange } from './pfn-range';

export const DEFAULT_DEVICE_PATH = '/dev/gcma_test';
/** Bytes of an area name, its NUL excluded. */
export const MAX_NAME_BYTES = 31;

/** Where ranges come from: a GCMA area, or a CMA area (through cma_alloc()). */
export type Target = 'gcma' | 'cma';

/**
 * What holds an area's pages while they are free. `cma`: a plain CMA area,
 * lent to the page allocator (movable pages, migrated away on allocation).
 * `gcma`: a GCMA area registered at run time. `cma+gcma`: a guaranteed CMA
 * area (cma=SIZE,guaranteed or gcma=NAME:SIZE at boot), seen as the CMA area
 * (allocated from through cma_alloc()) or as the GCMA area backing it
 * (same name and pages; the module allocates from it only through CMA).
 */
export type Backing = 'cma' | 'gcma' | 'cma+gcma';

/** An area's statistics, read from the kernel at the time of the call. */
export interface AreaStats {
  /** Pages allocated (for CMA: by the test module, all files together). */
  allocated: number;
  /** Pages not allocated. */
  free: number;
  /** Pages holding cleancache copies (CMA: its GCMA backing's; 0 for a plain area). */
  cached: number;
  /** Successful allocations since the area was registered (CMA: since load). */
  allocations: number;
  /** Allocations that found pages busy (CMA: allocations that failed). */
  failures: number;
  /** Pages this Device owns in the area. */
  owned: number;
}

/** Where and how {@link Area.alloc} places a range. */
export interface AllocOptions {
  /** First PFN; by default the module finds room (first fit). */
  at?: number;
  /** One compound page: a power-of-two count, naturally aligned. */
  compound?: boolean;
  /**
   * CMA areas only: allocate with dma_alloc_coherent() on the module's
   * device that uses the area (dev->cma_area), as a driver would. dma-direct
   * aligns the range to its size rounded up to a power of two (at most
   * 2^CONFIG_CMA_ALIGNMENT pages) and zeroes it (in `kernelNs`). What the
   * area cannot serve fails (OutOfMemoryError), though dma-direct took
   * pages from the page allocator instead. Freed whole only.
   */
  dma?: boolean;
}

/** What a free returns. */
export interface FreeResult {
  /** The pages freed. */
  range: PfnRange;
  /** Time spent in gcma_free_range() / cma_release() / dma_free_coherent(), measured in the kernel. */
  kernelNs: number;
}

/**
 * Closes the file of a Device collected while open (the kernel then frees
 * every range it owned), with a warning, as Node does for a FileHandle.
 */
const unclosedDevices = new FinalizationRegistry<NativeDevice>((handle) => {
  if (handle.closed) return;
  handle.close();
  process.emitWarning(`a Device of ${handle.path} was closed on garbage collection, freeing what it owned: close it (or use \`using\`)`, {
    code: 'GCMA_DEVICE_UNCLOSED',
  });
});

/** At most this many commands of one Device wait on libuv's thread pool at once. */
export const DEFAULT_MAX_IN_FLIGHT = 2;

function targetNumber(target: Target): number {
  const c = native().constants;
  return target === 'gcma' ? c.TARGET_GCMA : c.TARGET_CMA;
}

function checkCount(pages: unknown): number {
  return checkInteger('pages', pages, 1, PFN_MAX + 1);
}

/** Refuse the names the kernel would refuse. */
export function checkAreaName(name: unknown): string {
  if (typeof name !== 'string') throw argTypeError('name', 'string', name);
  if (name.length === 0 || name.includes('/') || name.includes('\0')) throw argValueError('name', "must be a non-empty string without '/' or NUL", name);
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NAME_BYTES) {
    throw new NameTooLongError(`area name ${JSON.stringify(name)} is ${bytes} bytes; at most ${MAX_NAME_BYTES}`, { code: 'ENAMETOOLONG' });
  }
  return name;
}

/** A small FIFO semaphore: async commands beyond the limit wait their turn. */
class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** Options of {@link Device.register}. */
export interface RegisterOptions {
  /**
   * Carve the area out of the default CMA area, for good, instead of taking
   * it from the page allocator: the same memory then serves either as CMA
   * or as GCMA, which is how the benchmark compares the two.
   */
  fromCma?: boolean;
}

/** Options of {@link Device.open}. */
export interface DeviceOptions {
  /** Async commands in flight at once (default {@link DEFAULT_MAX_IN_FLIGHT}). */
  maxInFlight?: number;
}

/**
 * One open file of /dev/gcma_test. Ranges allocated through it belong to
 * it; closing it frees them all.
 */
export class Device implements Disposable {
  /** The device node. */
  readonly path: string;
  /** The module's ABI version (checked equal to the addon's at open). */
  readonly abiVersion: number;
  /** Bytes per page, from the kernel. */
  readonly pageSize: number;
  /** GCMA's area limit, system-wide. */
  readonly maxAreas: number;
  /** The kernel has GCMA. */
  readonly hasGcma: boolean;
  /** The kernel has a default CMA area (booted with cma=). */
  readonly hasCma: boolean;
  /** The module reaches every CMA area, tells their backing, and allocates through DMA. */
  readonly hasCmaAreas: boolean;
  /** @internal */
  readonly handle: NativeDevice;
  /** @internal The synchronous hot calls' numbers (the addon's Into forms): one call at a time uses it. */
  readonly results = new Float64Array(16);
  private readonly gate: Gate;

  private constructor(handle: NativeDevice, opts: DeviceOptions) {
    const limit = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    let v;
    try {
      checkInteger('opts.maxInFlight', limit, 1, Number.MAX_SAFE_INTEGER);
      v = callNative(`query ${handle.path}`, () => handle.version());
    } catch (err) {
      handle.close();
      throw err;
    }
    const c = native().constants;
    if (v.abiVersion !== c.ABI_VERSION) {
      handle.close();
      throw new GcmaError(`${handle.path} speaks ABI ${v.abiVersion}, this addon ${c.ABI_VERSION}: rebuild both from one checkout`, {
        code: 'ERR_GCMA_ABI',
      });
    }
    this.handle = handle;
    this.path = handle.path;
    this.abiVersion = v.abiVersion;
    this.pageSize = v.pageSize;
    this.maxAreas = v.maxAreas;
    this.hasGcma = (v.features & c.FEATURE_GCMA) !== 0;
    this.hasCma = (v.features & c.FEATURE_CMA) !== 0;
    this.hasCmaAreas = (v.features & c.FEATURE_CMA_AREAS) !== 0;
    this.gate = new Gate(limit);
    unclosedDevices.register(this, handle, this);
  }

  /** Open the device (synchronously). */
  static open(path = DEFAULT_DEVICE_PATH, opts: DeviceOptions = {}): Device {
    const Native = native().Device;
    return new Device(callNative(`open ${path}`, () => new Native(path)), opts);
  }

  /** Open the device without blocking the event loop. */
  static async openAsync(path = DEFAULT_DEVICE_PATH, opts: DeviceOptions = {}): Promise<Device> {
    const Native = native().Device;
    const handle = await callNativeAsync(`open ${path}`, () => Native.open(path));
    return new Device(handle, opts);
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.handle.closed;
  }

  /**
   * Close the device: the kernel frees every range it still owns. Safe to
   * call twice; commands in flight finish first.
   */
  close(): void {
    unclosedDevices.unregister(this);
    this.handle.close();
  }

  /** `using dev = Device.open()`: closes it. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal Run an async command through the gate, errors typed. */
  callAsync<T>(what: Description, fn: () => Promise<T>): Promise<T> {
    return this.gate.run(() => callNativeAsync(what, fn));
  }

  /** Every area of a target, in the kernel's order, until the first missing index. */
  private list(target: Target): Area[] {
    const out: Area[] = [];
    for (let index = 0; index < this.maxAreas; index++) {
      try {
        out.push(this.areaFromInfo(this.handle.areaInfo(targetNumber(target), index)));
      } catch (err) {
        const typed = fromNative(err, `read ${target.toUpperCase()} area ${index}`);
        if (typed instanceof NotFoundError) break;
        throw typed;
      }
    }
    return out;
  }

  /** Every GCMA area of the system, in registration order (those backing guaranteed CMA areas included). */
  areas(): Area[] {
    return this.list('gcma');
  }

  /** Every CMA area of the system, in the order the kernel declared them. */
  cmaAreas(): Area[] {
    if (!this.hasCmaAreas) return this.hasCma ? [this.cmaArea()] : [];
    return this.list('cma');
  }

  /** A GCMA area by name or index. */
  area(which: string | number): Area {
    if (typeof which === 'number') {
      return this.areaFromInfo(callNative(`read GCMA area ${which}`, () => this.handle.areaInfo(targetNumber('gcma'), which)));
    }
    const found = this.areas().find((a) => a.name === which);
    if (!found) throw new NotFoundError(`no GCMA area named ${JSON.stringify(which)} (see gcma areas)`, { code: 'ENOENT' });
    return found;
  }

  /**
   * A CMA area by name or index; without an argument the default one
   * (cma=), which DMA without a device area of its own and the CMA heap use.
   */
  cmaArea(which?: string | number): Area {
    if (typeof which === 'number') {
      return this.areaFromInfo(callNative(`read CMA area ${which}`, () => this.handle.areaInfo(targetNumber('cma'), which)));
    }
    if (which === undefined && !this.hasCma) {
      throw new NoDeviceError('this kernel has no default CMA area (boot with cma=SIZE)', { code: 'ENODEV' });
    }
    // The default area is index 0; an older module reaches no other.
    const found = (this.hasCmaAreas ? this.list('cma') : [this.cmaArea(0)]).find((a) =>
      which === undefined ? a.isDefault || !this.hasCmaAreas : a.name === which,
    );
    if (!found) throw new NotFoundError(`no CMA area named ${JSON.stringify(which)} (see gcma areas)`, { code: 'ENOENT' });
    return found;
  }

  /**
   * Take `pages` free contiguous pages from the page allocator and register
   * them as GCMA area `name` (or carve them out of the CMA area: see
   * {@link RegisterOptions}). Areas are permanent: they outlive this Device
   * and the module, until reboot.
   */
  register(name: string, pages: number, opts: RegisterOptions = {}): Area {
    const { flags, what } = this.registerRequest(name, pages, opts);
    const r = callNative(what, () => this.handle.register(name, pages, flags));
    return this.area(r.index);
  }

  /** {@link register} on a worker thread. */
  async registerAsync(name: string, pages: number, opts: RegisterOptions = {}): Promise<Area> {
    const { flags, what } = this.registerRequest(name, pages, opts);
    const r = await this.callAsync(what, () => this.handle.registerAsync(name, pages, flags));
    return this.areaFromInfo(await this.callAsync(`read GCMA area ${r.index}`, () => this.handle.areaInfoAsync(targetNumber('gcma'), r.index)));
  }

  private registerRequest(name: string, pages: number, opts: RegisterOptions): { flags: number; what: string } {
    checkAreaName(name);
    checkCount(pages);
    const fromCma = opts.fromCma ?? false;
    if (fromCma && !this.hasCma) {
      throw new NoDeviceError(`cannot carve GCMA area ${JSON.stringify(name)} out of the CMA area: the kernel has none (boot with cma=SIZE)`, {
        code: 'ENODEV',
      });
    }
    return {
      flags: fromCma ? native().constants.REGISTER_FROM_CMA : 0,
      what: `register GCMA area ${JSON.stringify(name)} of ${pages} pages${fromCma ? ' from the CMA area' : ''}`,
    };
  }

  private areaFromInfo(info: NativeAreaInfo): Area {
    const c = native().constants;
    const target: Target = info.target === c.TARGET_CMA ? 'cma' : 'gcma';
    const flags = this.hasCmaAreas ? info.flags : target === 'cma' ? c.AREA_DEFAULT : 0;
    const backing: Backing = flags & c.AREA_GUARANTEED ? 'cma+gcma' : target;
    return new Area(this, target, info.index, info.name, PfnRange.of(info.basePfn, info.count), backing, (flags & c.AREA_DEFAULT) !== 0);
  }
}

/** A GCMA area, or a CMA area, as seen through one {@link Device}. */
export class Area {
  /** @internal */
  constructor(
    /** The Device this view of the area goes through. */
    readonly device: Device,
    /** GCMA or CMA. */
    readonly target: Target,
    /** The area's index: GCMA areas in registration order; CMA areas in the kernel's order. */
    readonly index: number,
    /** Its name in /sys/kernel/mm/gcma (CMA: in /sys/kernel/mm/cma). */
    readonly name: string,
    /** Its page frames. */
    readonly range: PfnRange,
    /** What holds its free pages. */
    readonly backing: Backing,
    /** The default CMA area (cma=). */
    readonly isDefault: boolean,
  ) {
    Object.freeze(this);
  }

  /** Pages in the area. */
  get pages(): number {
    return this.range.count;
  }

  private describe(): string {
    return `${this.target === 'gcma' ? 'GCMA' : 'CMA'} area ${JSON.stringify(this.name)}`;
  }

  /** Statistics now, from the kernel. */
  stats(): AreaStats {
    const out = this.device.results;
    callNative(
      () => `read ${this.describe()}`,
      () => this.device.handle.areaInfoInto(targetNumber(this.target), this.index, out),
    );
    const f = resultIndex().areaInfo;
    const count = out[f.count]!;
    const allocated = out[f.allocated]!;
    return { allocated, free: count - allocated, cached: out[f.cached]!, allocations: out[f.allocations]!, failures: out[f.failures]!, owned: out[f.owned]! };
  }

  /** {@link stats} on a worker thread. */
  async statsAsync(): Promise<AreaStats> {
    return this.toStats(
      await this.device.callAsync(() => `read ${this.describe()}`, () => this.device.handle.areaInfoAsync(targetNumber(this.target), this.index)),
    );
  }

  private toStats(i: NativeAreaInfo): AreaStats {
    return { allocated: i.allocated, free: i.count - i.allocated, cached: i.cached, allocations: i.allocations, failures: i.failures, owned: i.owned };
  }

  /** Check what can be checked here; the native call's arguments and a description. */
  private allocRequest(pages: number, opts: AllocOptions): { args: [number, number, number, number, number]; what: () => string } {
    checkCount(pages);
    const c = native().constants;
    const compound = opts.compound ?? false;
    const dma = opts.dma ?? false;
    const where = (): string => (opts.at === undefined ? 'anywhere' : `at ${formatPfn(opts.at)}`);
    const what = (): string => `allocate ${pages}${compound ? ' compound' : ''} pages ${where()} in ${this.describe()}${dma ? ' with dma_alloc_coherent()' : ''}`;
    if (this.target === 'cma' && (opts.at !== undefined || compound)) {
      throw new NotSupportedError(`cannot ${what()}: a CMA area only allocates anywhere, without compound pages`, { code: 'ENOTSUP' });
    }
    if (dma && (this.target !== 'cma' || !this.device.hasCmaAreas)) {
      throw new NotSupportedError(`cannot ${what()}: only CMA areas have a device to allocate through (and only with a module that has one)`, {
        code: 'ENOTSUP',
      });
    }
    if (this.target === 'gcma' && this.backing === 'cma+gcma') {
      throw new NotSupportedError(`cannot ${what()}: it backs the CMA area of its name, whose bitmap owns it; allocate from that (gcma alloc cma:${this.name})`, {
        code: 'ENOTSUP',
      });
    }
    if (compound && (pages & (pages - 1)) !== 0) {
      throw outOfRange('pages', 'a power of two for a compound allocation', pages);
    }
    if (opts.at !== undefined) {
      const range = PfnRange.of(opts.at, Math.min(pages, PFN_MAX + 1 - opts.at));
      if (!this.range.contains(range) || range.count !== pages) {
        throw new OutOfAreaError(`cannot ${what()}: ${range.format()} is not inside the area (${this.range.format()})`, { code: 'ERANGE' });
      }
      if (compound && opts.at % pages !== 0) {
        throw outOfRange('opts.at', `a multiple of ${pages} (a compound range starts at a multiple of its size)`, opts.at);
      }
    }
    const flags = (opts.at === undefined ? c.ALLOC_ANYWHERE : 0) | (compound ? c.ALLOC_COMPOUND : 0) | (dma ? c.ALLOC_DMA : 0);
    return { args: [targetNumber(this.target), this.index, flags, opts.at ?? 0, pages], what };
  }

  /** Allocate `pages` pages: anywhere (first fit) or at `opts.at`. */
  alloc(pages: number, opts: AllocOptions = {}): Allocation {
    const { args, what } = this.allocRequest(pages, opts);
    const out = this.device.results;
    callNative(what, () => this.device.handle.allocInto(...args, out));
    const f = resultIndex().range;
    return new Allocation(this, out[f.startPfn]!, out[f.count]!, out[f.kernelNs]!, opts.compound ?? false, opts.dma ?? false);
  }

  /** {@link alloc} on a worker thread: a long allocation does not block the event loop. */
  async allocAsync(pages: number, opts: AllocOptions = {}): Promise<Allocation> {
    const { args, what } = this.allocRequest(pages, opts);
    const r = await this.device.callAsync(what, () => this.device.handle.allocAsync(...args));
    return new Allocation(this, r.startPfn, r.count, r.kernelNs, opts.compound ?? false, opts.dma ?? false);
  }

  /**
   * Free part or all of one allocation of this Device, whatever handle it
   * came from (a compound one only whole). Allocation.free() is the usual way.
   */
  freeRange(range: PfnRange): FreeResult {
    const what = (): string => `free ${range.format()} in ${this.describe()}`;
    const out = this.device.results;
    callNative(what, () => this.device.handle.freeInto(targetNumber(this.target), range.start, range.count, out));
    return { range, kernelNs: out[resultIndex().range.kernelNs]! };
  }

  /** {@link freeRange} on a worker thread. */
  async freeRangeAsync(range: PfnRange): Promise<FreeResult> {
    const what = (): string => `free ${range.format()} in ${this.describe()}`;
    const r = await this.device.callAsync(what, () => this.device.handle.freeAsync(targetNumber(this.target), range.start, range.count));
    return { range, kernelNs: r.kernelNs };
  }
}

/**
 * A range allocated by {@link Area.alloc}: free it with free(), or let
 * `using` / `await using` do it.
 */
export class Allocation implements Disposable, AsyncDisposable {
  /** The pages. */
  readonly range: PfnRange;
  /** Time spent in gcma_alloc_range() / cma_alloc() / dma_alloc_coherent(), measured in the kernel. */
  readonly kernelNs: number;
  private state: 'held' | 'freeing' | 'freed' = 'held';

  /** @internal */
  constructor(
    /** The area it came from. */
    readonly area: Area,
    start: number,
    count: number,
    kernelNs: number,
    /** One compound page. */
    readonly compound: boolean,
    /** From dma_alloc_coherent() (see {@link AllocOptions.dma}). */
    readonly dma: boolean = false,
  ) {
    this.range = PfnRange.of(start, count);
    this.kernelNs = kernelNs;
  }

  /** free() was called (or is running). */
  get freed(): boolean {
    return this.state !== 'held';
  }

  private take(): void {
    if (this.state !== 'held') {
      throw new AlreadyFreedError(`${this.range.format()} in area ${JSON.stringify(this.area.name)} was freed already`, {
        code: 'ERR_GCMA_ALREADY_FREED',
      });
    }
    this.state = 'freeing';
  }

  /** After a free threw: EIO means the kernel freed the range and kept its bad pages. */
  private failed(err: unknown): unknown {
    this.state = err instanceof PagesLostError ? 'freed' : 'held';
    return err;
  }

  /** Free the whole range. A second call throws AlreadyFreedError, without a kernel call. */
  free(): FreeResult {
    this.take();
    try {
      const r = this.area.freeRange(this.range);
      this.state = 'freed';
      return r;
    } catch (err) {
      throw this.failed(err);
    }
  }

  /** {@link free} on a worker thread. */
  async freeAsync(): Promise<FreeResult> {
    this.take();
    try {
      const r = await this.area.freeRangeAsync(this.range);
      this.state = 'freed';
      return r;
    } catch (err) {
      throw this.failed(err);
    }
  }

  /** `using`: free unless freed already, or the Device is closed (which freed it). */
  [Symbol.dispose](): void {
    if (this.state === 'held' && !this.area.device.closed) this.free();
  }

  /** `await using`: freeAsync() unless freed already or the Device is closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.state === 'held' && !this.area.device.closed) await this.freeAsync();
  }
}
