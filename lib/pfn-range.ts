/**
 * Ranges of page frame numbers: immutable, at least one page, checked at
 * construction. PFNs are JavaScript numbers, exact up to PFN_MAX (2^52 - 1,
 * the device's limit too): anything else is refused with an
 * InvalidArgumentError rather than silently rounded.
 */
import { readFileSync } from 'node:fs';
import { argValueError, checkInteger, outOfRange } from './errors';
import { kibField } from './procfs';

/** The largest PFN the device and this type accept (GCMA_TEST_PFN_MAX). */
export const PFN_MAX = 2 ** 52 - 1;

/** A PFN as the kernel prints it (%#lx): 0x1a2b. */
export const formatPfn = (n: number): string => `0x${n.toString(16)}`;

let cachedPageSize: number | undefined;

/**
 * This kernel's page size in bytes (the KernelPageSize of this process's
 * first mapping): what the device reports as pageSize too.
 */
export function systemPageSize(): number {
  if (cachedPageSize === undefined) {
    const kib = kibField(readFileSync('/proc/self/smaps', 'utf8'), 'KernelPageSize');
    if (kib === null) throw new Error('no KernelPageSize in /proc/self/smaps');
    cachedPageSize = kib * 1024;
  }
  return cachedPageSize;
}

/** An immutable range of page frame numbers: `start` and `count` pages. */
export class PfnRange implements Iterable<number> {
  /** First PFN. */
  readonly start: number;
  /** Pages, at least 1. */
  readonly count: number;

  private constructor(start: number, count: number) {
    this.start = start;
    this.count = count;
    Object.freeze(this);
  }

  /** `count` pages from `start`. */
  static of(start: number, count: number): PfnRange {
    checkInteger('start', start, 0, PFN_MAX);
    checkInteger('count', count, 1, PFN_MAX + 1 - start);
    return new PfnRange(start, count);
  }

  /** From `start` up to and including `last`. */
  static inclusive(start: number, last: number): PfnRange {
    checkInteger('last', last, 0, PFN_MAX);
    return PfnRange.of(start, last - start + 1);
  }

  /**
   * The pages holding the bytes [address, address + bytes): the physical
   * address need not be page aligned, the range covers every page touched.
   */
  static fromBytes(address: number | bigint, bytes: number | bigint, pageSize = systemPageSize()): PfnRange {
    const a = BigInt(address);
    const b = BigInt(bytes);
    const p = BigInt(checkInteger('pageSize', pageSize, 1, 2 ** 30));
    if (a < 0n) throw outOfRange('address', '>= 0', address);
    if (b <= 0n) throw outOfRange('bytes', '>= 1', bytes);
    const first = a / p;
    const last = (a + b - 1n) / p;
    if (last > BigInt(PFN_MAX)) throw outOfRange('bytes', `within PFN ${formatPfn(PFN_MAX)} from ${formatPfn(Number(a))}`, bytes);
    return PfnRange.inclusive(Number(first), Number(last));
  }

  /**
   * Parse `0x12000-0x12fff` (inclusive, as the kernel prints ranges),
   * `0x12000+16` (start and pages), or a single PFN. Decimal works too.
   */
  static parse(text: string): PfnRange {
    const num = String.raw`(0[xX][0-9a-fA-F]+|\d+)`;
    const m = new RegExp(`^\\s*${num}\\s*(?:([-+])\\s*${num})?\\s*$`).exec(text);
    if (!m) throw argValueError('text', 'is not a PFN range (e.g. 0x12000-0x12fff, 0x12000+16 or 0x12000)', text);
    const parseNum = (s: string): number => {
      const v = Number(s);
      if (!Number.isSafeInteger(v)) throw outOfRange('text', `a PFN <= ${formatPfn(PFN_MAX)}`, s);
      return v;
    };
    const start = parseNum(m[1]!);
    if (!m[2]) return PfnRange.of(start, 1);
    const second = parseNum(m[3]!);
    return m[2] === '+' ? PfnRange.of(start, second) : PfnRange.inclusive(start, second);
  }

  /** One past the last PFN. */
  get end(): number {
    return this.start + this.count;
  }

  /** The last PFN. */
  get last(): number {
    return this.end - 1;
  }

  /** Its size in bytes. */
  bytes(pageSize = systemPageSize()): number {
    return this.count * pageSize;
  }

  /** Whether a PFN, or every page of a range, is in this one. */
  contains(other: number | PfnRange): boolean {
    if (typeof other === 'number') return other >= this.start && other < this.end;
    return other.start >= this.start && other.end <= this.end;
  }

  /** Whether any page is in both. */
  overlaps(other: PfnRange): boolean {
    return other.start < this.end && this.start < other.end;
  }

  /** The common pages, or null. */
  intersect(other: PfnRange): PfnRange | null {
    const start = Math.max(this.start, other.start);
    const end = Math.min(this.end, other.end);
    return start < end ? new PfnRange(start, end - start) : null;
  }

  /** [the first `pages` pages, the rest]; `pages` from 1 to count - 1. */
  split(pages: number): [PfnRange, PfnRange] {
    checkInteger('pages', pages, 1, this.count - 1);
    return [new PfnRange(this.start, pages), new PfnRange(this.start + pages, this.count - pages)];
  }

  /** Whether start is a multiple of 2^order pages. */
  isAligned(order: number): boolean {
    checkInteger('order', order, 0, 52);
    return this.start % 2 ** order === 0;
  }

  /**
   * The largest sub-range whose start and end are multiples of 2^order
   * pages, or null if there is none.
   */
  alignTo(order: number): PfnRange | null {
    checkInteger('order', order, 0, 52);
    const size = 2 ** order;
    const start = Math.ceil(this.start / size) * size;
    const end = Math.floor(this.end / size) * size;
    return start < end ? new PfnRange(start, end - start) : null;
  }

  /** The same number of pages starting `pages` further on (or back). */
  shift(pages: number): PfnRange {
    return PfnRange.of(this.start + pages, this.count);
  }

  /** Same start and count. */
  equals(other: PfnRange): boolean {
    return this.start === other.start && this.count === other.count;
  }

  /** Every PFN, in order. */
  *[Symbol.iterator](): Iterator<number> {
    for (let pfn = this.start; pfn < this.end; pfn++) yield pfn;
  }

  /** `0x12000-0x12fff`: inclusive, as the kernel prints ranges. */
  format(): string {
    return `${formatPfn(this.start)}-${formatPfn(this.last)}`;
  }

  /** Same as {@link format}. */
  toString(): string {
    return this.format();
  }

  /** `{ start, count }` */
  toJSON(): {
    /** First PFN. */
    start: number;
    /** Pages. */
    count: number;
  } {
    return { start: this.start, count: this.count };
  }
}
