/**
 * Build the patched kernel, cached outside the checkout:
 *
 *   $GCMA_CACHE/src/linux-<debian version>/   pristine source as a git tree
 *                                             (tag "base"), series applied on top
 *   $GCMA_CACHE/build/<flavour>/              O= build directory (KDIR)
 *
 * Each step records the key of its inputs and is skipped when the key is
 * unchanged, so a second run does no work and a patch edit only rebuilds
 * what the re-applied files touch.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { cacheRoot, projectRoot } from '../paths';
import { inputsKey, type NamedText } from './cache';
import { checkKconfig, formatMismatches, parseKconfig } from './config';
import { withCacheLock } from './lock';
import { restoreMtimes } from './mtimes';
import { capture, CommandError, exec } from '../util/exec';

/** Config fragments, in merge order, for each kernel flavour. */
export const FLAVOURS: Readonly<Record<string, readonly string[]>> = {
  default: ['base.config', 'gcma.config'],
  /** With KASAN, KFENCE, DEBUG_VM, lockdep, page poisoning: for the test suites. */
  debug: ['base.config', 'gcma.config', 'debug.config'],
};

export const SOURCE_PACKAGE = 'linux-source-6.12';
const SOURCE_TARBALL = '/usr/src/linux-source-6.12.tar.xz';

export interface KernelBuild {
  /** The flavour built, or for a kernel built elsewhere the one whose needs it meets ('external': the runner's only). */
  flavour: string;
  /** Built elsewhere (lib/kernel/external.ts): not this project's build cache. */
  external?: boolean;
  sourceVersion: string;
  sourceDir: string;
  /** The O= directory: use as KDIR for out-of-tree modules. */
  buildDir: string;
  bzImage: string;
  /** `uname -r` of the built kernel. */
  release: string;
  key: string;
}

export interface BuildOptions {
  flavour?: string;
  jobs?: number;
  log?: (msg: string) => void;
}

function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

export function readDirTexts(dir: string, names: readonly string[]): NamedText[] {
  return names.map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

export function seriesFiles(root = projectRoot()): string[] {
  const dir = join(root, 'kernel', 'patches');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.patch'))
    .sort();
}

export function pinnedSourceVersion(root = projectRoot()): string {
  return readFileSync(join(root, 'kernel', 'source-version'), 'utf8').trim();
}

export async function installedSourceVersion(): Promise<string> {
  try {
    return (await capture('dpkg-query', ['-W', '-f', '${Version}', SOURCE_PACKAGE])).trim();
  } catch {
    throw new Error(`${SOURCE_PACKAGE} is not installed: run scripts/setup.sh first`);
  }
}

/** The cached source tree of a Debian source version (pristine at tag "base"). */
export function sourceDirFor(version: string): string {
  return join(cacheRoot(), 'src', `linux-${version.replace(/[^A-Za-z0-9.+-]/g, '_')}`);
}

export class Steps {
  private readonly start = Date.now();
  constructor(private readonly log: (msg: string) => void) {}

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    this.log(`[kernel] ${name} ...`);
    const result = await fn();
    this.log(`[kernel] ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return result;
  }

  skip(name: string): void {
    this.log(`[kernel] ${name}: up to date`);
  }

  elapsed(): string {
    return `${((Date.now() - this.start) / 1000).toFixed(1)}s`;
  }
}

export async function git(dir: string, args: string[], logFile?: string): Promise<void> {
  await exec('git', ['-C', dir, ...args], logFile ? { logFile } : {});
}

async function unpackSource(version: string, dir: string, logFile: string): Promise<void> {
  const staging = `${dir}.unpack`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await exec('tar', ['-xf', SOURCE_TARBALL, '-C', staging], { logFile });
  const [top] = readdirSync(staging);
  if (!top) throw new Error(`${SOURCE_TARBALL} unpacked to nothing`);
  const tree = join(staging, top);
  await exec('git', ['init', '-q', tree], { logFile });
  for (const [k, v] of [
    ['user.name', 'gcma build'],
    ['user.email', 'gcma-build@localhost'],
    ['gc.auto', '0'],
    ['core.autocrlf', 'false'],
    ['am.keepcr', 'false'],
  ] as const) {
    await git(tree, ['config', k, v]);
  }
  // -f: the tarball's own .gitignore files must not hide any source file.
  await git(tree, ['add', '-A', '-f', '.'], logFile);
  await git(tree, ['commit', '-q', '-m', `${SOURCE_PACKAGE} ${version}`], logFile);
  await git(tree, ['tag', 'base'], logFile);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tree, dir);
  rmSync(staging, { recursive: true, force: true });
}

/**
 * `git am` the series in a scratch worktree at "base" and return the commit
 * after each patch; the source tree itself is not touched. A patch that
 * does not apply stops it, named.
 */
export async function seriesCommits(dir: string, patchDir: string, patches: readonly string[], logFile: string): Promise<string[]> {
  const scratch = `${dir}.series`;
  await git(dir, ['worktree', 'remove', '--force', scratch], logFile).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
  await git(dir, ['worktree', 'prune'], logFile);
  await git(dir, ['worktree', 'add', '-q', '--detach', scratch, 'base'], logFile);
  const commits: string[] = [];
  try {
    for (const name of patches) {
      try {
        await git(scratch, ['am', '-q', join(patchDir, name)], logFile);
      } catch (err) {
        const detail = err instanceof CommandError ? `\n${err.tail}` : '';
        throw new Error(`kernel/patches/${name} does not apply to ${SOURCE_PACKAGE}${detail}`);
      }
      commits.push((await capture('git', ['-C', scratch, 'rev-parse', 'HEAD'])).trim());
    }
  } finally {
    await git(dir, ['worktree', 'remove', '--force', scratch], logFile).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  }
  return commits;
}

/**
 * Move a tree to a commit with one checkout: only files whose content
 * changes get a new mtime, so make rebuilds only what that touches.
 */
export async function checkoutTree(dir: string, commit: string, logFile: string): Promise<void> {
  await git(dir, ['checkout', '-q', '-f', '--detach', commit], logFile);
  // -x: the Debian tarball's .gitignore hides new files such as mm/gcma.c.
  await git(dir, ['clean', '-fdxq'], logFile);
}

/**
 * Give the files whose content is back as recorded their old mtimes
 * (lib/kernel/mtimes.ts), and refresh git's index: a file whose mtime no
 * longer matches the index is stat-dirty, and the next `checkout -f`
 * rewrites it even though its content is unchanged. That gave
 * include/linux/page-flags.h a new mtime after every series check, and
 * the next build and the check's first prefix rebuilt the whole kernel.
 */
export async function restoreTreeMtimes(dir: string, logFile: string): Promise<number> {
  const n = restoreMtimes(dir);
  // Exits 1 when a file's content differs from the index; -q goes on.
  await git(dir, ['update-index', '-q', '--refresh'], logFile).catch(() => undefined);
  return n;
}

/** Put the source tree at "base" plus the whole series. */
export async function applySeries(dir: string, patchDir: string, patches: readonly string[], logFile: string): Promise<void> {
  const commits = await seriesCommits(dir, patchDir, patches, logFile);
  await checkoutTree(dir, commits.at(-1) ?? 'base', logFile);
}

/** A line of make's output that fails a build: the series must build without warnings. */
export const COMPILER_WARNING = /\bwarning: /;

/**
 * After a build failed on warnings: make the next make redo the work that
 * warned, so the warnings show again rather than an up-to-date build that
 * passes. A warning names its source file (touched: whatever includes it
 * recompiles) or else comes from the final link (vmlinux.o removed).
 */
export function redoWarnedWork(sourceDir: string, buildDir: string, warnings: readonly string[]): void {
  const now = new Date();
  for (const w of warnings) {
    const file = /^(\S+?\.[chS]):\d+(:\d+)?: warning:/.exec(w)?.[1];
    const path = file && (isAbsolute(file) ? file : join(sourceDir, file));
    if (path && existsSync(path)) utimesSync(path, now, now);
    else rmSync(join(buildDir, 'vmlinux.o'), { force: true });
  }
}

export function makeArgs(sourceDir: string, buildDir: string, ...rest: string[]): string[] {
  // LOCALVERSION set (empty) keeps setlocalversion from appending "+" for
  // the git tree the series is applied in: the release is 6.12.N-gcma.
  return ['-C', sourceDir, `O=${buildDir}`, 'LOCALVERSION=', ...rest];
}

/** Periodic progress for long makes: lines so far and the last compile step. */
function makeProgress(log: (msg: string) => void, label: string): { onLine: (l: string) => void; stop: () => void } {
  let lines = 0;
  let last = '';
  const t0 = Date.now();
  const timer = setInterval(() => {
    const s = Math.round((Date.now() - t0) / 1000);
    log(`[kernel] ${label}: ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s, ${lines} lines, last: ${last}`);
  }, 20_000);
  return {
    onLine: (l) => {
      lines++;
      if (/^\s+[A-Z]{2,}/.test(l)) last = l.trim();
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * ccache, when installed (scripts/setup.sh installs it), for the x86 builds:
 * the series check's prefixes compile sources that preprocess as the
 * flavour's build did (a patch that changes a header most files include,
 * such as 0013's alloc_tag.h inside options the flavours leave off,
 * otherwise recompiles most of the kernel again; ccache finds those by
 * their preprocessed text), and an edited patch recompiles only what its
 * edit changed. The
 * cache lives in the build cache; `ccache gcc --version` is gcc's, so the
 * config does not change.
 */
function ccache(): { vars: string[]; env: NodeJS.ProcessEnv } {
  const found = ['/usr/bin/ccache', '/usr/local/bin/ccache'].find((p) => existsSync(p));
  if (!found) return { vars: [], env: process.env };
  return {
    vars: [`CC=${found} gcc`],
    env: { ...process.env, CCACHE_DIR: join(cacheRoot(), 'ccache'), CCACHE_MAXSIZE: '6G', CCACHE_NOHASHDIR: '1', CCACHE_COMPILERCHECK: 'content' },
  };
}

/**
 * make -jN in buildDir, with progress lines; returns the compiler warnings
 * it printed (only what this make compiled shows: what it did not had shown
 * in an earlier build), after making the next make redo that work.
 */
export async function makeKernel(sourceDir: string, buildDir: string, jobs: number, logFile: string, log: (msg: string) => void, label: string): Promise<string[]> {
  const progress = makeProgress(log, label);
  const warnings: string[] = [];
  const cc = ccache();
  try {
    await exec('make', makeArgs(sourceDir, buildDir, ...cc.vars, `-j${jobs}`), {
      env: cc.env,
      logFile,
      onLine: (l) => {
        progress.onLine(l);
        if (COMPILER_WARNING.test(l)) warnings.push(l);
      },
    });
  } finally {
    progress.stop();
  }
  if (warnings.length) redoWarnedWork(sourceDir, buildDir, warnings);
  return warnings;
}

/**
 * tinyconfig, the fragments merged on top, olddefconfig: the resolved
 * .config in buildDir. `make` gets `makeVars` too (ARCH=, LLVM=).
 */
export async function configure(sourceDir: string, buildDir: string, fragments: readonly string[], logFile: string, makeVars: readonly string[] = []): Promise<void> {
  await exec('make', makeArgs(sourceDir, buildDir, ...makeVars, 'tinyconfig'), { logFile });
  await exec(join(sourceDir, 'scripts', 'kconfig', 'merge_config.sh'), ['-m', '-O', buildDir, join(buildDir, '.config'), ...fragments], {
    logFile,
    cwd: sourceDir,
  });
  await exec('make', makeArgs(sourceDir, buildDir, ...makeVars, 'olddefconfig'), { logFile });
}

/** Where buildKernel() records which series the source tree holds. */
export function seriesStampPath(sourceDir: string): string {
  return join(sourceDir, '.git', 'gcma-series');
}

/** Build (or find up to date) a flavour, holding the build cache's lock. */
export function buildKernel(opts: BuildOptions = {}): Promise<KernelBuild> {
  const log = opts.log ?? ((m: string) => console.log(m));
  return withCacheLock(() => build(opts, log), log);
}

async function build(opts: BuildOptions, log: (msg: string) => void): Promise<KernelBuild> {
  const flavour = opts.flavour ?? 'default';
  const fragmentsNames = FLAVOURS[flavour];
  if (!fragmentsNames) throw new Error(`unknown kernel flavour '${flavour}' (have: ${Object.keys(FLAVOURS).join(', ')})`);
  const jobs = opts.jobs ?? availableParallelism() + 1;
  const root = projectRoot();
  const steps = new Steps(log);

  const version = await installedSourceVersion();
  const pinned = pinnedSourceVersion(root);
  if (version !== pinned) {
    log(`\n!!! ${SOURCE_PACKAGE} ${pinned} (kernel/source-version) is not installed; building ${version} instead !!!\n`);
  }

  const cache = cacheRoot();
  const sourceDir = sourceDirFor(version);
  const buildDir = join(cache, 'build', flavour);
  const logFile = join(cache, 'build', `${flavour}.log`);
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(logFile, '');
  log(`[kernel] ${SOURCE_PACKAGE} ${version}, flavour ${flavour}, log ${logFile}`);

  if (!existsSync(join(sourceDir, '.git', 'refs', 'tags', 'base'))) {
    await steps.run(`unpack ${SOURCE_TARBALL}`, () => unpackSource(version, sourceDir, logFile));
  }

  const patchDir = join(root, 'kernel', 'patches');
  const patches = seriesFiles(root);
  const seriesKey = inputsKey([version, ...readDirTexts(patchDir, patches)]);
  const seriesStamp = seriesStampPath(sourceDir);
  if (readIfExists(seriesStamp) === seriesKey) steps.skip(`patch series (${patches.length} patches)`);
  else {
    rmSync(seriesStamp, { force: true });
    await steps.run(`apply ${patches.length} patches`, () => applySeries(sourceDir, patchDir, patches, logFile));
    // After an interrupted series check: files back as they were keep their builds.
    await restoreTreeMtimes(sourceDir, logFile);
    writeFileSync(seriesStamp, seriesKey);
  }

  const configDir = join(root, 'kernel', 'config');
  const fragments = readDirTexts(configDir, fragmentsNames);
  const key = inputsKey([seriesKey, ...fragments]);
  const configStamp = join(buildDir, '.gcma-config-key');
  const dotConfig = join(buildDir, '.config');
  if (readIfExists(configStamp) === key && existsSync(dotConfig)) steps.skip('config');
  else {
    rmSync(configStamp, { force: true });
    await steps.run(`configure (tinyconfig + ${fragmentsNames.join(' + ')})`, async () => {
      await configure(sourceDir, buildDir, fragmentsNames.map((f) => join(configDir, f)), logFile);
      const mismatches = checkKconfig(fragments, parseKconfig(readFileSync(dotConfig, 'utf8')));
      if (mismatches.length) {
        throw new Error(`kernel config does not hold what the fragments ask for:\n${formatMismatches(mismatches)}`);
      }
    });
    writeFileSync(configStamp, key);
  }

  const bzImage = join(buildDir, 'arch', 'x86', 'boot', 'bzImage');
  const buildStamp = join(buildDir, '.gcma-build-key');
  if (readIfExists(buildStamp) === key && existsSync(bzImage)) steps.skip('build');
  else {
    rmSync(buildStamp, { force: true });
    await steps.run(`make -j${jobs}`, async () => {
      const warnings = await makeKernel(sourceDir, buildDir, jobs, logFile, log, 'make');
      if (warnings.length) throw new Error(`the ${flavour} kernel builds with compiler warnings (log: ${logFile}):\n${warnings.slice(0, 20).join('\n')}`);
    });
    writeFileSync(buildStamp, key);
  }

  const release = readFileSync(join(buildDir, 'include', 'config', 'kernel.release'), 'utf8').trim();
  log(`[kernel] ${release} ready in ${steps.elapsed()}: ${bzImage}`);
  return { flavour, sourceVersion: version, sourceDir, buildDir, bzImage, release, key };
}
