/** PfnRange: construction limits, parse/format, set operations, alignment. */
import { execFileSync } from 'node:child_process';
import { caught } from '../support/throws';

const outOfRange = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' };
const badValue = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' };
import { PFN_MAX, PfnRange, systemPageSize } from '../../lib/pfn-range';

describe('construction', () => {
  it('has start, count, end and last', () => {
    const r = PfnRange.of(0x12000, 0x1000);
    expect([r.start, r.count, r.end, r.last]).toEqual([0x12000, 0x1000, 0x13000, 0x12fff]);
    expect(Object.isFrozen(r)).toBe(true);
  });

  it.each([
    [-1, 1],
    [0, 0],
    [1.5, 1],
    [0, 2.5],
    [NaN, 1],
    [0, Infinity],
    [PFN_MAX + 1, 1],
    [PFN_MAX, 2],
    [2 ** 53, 1],
  ])('refuses start %p count %p', (start, count) => {
    expect(caught(() => PfnRange.of(start, count))).toMatchObject(outOfRange);
  });

  it('reaches PFN_MAX exactly', () => {
    expect(PfnRange.of(PFN_MAX, 1).last).toBe(PFN_MAX);
    expect(PfnRange.of(0, PFN_MAX + 1).last).toBe(PFN_MAX);
  });

  it('refuses non-numbers at runtime', () => {
    expect(caught(() => PfnRange.of('5' as unknown as number, 1))).toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: `The "start" argument must be of type number. Received type string ('5')`,
    });
  });
});

describe('bytes', () => {
  it('covers every page a byte range touches', () => {
    expect(PfnRange.fromBytes(0x1000, 0x1000, 4096).format()).toBe('0x1-0x1');
    expect(PfnRange.fromBytes(0x1fff, 2, 4096).format()).toBe('0x1-0x2');
    expect(PfnRange.fromBytes(0n, 1n << 30n, 4096).count).toBe(262144);
    expect(PfnRange.of(2, 3).bytes(4096)).toBe(12288);
  });

  it('refuses empty and out-of-range byte ranges', () => {
    expect(caught(() => PfnRange.fromBytes(0, 0, 4096))).toMatchObject({ ...outOfRange, message: expect.stringContaining('"bytes"') });
    expect(caught(() => PfnRange.fromBytes(-1, 1, 4096))).toMatchObject({ ...outOfRange, message: expect.stringContaining('"address"') });
    expect(caught(() => PfnRange.fromBytes(1n << 70n, 1, 4096))).toMatchObject({ ...outOfRange, message: expect.stringContaining('within PFN 0xfffffffffffff') });
  });

  it('uses the real page size by default', () => {
    expect(systemPageSize()).toBe(Number(execFileSync('getconf', ['PAGESIZE']).toString()));
    expect(PfnRange.fromBytes(0, 1).count).toBe(1);
  });
});

describe('parse and format', () => {
  it.each([
    ['0x12000-0x12fff', 0x12000, 0x1000],
    ['0x12000+16', 0x12000, 16],
    ['  0X10 - 0x1f ', 16, 16],
    ['4096', 4096, 1],
    ['10-10', 10, 1],
  ])('%s', (text, start, count) => {
    const r = PfnRange.parse(text);
    expect([r.start, r.count]).toEqual([start, count]);
  });

  it('round-trips through format', () => {
    const r = PfnRange.of(0xabc, 7);
    expect(PfnRange.parse(r.format()).equals(r)).toBe(true);
    expect(String(r)).toBe('0xabc-0xac2');
    expect(JSON.stringify(r)).toBe('{"start":2748,"count":7}');
  });

  it.each(['', 'x', '0x10-', '1e3', '0x10--0x20'])('refuses %p: not a range', (text) => {
    expect(caught(() => PfnRange.parse(text))).toMatchObject(badValue);
  });

  it.each(['0x20-0x10', '0x10+0', '0x1fffffffffffff+2', '0xfffffffffffffffff'])('refuses %p: out of range', (text) => {
    expect(caught(() => PfnRange.parse(text))).toMatchObject(outOfRange);
  });
});

describe('set operations', () => {
  const a = PfnRange.of(100, 50); // 100..149

  it('contains PFNs and ranges', () => {
    expect([a.contains(100), a.contains(149), a.contains(150), a.contains(99)]).toEqual([true, true, false, false]);
    expect(a.contains(PfnRange.of(120, 30))).toBe(true);
    expect(a.contains(PfnRange.of(120, 31))).toBe(false);
  });

  it('overlaps and intersects', () => {
    expect(a.overlaps(PfnRange.of(149, 10))).toBe(true);
    expect(a.overlaps(PfnRange.of(150, 10))).toBe(false);
    expect(a.intersect(PfnRange.of(140, 20))?.format()).toBe('0x8c-0x95');
    expect(a.intersect(PfnRange.of(0, 100))).toBeNull();
  });

  it('splits', () => {
    const [x, y] = a.split(10);
    expect([x.start, x.count, y.start, y.count]).toEqual([100, 10, 110, 40]);
    expect(caught(() => a.split(0))).toMatchObject(outOfRange);
    expect(caught(() => a.split(50))).toMatchObject({ ...outOfRange, message: 'The value of "pages" is out of range. It must be >= 1 && <= 49. Received 50' });
    // A type mistake is a TypeError
    expect(caught(() => a.split('10' as unknown as number))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('aligns to an order', () => {
    expect(a.isAligned(2)).toBe(true);
    expect(a.isAligned(3)).toBe(false);
    expect(a.alignTo(4)?.format()).toBe('0x70-0x8f'); // 112..143
    expect(PfnRange.of(1, 14).alignTo(4)).toBeNull();
    expect(caught(() => a.alignTo(-1))).toMatchObject(outOfRange);
  });

  it('shifts and iterates', () => {
    expect(a.shift(-100).start).toBe(0);
    expect(caught(() => a.shift(-101))).toMatchObject(outOfRange);
    expect([...PfnRange.of(7, 3)]).toEqual([7, 8, 9]);
  });
});
