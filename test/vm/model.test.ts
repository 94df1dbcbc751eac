/**
 * Runs inside the QEMU guest: model-based random testing of /dev/gcma_test
 * (test/support/model-run.ts): random allocations, frees and closes across
 * three open files, on the main thread and in two worker threads at once,
 * each on a GCMA area of its own; the kernel's every answer must match the
 * model's, and with all files closed every area is empty again. The seed is
 * printed; GCMA_MODEL_SEED=N replays a run.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Device, type Area } from '../../lib/device';
import { projectRoot } from '../../lib/paths';
import { runModel, type ModelRunStats } from '../support/model-run';
import { insmod, rmmod, TEST_MODULE } from './support/guest';
import { scaled } from './support/scale';

jest.setTimeout(600_000);

const AREA_PAGES = 128;
/** Command sequences per thread: about 100 operations each. */
const RUNS = scaled(4, 100);
const seed = process.env['GCMA_MODEL_SEED'] ? Number(process.env['GCMA_MODEL_SEED']) : Date.now() % 2 ** 31;
let dev: Device;
const areas: Area[] = [];

beforeAll(() => {
  insmod(TEST_MODULE);
  dev = Device.open();
  // Areas stay registered until reboot: a later run (gcma selftest, on a
  // device) takes them again, empty as the last run left them.
  const known = new Map(dev.areas().map((a) => [a.name, a]));
  for (const who of ['main', 'w1', 'w2']) areas.push(known.get(`model-${who}`) ?? dev.register(`model-${who}`, AREA_PAGES));
  console.log(`model test seed ${seed} (replay: GCMA_MODEL_SEED=${seed})`);
});

afterAll(() => {
  dev.close();
  rmmod('gcma_test');
});

function inWorker(area: Area, workerSeed: number): Promise<ModelRunStats> {
  const script = `
    const { parentPort, workerData: d } = require('node:worker_threads');
    const { Device } = require(d.lib);
    const { runModel } = require(d.run);
    const dev = Device.open();
    try {
      parentPort.postMessage({ stats: runModel(dev.area(d.index), d.seed, d.runs) });
    } catch (e) {
      parentPort.postMessage({ error: String(e && e.stack || e) });
    } finally {
      dev.close();
    }`;
  const dist = join(projectRoot(), 'dist');
  const w = new Worker(script, {
    eval: true,
    workerData: { lib: join(dist, 'lib', 'index.js'), run: join(dist, 'test', 'support', 'model-run.js'), index: area.index, seed: workerSeed, runs: RUNS },
  });
  return new Promise((resolve, reject) => {
    w.once('message', (m: { stats?: ModelRunStats; error?: string }) => (m.stats ? resolve(m.stats) : reject(new Error(m.error))));
    w.once('error', reject);
  }).finally(() => w.terminate()) as Promise<ModelRunStats>;
}

it('the kernel answers as the model does, on three threads at once', async () => {
  const workers = [inWorker(areas[1]!, seed + 1), inWorker(areas[2]!, seed + 2)];
  const main = runModel(areas[0]!, seed, RUNS);
  const all = [main, ...(await Promise.all(workers))];
  const ops = all.reduce((n, s) => n + s.ops, 0);
  const errors: Record<string, number> = {};
  for (const s of all) for (const [k, v] of Object.entries(s.errorAnswers)) errors[k] = (errors[k] ?? 0) + v;
  console.log(`model test seed ${seed}: ${ops} operations (${all.map((s) => s.ops).join(' + ')}), ${all.reduce((n, s) => n + s.okAnswers, 0)} succeeded; errors ${JSON.stringify(errors)}`);
  // Sequences vary in length: 30 operations each on average is the floor
  // (909 measured for 18 sequences).
  expect(ops).toBeGreaterThan(3 * RUNS * 30);
  // The sequences reach the interesting answers, not only successes
  for (const code of ['EINVAL', 'ERANGE', 'EBUSY', 'ENOMEM', 'ENOENT', 'EACCES', 'EEXIST', 'ENAMETOOLONG']) expect(errors[code] ?? 0).toBeGreaterThan(0);
  for (const a of areas) expect(a.stats().allocated).toBe(0);
});
