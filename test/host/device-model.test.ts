/**
 * The device model the model-based VM test compares the kernel against
 * (test/support/device-model.ts): its answers for the documented cases.
 */
import { DeviceModel } from '../support/device-model';

it('allocates first fit, aligned for compound pages, and refuses what the uapi refuses', () => {
  const m = new DeviceModel(1000, 64);
  expect(m.alloc(0, 1004, 4, false)).toEqual({ ok: true, start: 1004 });
  expect(m.alloc(1, null, 4, false)).toEqual({ ok: true, start: 1000 });
  expect(m.alloc(1, null, 8, true)).toEqual({ ok: true, start: 1008 });
  expect(m.alloc(1, 1006, 1, false)).toEqual({ ok: false, code: 'EBUSY' });
  expect(m.alloc(1, 999, 1, false)).toEqual({ ok: false, code: 'ERANGE' });
  expect(m.alloc(1, 1060, 5, false)).toEqual({ ok: false, code: 'ERANGE' });
  expect(m.alloc(1, null, 0, false)).toEqual({ ok: false, code: 'EINVAL' });
  expect(m.alloc(1, null, 3, true)).toEqual({ ok: false, code: 'EINVAL' });
  expect(m.alloc(1, 1012, 8, true)).toEqual({ ok: false, code: 'EINVAL' });
  expect(m.alloc(1, null, 64, false)).toEqual({ ok: false, code: 'ENOMEM' });
  expect([m.allocated(), m.owned(0), m.owned(1)]).toEqual([16, 4, 12]);
});

it('frees within one own allocation, splitting it; refuses others and compound parts', () => {
  const m = new DeviceModel(0, 64);
  m.alloc(0, 0, 16, false);
  m.alloc(1, 16, 8, true);
  expect(m.free(1, 4, 4)).toEqual({ ok: false, code: 'EACCES' });
  expect(m.free(0, 4, 4)).toEqual({ ok: true, start: 4 });
  expect(m.of(0).map((a) => [a.start, a.count])).toEqual([
    [0, 4],
    [8, 8],
  ]);
  expect(m.free(0, 4, 4)).toEqual({ ok: false, code: 'ENOENT' });
  expect(m.free(0, 2, 4)).toEqual({ ok: false, code: 'EINVAL' });
  expect(m.free(1, 16, 4)).toEqual({ ok: false, code: 'EINVAL' });
  expect(m.free(1, 16, 8)).toEqual({ ok: true, start: 16 });
  m.close(0);
  expect(m.allocated()).toBe(0);
});
