/**
 * dma-buf heaps (/dev/dma_heap/<name>) and the dma-bufs they allocate,
 * through the kernel's standard uapi (linux/dma-heap.h, linux/dma-buf.h):
 * any heap of any kernel that has them, this project's (a CMA heap per CMA
 * area, GCMA-backed ones included) or a vendor's.
 *
 * ```ts
 * const heap = DmaHeap.open('guaranteed');
 * using buf = heap.alloc(4 << 20);
 * const view = buf.map();
 * buf.sync({ write: true, start: true });
 * view.fill(0xa5);
 * buf.sync({ write: true, end: true });
 * ```
 */
import { closeSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { argTypeError, argValueError, callNative, callNativeAsync, checkInteger, DeviceMissingError, GcmaError, HEAP_HINTS } from './errors';
import { native, type NativeMapping } from './native';

/** Where the kernel puts the heaps' nodes. */
export const DMA_HEAP_DIR = '/dev/dma_heap';

/** Flags of {@link DmaHeap.alloc}. */
export interface HeapAllocOptions {
  /**
   * The dma-buf fd's flags (fd_flags): O_RDWR | O_CLOEXEC by default, as
   * the kernel's selftest asks; O_RDONLY gives a buffer that maps read-only.
   */
  fdFlags?: number;
  /** The heap's flags (heap_flags): 0, the only value upstream heaps accept. */
  heapFlags?: number;
}

/** Which accesses a {@link DmaBuf.sync} brackets, and which end of them. */
export interface SyncOptions {
  /** CPU reads (DMA_BUF_SYNC_READ). */
  read?: boolean;
  /** CPU writes (DMA_BUF_SYNC_WRITE); neither read nor write means both. */
  write?: boolean;
  /** Begin CPU access (DMA_BUF_SYNC_START); the default. */
  start?: boolean;
  /** End CPU access (DMA_BUF_SYNC_END). */
  end?: boolean;
}

/** A dma-buf heap: a name and its node. Holds no file: each allocation opens the node. */
export class DmaHeap {
  /** The heap's name, e.g. 'system', 'reserved', 'guaranteed'. */
  readonly name: string;
  /** Its node, /dev/dma_heap/<name>. */
  readonly path: string;

  private constructor(name: string, path: string) {
    this.name = name;
    this.path = path;
  }

  /** The heaps' names, sorted; [] when the kernel has no dma-buf heaps. */
  static list(dir = DMA_HEAP_DIR): string[] {
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  }

  /** The heap of that name; throws a DeviceMissingError (ENOENT) when there is none. */
  static open(name: string, dir = DMA_HEAP_DIR): DmaHeap {
    if (typeof name !== 'string') throw argTypeError('name', 'string', name);
    if (!name || name.includes('/')) throw argValueError('name', "must be a non-empty string without '/'", name);
    const path = join(dir, name);
    if (!existsSync(path)) {
      throw new DeviceMissingError(`cannot open heap ${name}: ENOENT: no such file, open ${path} (${HEAP_HINTS.open['ENOENT']})`, {
        code: 'ENOENT',
        errno: -2,
        syscall: 'open',
        path,
      });
    }
    return new DmaHeap(name, path);
  }

  private args(bytes: number, opts: HeapAllocOptions): [string, number, number, number] {
    const c = native().dmaBuf.constants;
    return [this.path, checkInteger('bytes', bytes, 0, Number.MAX_SAFE_INTEGER), opts.fdFlags ?? c.O_RDWR | c.O_CLOEXEC, opts.heapFlags ?? 0];
  }

  /** DMA_HEAP_IOCTL_ALLOC: a dma-buf of `bytes` (the heap rounds up to pages). */
  alloc(bytes: number, opts: HeapAllocOptions = {}): DmaBuf {
    const args = this.args(bytes, opts);
    const fd = callNative(`allocate ${bytes} bytes from heap ${this.name}`, () => native().dmaBuf.alloc(...args), HEAP_HINTS);
    return new DmaBuf(this, fd, bytes, args[2]);
  }

  /** {@link alloc} on libuv's thread pool. */
  async allocAsync(bytes: number, opts: HeapAllocOptions = {}): Promise<DmaBuf> {
    const args = this.args(bytes, opts);
    const fd = await callNativeAsync(`allocate ${bytes} bytes from heap ${this.name}`, () => native().dmaBuf.allocAsync(...args), HEAP_HINTS);
    return new DmaBuf(this, fd, bytes, args[2]);
  }
}

/** Closes the fd of a DmaBuf collected while open, with a warning, as Node does for a FileHandle. */
const unclosed = new FinalizationRegistry<{ fd: number; heap: string }>(({ fd, heap }) => {
  try {
    closeSync(fd);
  } catch {
    // closed behind our back: nothing left to give back
  }
  process.emitWarning(`a dma-buf of heap ${heap} (fd ${fd}) was closed on garbage collection: close it (or use \`using\`)`, { code: 'GCMA_DMA_BUF_UNCLOSED' });
});

/**
 * A dma-buf: its fd, until {@link close} (or `using`) closes it, which gives
 * the buffer back to its heap once nothing else holds it (a mapping, another
 * process's fd, a device's attachment).
 */
export class DmaBuf implements Disposable {
  /** The heap it came from. */
  readonly heap: DmaHeap;
  /** The bytes asked for. */
  readonly size: number;
  private fdOrClosed: number | null;
  private readonly writable: boolean;
  private mapping: NativeMapping | null = null;

  /** @internal */
  constructor(heap: DmaHeap, fd: number, size: number, fdFlags: number) {
    this.heap = heap;
    this.fdOrClosed = fd;
    this.size = size;
    const c = native().dmaBuf.constants;
    this.writable = (fdFlags & c.O_RDWR) === c.O_RDWR;
    unclosed.register(this, { fd, heap: heap.name }, this);
  }

  /** The file descriptor; throws once closed. */
  get fd(): number {
    if (this.fdOrClosed === null) throw new GcmaError(`the dma-buf of heap ${this.heap.name} is closed`, { code: 'ERR_GCMA_DMA_BUF_CLOSED' });
    return this.fdOrClosed;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.fdOrClosed === null;
  }

  /**
   * A Buffer over an mmap of the whole dma-buf (writable unless it was
   * allocated O_RDONLY); the same one until {@link unmap} or close. Once
   * unmapped it has length 0: it never reaches unmapped memory.
   */
  map(): Buffer {
    if (!this.mapping) {
      const fd = this.fd;
      this.mapping = callNative(`map the dma-buf of heap ${this.heap.name}`, () => native().dmaBuf.map(fd, this.size, this.writable), HEAP_HINTS);
    }
    return this.mapping.buffer;
  }

  /** Unmap what {@link map} mapped (nothing if it did not). */
  unmap(): void {
    if (this.mapping) {
      native().dmaBuf.unmap(this.mapping.handle, this.mapping.buffer);
      this.mapping = null;
    }
  }

  /** DMA_BUF_IOCTL_SYNC: bracket CPU access to the mapping (read and write unless told). */
  sync(opts: SyncOptions = {}): void {
    const c = native().dmaBuf.constants;
    if (opts.start && opts.end) throw argValueError('opts', 'must not ask for both start and end', opts);
    const rw = (opts.read ? c.DMA_BUF_SYNC_READ : 0) | (opts.write ? c.DMA_BUF_SYNC_WRITE : 0) || c.DMA_BUF_SYNC_RW;
    const fd = this.fd;
    callNative(`sync the dma-buf of heap ${this.heap.name}`, () => native().dmaBuf.sync(fd, rw | (opts.end ? c.DMA_BUF_SYNC_END : c.DMA_BUF_SYNC_START)), HEAP_HINTS);
  }

  /** DMA_BUF_SET_NAME_B: the name /proc/<pid>/fdinfo and debugfs show (at most 31 bytes). */
  setName(name: string): void {
    const fd = this.fd;
    callNative(`name the dma-buf of heap ${this.heap.name}`, () => native().dmaBuf.setName(fd, name), HEAP_HINTS);
  }

  /** Unmap and close the fd; idempotent. */
  close(): void {
    this.unmap();
    if (this.fdOrClosed !== null) {
      const fd = this.fdOrClosed;
      this.fdOrClosed = null;
      unclosed.unregister(this);
      closeSync(fd);
    }
  }

  /** {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
