/**
 * Every patch of the series must build on its own: check out the series
 * one patch at a time in a worktree of the cached source and build the
 * kernel after each, with the default flavour's config (options a prefix of the
 * series does not know yet simply stay off). A prefix that built once is
 * remembered by its source tree and config, not by its patches' text, so
 * rewording a commit message or renumbering the series rebuilds nothing.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  makeArgs,
  makeProgress,
  readDirTexts,
  seriesCommits,
  seriesFiles,
  Steps,
} from './build';

export interface SeriesCheck {
  /** Patches whose prefix built in this run. */
  built: string[];
  /** Patches whose prefix had built in an earlier run. */
  cached: string[];
}

export async function checkSeriesBuilds(opts: { log?: (msg: string) => void; jobs?: number } = {}): Promise<SeriesCheck> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const jobs = opts.jobs ?? availableParallelism() + 1;
  // The full build unpacks the source and proves the whole series applies.
  const kernel = await buildKernel({ log });
  const root = projectRoot();
  const patchDir = join(root, 'kernel', 'patches');
  const patches = seriesFiles(root);
  const texts = readDirTexts(patchDir, patches);
  const buildDir = join(cacheRoot(), 'build', 'series-check');
  const logFile = join(cacheRoot(), 'build', 'series-check.log');
  const verifiedFile = join(buildDir, '.gcma-verified');
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(logFile, '');
  const verified = new Set(existsSync(verifiedFile) ? readFileSync(verifiedFile, 'utf8').split('\n') : []);
  const fragments = FLAVOURS['default']!.map((f) => join(root, 'kernel', 'config', f));
  const configTexts = readDirTexts(join(root, 'kernel', 'config'), FLAVOURS['default']!);
  // Whole series unchanged since it last passed: no need to apply it.
  const seriesKey = `series:${inputsKey([kernel.sourceVersion, ...configTexts, ...texts])}`;
  if (verified.has(seriesKey)) {
    log(`[series] all ${patches.length} prefixes of the series built before`);
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
  const tree = `${kernel.sourceDir}.check`;
  if (!existsSync(join(tree, '.git'))) {
    await git(kernel.sourceDir, ['worktree', 'prune'], logFile);
    await git(kernel.sourceDir, ['worktree', 'add', '-q', '--detach', tree, 'base'], logFile);
  }
  const steps = new Steps(log);
  for (const [i, name] of patches.entries()) {
    if (verified.has(keys[i]!)) {
      result.cached.push(name);
      continue;
    }
    await steps.run(`series ${i + 1}/${patches.length}: build with ${name}`, async () => {
      await checkoutTree(tree, commits[i]!, logFile);
      appendFileSync(logFile, `\n=== ${name}\n`);
      await configure(tree, buildDir, fragments, logFile);
      const progress = makeProgress(log, `series ${i + 1}/${patches.length}`);
      try {
        await exec('make', makeArgs(tree, buildDir, `-j${jobs}`), { logFile, onLine: progress.onLine });
      } catch (err) {
        const detail = err instanceof CommandError ? `\n${err.tail}` : '';
        throw new Error(`the kernel does not build with kernel/patches/${name} and those before it (log: ${logFile})${detail}`);
      } finally {
        progress.stop();
      }
      if (/\bwarning: /.test(readFileSync(logFile, 'utf8').split(`=== ${name}\n`)[1] ?? '')) {
        throw new Error(`the kernel builds with compiler warnings with kernel/patches/${name} (log: ${logFile})`);
      }
    });
    appendFileSync(verifiedFile, `${keys[i]}\n`);
    result.built.push(name);
  }
  appendFileSync(verifiedFile, `${seriesKey}\n`);
  return result;
}
