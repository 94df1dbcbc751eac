/**
 * Every patch of the series must build on its own: move the cached source
 * tree to each prefix of the series and build the kernel after each, with
 * a flavour's config (make test checks with the debug flavour's, the
 * kernel it tests; options a prefix of the series does not know yet simply
 * stay off). A prefix that built once is remembered by its
 * source tree and config, not by its patches' text, so rewording a commit
 * message or renumbering the series rebuilds nothing.
 *
 * The check builds in the same source tree as the flavours, in its own
 * build directory seeded from the flavour's build: kbuild's saved commands
 * name the source path, so the seed's objects stay valid and the first
 * prefix only rebuilds what the later patches touch, not the whole kernel.
 * The tree goes back to the whole series afterwards with the mtimes it had
 * (lib/kernel/mtimes.ts), so the flavours' builds stay up to date.
 * Last, the objects the series touches are compiled for arm64, where the
 * device-tree code is (lib/kernel/arm64-check.ts).
 */
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { cacheRoot, projectRoot } from '../paths';
import { capture, CommandError, exec } from '../util/exec';
import { inputsKey } from './cache';
import {
  buildKernel,
  checkoutTree,
  configure,
  FLAVOURS,
  git,
  makeKernel,
  readDirTexts,
  restoreTreeMtimes,
  seriesCommits,
  seriesFiles,
  seriesStampPath,
  Steps,
} from './build';
import { arm64Key, checkArm64Objects, type Arm64CheckInputs } from './arm64-check';
import { withCacheLock } from './lock';
import { recordMtimes } from './mtimes';

export interface SeriesCheck {
  /** Patches whose prefix built in this run. */
  built: string[];
  /** Patches whose prefix had built in an earlier run. */
  cached: string[];
}

export interface SeriesCheckOptions {
  log?: (msg: string) => void;
  jobs?: number;
  /** Whose config each prefix is built with, and whose build seeds the check's (default: "default"). */
  flavour?: string;
}

export function checkSeriesBuilds(opts: SeriesCheckOptions = {}): Promise<SeriesCheck> {
  const log = opts.log ?? ((m: string) => console.log(m));
  return withCacheLock(() => check(opts, log), log);
}

async function check(opts: SeriesCheckOptions, log: (msg: string) => void): Promise<SeriesCheck> {
  const jobs = opts.jobs ?? availableParallelism() + 1;
  const flavour = opts.flavour ?? 'default';
  const fragmentNames = FLAVOURS[flavour];
  if (!fragmentNames) throw new Error(`unknown kernel flavour '${flavour}' (have: ${Object.keys(FLAVOURS).join(', ')})`);
  // The full build unpacks the source and proves the whole series applies.
  const kernel = await buildKernel({ log, flavour });
  const root = projectRoot();
  const patchDir = join(root, 'kernel', 'patches');
  const patches = seriesFiles(root);
  const texts = readDirTexts(patchDir, patches);
  const buildDir = join(cacheRoot(), 'build', `series-check-${flavour}`);
  const logFile = join(cacheRoot(), 'build', `series-check-${flavour}.log`);
  // Outside the build directory, which is re-seeded at times.
  const verifiedFile = join(cacheRoot(), 'build', 'series-check.verified');
  writeFileSync(logFile, '');
  const verified = new Set(existsSync(verifiedFile) ? readFileSync(verifiedFile, 'utf8').split('\n') : []);
  const fragments = fragmentNames.map((f) => join(root, 'kernel', 'config', f));
  const configTexts = readDirTexts(join(root, 'kernel', 'config'), fragmentNames);
  // The device-tree side, for arm64 (lib/kernel/arm64-check.ts), with the default flavour's config.
  const arm64Fragments = FLAVOURS['default']!;
  const arm64: Arm64CheckInputs = {
    sourceDir: kernel.sourceDir,
    sourceVersion: kernel.sourceVersion,
    fragments: arm64Fragments.map((f) => join(root, 'kernel', 'config', f)),
    configTexts: readDirTexts(join(root, 'kernel', 'config'), arm64Fragments),
    patchTexts: texts,
    jobs,
    logFile,
  };
  const arm64Checked = async (): Promise<void> => {
    if (verified.has(arm64Key(arm64))) return;
    await checkArm64Objects(arm64, log);
    appendFileSync(verifiedFile, `${arm64Key(arm64)}\n`);
  };
  // Whole series unchanged since it last passed: no need to apply it.
  const seriesKey = `series:${inputsKey([kernel.sourceVersion, ...configTexts, ...texts])}`;
  if (verified.has(seriesKey)) {
    log(`[series] all ${patches.length} prefixes of the series built before`);
    await arm64Checked();
    return { built: [], cached: [...patches] };
  }

  // Each prefix is checked out from the series' commits directly, so only
  // the files that differ from the last prefix built get rebuilt.
  const commits = await seriesCommits(kernel.sourceDir, patchDir, patches, logFile);
  const keys: string[] = [];
  for (const commit of commits) {
    const tree = (await capture('git', ['-C', kernel.sourceDir, 'rev-parse', `${commit}^{tree}`])).trim();
    keys.push(`tree:${inputsKey([tree, ...configTexts])}`);
  }
  const result: SeriesCheck = { built: [], cached: [] };
  const todo = patches.flatMap((_name, i) => (verified.has(keys[i]!) ? [] : [i]));
  for (const [i, name] of patches.entries()) if (!todo.includes(i)) result.cached.push(name);
  if (todo.length === 0) {
    await arm64Checked();
    appendFileSync(verifiedFile, `${seriesKey}\n`);
    return result;
  }

  const src = kernel.sourceDir;
  await seedBuildDir(kernel.buildDir, buildDir, src, logFile);
  const touched = (await capture('git', ['-C', src, 'diff', '--name-only', 'base', commits.at(-1)!])).split('\n').filter(Boolean);
  recordMtimes(src, touched);
  // While the tree is at a prefix, buildKernel() must not trust it.
  const stamp = seriesStampPath(src);
  const stampText = readFileSync(stamp, 'utf8');
  rmSync(stamp);
  const steps = new Steps(log);
  // The prefix whose Kconfig files the build directory's .config was
  // resolved with: the seed's is the whole series'.
  let configuredAt: string | undefined;
  try {
    for (const i of todo) {
      const name = patches[i]!;
      await steps.run(`series ${i + 1}/${patches.length}: build with ${name}`, async () => {
        await checkoutTree(src, commits[i]!, logFile);
        appendFileSync(logFile, `\n=== ${name}\n`);
        if (configuredAt && !(await kconfigDiffers(src, configuredAt, commits[i]!))) {
          appendFileSync(logFile, 'config: no Kconfig file changed since the last prefix configured\n');
        } else {
          await configure(src, buildDir, fragments, logFile);
          configuredAt = commits[i]!;
        }
        let warnings: string[];
        try {
          warnings = await makeKernel(src, buildDir, jobs, logFile, log, `series ${i + 1}/${patches.length}`);
        } catch (err) {
          const detail = err instanceof CommandError ? `\n${err.tail}` : '';
          throw new Error(`the kernel does not build with kernel/patches/${name} and those before it (log: ${logFile})${detail}`);
        }
        if (warnings.length) {
          throw new Error(`the kernel builds with compiler warnings with kernel/patches/${name} (log: ${logFile}):\n${warnings.slice(0, 20).join('\n')}`);
        }
      });
      appendFileSync(verifiedFile, `${keys[i]}\n`);
      result.built.push(name);
    }
  } finally {
    await checkoutTree(src, commits.at(-1)!, logFile);
    const n = await restoreTreeMtimes(src, logFile);
    writeFileSync(stamp, stampText);
    log(`[series] source tree back at the whole series (${n} files with their old mtimes)`);
  }
  await arm64Checked();
  appendFileSync(verifiedFile, `${seriesKey}\n`);
  return result;
}

/**
 * Whether a Kconfig file differs between two commits: if none does, the
 * same fragments resolve to the same .config, and configuring again (three
 * kconfig runs) is skipped.
 */
async function kconfigDiffers(src: string, from: string, to: string): Promise<boolean> {
  const changed = (await capture('git', ['-C', src, 'diff', '--name-only', from, to])).split('\n');
  return changed.some((path) => /(^|\/)Kconfig[^/]*$/.test(path));
}

/**
 * The check's build directory holds objects compiled from sourceDir: else
 * (first run, or one from before the check built in the source tree) it
 * starts as a copy of the default build, whose commands name the same paths.
 */
async function seedBuildDir(from: string, buildDir: string, sourceDir: string, logFile: string): Promise<void> {
  const origin = join(buildDir, '.gcma-source');
  if (existsSync(origin) && readFileSync(origin, 'utf8') === sourceDir) return;
  rmSync(buildDir, { recursive: true, force: true });
  await exec('cp', ['-a', from, buildDir], { logFile });
  for (const stamp of ['.gcma-config-key', '.gcma-build-key']) rmSync(join(buildDir, stamp), { force: true });
  writeFileSync(origin, sourceDir);
  // The worktree earlier checks built in is not needed any more.
  await git(sourceDir, ['worktree', 'remove', '--force', `${sourceDir}.check`], logFile).catch(() => undefined);
}
