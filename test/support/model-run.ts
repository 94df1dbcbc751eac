/**
 * Model-based random testing of /dev/gcma_test: fast-check generates
 * sequences of allocations (explicit and anywhere, compound or not), frees
 * (of own ranges, parts of them, and arbitrary ranges) and closes across
 * several open files; each goes to the real device, through the raw addon
 * so that the kernel answers every request itself, and to the model
 * (device-model.ts). After every step the answers, the area's allocated
 * count and each file's owned count must agree. Used by test/vm/model.test.ts
 * on the main thread and in worker threads, each on an area of its own.
 */
import fc from 'fast-check';
import { Device, type Area } from '../../lib/device';
import { native, type NativeDevice } from '../../lib/native';
import { DeviceModel, type Answer } from './device-model';

export const FILES = 3;

type Op =
  | { kind: 'alloc'; file: number; offset: number | null; count: number; compound: boolean }
  | { kind: 'freeOwn'; file: number; pick: number; part: number }
  | { kind: 'free'; file: number; offset: number; count: number }
  | { kind: 'close'; file: number }
  | { kind: 'register'; file: number; name: number };

function opArb(areaPages: number, names: number): fc.Arbitrary<Op> {
  const file = fc.integer({ min: 0, max: FILES - 1 });
  const count = fc.oneof(fc.integer({ min: 0, max: 24 }), fc.constantFrom(1, 2, 4, 8, 16, 32, 64), fc.integer({ min: 0, max: areaPages + 4 }));
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('alloc' as const), file, offset: fc.option(fc.integer({ min: 0, max: areaPages + 8 }), { nil: null, freq: 2 }), count, compound: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('freeOwn' as const), file, pick: fc.nat(), part: fc.nat() }) },
    // Inside the area: past its end lie other areas, which other threads use.
    {
      weight: 2,
      arbitrary: fc
        .record({ kind: fc.constant('free' as const), file, offset: fc.integer({ min: 0, max: areaPages - 1 }), count })
        .map((op) => ({ ...op, count: Math.min(op.count, areaPages - op.offset) })),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), file }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('register' as const), file, name: fc.nat({ max: names - 1 }) }) },
  );
}

function answer(fn: () => { startPfn: number }): Answer {
  try {
    return { ok: true, start: fn().startPfn };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string') throw err;
    return { ok: false, code };
  }
}

export interface ModelRunStats {
  seed: number;
  runs: number;
  ops: number;
  okAnswers: number;
  errorAnswers: Record<string, number>;
}

/**
 * Names a sequence may register: bad ones, and two of this run's own.
 * Areas are permanent, so a name registered once stays taken (EEXIST) in
 * every later sequence and shrink, and a run adds at most two areas.
 */
function registerNames(tag: string): Array<{ name: string; fails?: string }> {
  return [{ name: '', fails: 'EINVAL' }, { name: 'a/b', fails: 'EINVAL' }, { name: 'n'.repeat(32), fails: 'ENAMETOOLONG' }, { name: `${tag}-a` }, { name: `${tag}-b` }];
}

/** Run `runs` random sequences against `area` (which must be idle) with `seed`. */
export function runModel(area: Area, seed: number, runs: number): ModelRunStats {
  const c = native().constants;
  const stats: ModelRunStats = { seed, runs, ops: 0, okAnswers: 0, errorAnswers: {} };
  const base = area.range.start;
  const pages = area.range.count;
  const names = registerNames(`${area.name.slice(0, 20)}-r`);
  const registered = new Set<string>();
  const property = fc.property(fc.array(opArb(pages, names.length), { minLength: 20, maxLength: 150, size: 'max' }), (ops) => {
    const model = new DeviceModel(base, pages);
    const files: Device[] = Array.from({ length: FILES }, () => Device.open());
    const handle = (f: number): NativeDevice => files[f]!.handle;
    try {
      for (const [step, op] of ops.entries()) {
        let got: Answer;
        let want: Answer;
        switch (op.kind) {
          case 'alloc': {
            const start = op.offset === null ? null : base + op.offset;
            const flags = (start === null ? c.ALLOC_ANYWHERE : 0) | (op.compound ? c.ALLOC_COMPOUND : 0);
            got = answer(() => handle(op.file).alloc(c.TARGET_GCMA, area.index, flags, start ?? 0, op.count));
            want = model.alloc(op.file, start, op.count, op.compound);
            break;
          }
          case 'freeOwn': {
            const mine = model.of(op.file);
            if (mine.length === 0) continue;
            const a = mine[op.pick % mine.length]!;
            // The whole range, or (not compound) a part of it
            const first = a.compound ? 0 : op.part % a.count;
            const count = a.compound ? a.count : 1 + ((op.part >> 8) % (a.count - first));
            got = answer(() => handle(op.file).free(c.TARGET_GCMA, a.start + first, count));
            want = model.free(op.file, a.start + first, count);
            break;
          }
          case 'free':
            got = answer(() => handle(op.file).free(c.TARGET_GCMA, base + op.offset, op.count));
            want = model.free(op.file, base + op.offset, op.count);
            break;
          case 'register': {
            const n = names[op.name]!;
            got = answer(() => ({ startPfn: (handle(op.file).register(n.name, 1), 0) }));
            want = n.fails ? { ok: false, code: n.fails } : registered.has(n.name) ? { ok: false, code: 'EEXIST' } : { ok: true, start: 0 };
            if (got.ok) registered.add(n.name);
            break;
          }
          case 'close':
            files[op.file]!.close();
            model.close(op.file);
            files[op.file] = Device.open();
            got = want = { ok: true, start: 0 };
            break;
        }
        stats.ops++;
        if (got.ok) stats.okAnswers++;
        else stats.errorAnswers[got.code] = (stats.errorAnswers[got.code] ?? 0) + 1;
        const where = `step ${step} ${JSON.stringify(op)}`;
        if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${where}: kernel ${JSON.stringify(got)}, model ${JSON.stringify(want)}`);
        const s = files[0]!.area(area.index).stats();
        if (s.allocated !== model.allocated()) throw new Error(`${where}: area allocated ${s.allocated}, model ${model.allocated()}`);
        for (let f = 0; f < FILES; f++) {
          const owned = f === 0 ? s.owned : files[f]!.area(area.index).stats().owned;
          if (owned !== model.owned(f)) throw new Error(`${where}: file ${f} owns ${owned}, model ${model.owned(f)}`);
        }
      }
    } finally {
      for (const f of files) f.close();
    }
    const after = area.stats().allocated;
    if (after !== 0) throw new Error(`all files closed, the area still has ${after} pages allocated`);
  });
  fc.assert(property, { seed, numRuns: runs, endOnFailure: true });
  return stats;
}
