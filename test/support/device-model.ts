/**
 * A model of /dev/gcma_test for one GCMA area: which pages each open file
 * owns, and what the module answers to an allocation or a free, errno
 * included, following include/uapi/linux/gcma_test.h and the module's
 * order of checks. The model-based test drives the real device and this
 * model with the same random operations and compares every answer.
 */

export const MAX_ORDER_PAGES = 1024; // x86: MAX_PAGE_ORDER 10

export interface ModelAlloc {
  file: number;
  start: number;
  count: number;
  compound: boolean;
}

export type Answer = { ok: true; start: number } | { ok: false; code: string };

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;
const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

export class DeviceModel {
  /** Everything handed out in the area, sorted by start. */
  readonly allocs: ModelAlloc[] = [];

  constructor(
    readonly base: number,
    readonly count: number,
  ) {}

  get end(): number {
    return this.base + this.count;
  }

  allocated(): number {
    return this.allocs.reduce((n, a) => n + a.count, 0);
  }

  owned(file: number): number {
    return this.allocs.filter((a) => a.file === file).reduce((n, a) => n + a.count, 0);
  }

  private insert(a: ModelAlloc): void {
    const i = this.allocs.findIndex((x) => x.start > a.start);
    this.allocs.splice(i < 0 ? this.allocs.length : i, 0, a);
  }

  /** GCMA_TEST_IOC_ALLOC: at `start`, or anywhere when start is null. */
  alloc(file: number, start: number | null, count: number, compound: boolean): Answer {
    if (count < 1) return { ok: false, code: 'EINVAL' };
    if (compound && (!isPow2(count) || count > MAX_ORDER_PAGES || (start !== null && start % count !== 0))) return { ok: false, code: 'EINVAL' };
    let at: number;
    if (start === null) {
      // First fit, around what is handed out, aligned for compound pages.
      const align = compound ? count : 1;
      at = alignUp(this.base, align);
      for (const a of this.allocs) {
        if (a.start + a.count <= at) continue;
        if (a.start >= this.end || a.start >= at + count) break;
        at = Math.max(at, alignUp(a.start + a.count, align));
      }
      if (at >= this.end || this.end - at < count) return { ok: false, code: 'ENOMEM' };
    } else {
      if (start < this.base || start > this.end || count > this.end - start) return { ok: false, code: 'ERANGE' };
      if (this.allocs.some((a) => a.start < start + count && start < a.start + a.count)) return { ok: false, code: 'EBUSY' };
      at = start;
    }
    this.insert({ file, start: at, count, compound });
    return { ok: true, start: at };
  }

  /** GCMA_TEST_IOC_FREE of [start, start + count). */
  free(file: number, start: number, count: number): Answer {
    if (count < 1 || start < 0) return { ok: false, code: 'EINVAL' };
    const end = start + count;
    let first: ModelAlloc | undefined;
    for (const a of this.allocs) {
      if (a.start + a.count <= start) continue;
      if (a.start >= end) break;
      if (a.file !== file) return { ok: false, code: 'EACCES' };
      first ??= a;
    }
    if (!first) return { ok: false, code: 'ENOENT' };
    if (first.start > start || first.start + first.count < end) return { ok: false, code: 'EINVAL' };
    if (first.compound && (first.start !== start || first.count !== count)) return { ok: false, code: 'EINVAL' };
    const i = this.allocs.indexOf(first);
    const pieces: ModelAlloc[] = [];
    if (first.start < start) pieces.push({ ...first, count: start - first.start });
    if (end < first.start + first.count) pieces.push({ ...first, start: end, count: first.start + first.count - end });
    this.allocs.splice(i, 1, ...pieces);
    return { ok: true, start };
  }

  /** The file closed: everything it owned is freed. */
  close(file: number): void {
    for (let i = this.allocs.length - 1; i >= 0; i--) if (this.allocs[i]!.file === file) this.allocs.splice(i, 1);
  }

  /** The allocations a file owns, in PFN order. */
  of(file: number): ModelAlloc[] {
    return this.allocs.filter((a) => a.file === file);
  }
}
