/**
 * The npm package as another project gets it: `npm pack`, installed from
 * the tarball into a scratch project (its install script builds the addon
 * there), type-checked against the package's own types, and a short script
 * of that project run in the VM against the test module, booted by the
 * package's own `gcma vm --kernel --kdir`.
 *
 * The tarball is packed with --ignore-scripts: prepack (tsconfig.build.json)
 * and prepare would rewrite dist/ while the VM suites beside this test load
 * it; make test's setup compiled the same dist/lib, and a case below checks
 * that prepack's build makes exactly the files the tarball holds.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { projectRoot } from '../../lib/paths';
import { userProjectOptions } from '../support/readme';
import { SMALL_GUEST_MIB, testKernel, testModule } from '../support/test-kernel';

jest.setTimeout(600_000);

const root = projectRoot();
const dir = join(root, 'results', 'test', 'boot', 'package');
const project = join(dir, 'project');
let tarball: string;
let files: string[];

beforeAll(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(project, { recursive: true });
  const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' })) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  tarball = join(dir, packed[0]!.filename);
  files = packed[0]!.files.map((f) => f.path).sort();
  // npm 11 runs a dependency's install script only once it is approved
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-gcma', private: true, allowScripts: { [`file:${tarball}`]: true } }));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: project, stdio: ['ignore', 'ignore', 'pipe'] });
});

it('packs the API with its types, the addon sources, the uapi header and the VM guest init, and nothing of the tests or the kernel series', () => {
  for (const f of ['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/device.d.ts', 'dist/lib/cli.js', 'addon/device.cc', 'binding.gyp', 'kernel/include/uapi/linux/gcma_test.h', 'lib/vm/guest-init.c', 'package.json', 'README.md']) {
    expect(files).toContain(f);
  }
  expect(files.filter((f) => /^(test|scripts|kernel\/patches|kernel\/module|dist\/test)\//.test(f) || f.endsWith('.map'))).toEqual([]);
  // @internal members are not in the published types (the control: the source has them)
  const internal = /readonly handle:|readonly results:|callAsync</;
  expect(readFileSync(join(root, 'lib', 'device.ts'), 'utf8')).toMatch(internal);
  expect(execFileSync('tar', ['-xOzf', tarball, 'package/dist/lib/device.d.ts'], { encoding: 'utf8' })).not.toMatch(internal);
});

it("prepack's build makes exactly the dist/lib files the tarball holds", () => {
  const out = mkdtempSync(join(tmpdir(), 'gcma-prepack-'));
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { cwd: root });
    const built = readdirSync(join(out, 'lib'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))
      .map((f) => `dist/lib/${f}`)
      .sort();
    expect(built).toEqual(files.filter((f) => f.startsWith('dist/')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

/** The user's script: open the device, allocate and free, and a typed error. */
const SCRIPT = `import { Device, isArgumentError, NotFoundError } from 'gcma';

using dev = Device.open();
const area = dev.register('uses-gcma', 16);
{
  using a = area.alloc(4);
  console.log('allocated', a.range.count, 'of', area.pages);
}
try {
  dev.area('no-such-area');
} catch (err) {
  console.log('typed', err instanceof NotFoundError);
}
try {
  area.alloc(0);
} catch (err) {
  console.log('argument', isArgumentError(err));
}
console.log('allocated after', area.stats().allocated);
`;

it("installs in another project, builds the addon there, and the project's strict TypeScript checks against the package's types", () => {
  expect(readdirSync(join(project, 'node_modules', 'gcma', 'build', 'Release'))).toContain('gcma.node');
  const file = join(project, 'main.ts');
  writeFileSync(file, SCRIPT);
  const program = ts.createProgram([file], { ...userProjectOptions(root), outDir: project });
  const emitted = program.emit();
  const errors = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  expect(errors).toEqual([]);
  // 'gcma' resolved to the installed package's types, not to this checkout
  const resolved = program.getSourceFiles().map((f) => relative(project, f.fileName)).filter((f) => f.includes('gcma'));
  expect(resolved).toContain('node_modules/gcma/dist/lib/index.d.ts');
});

// Booted by the installed package's own CLI (its gcma bin), given the
// test kernel as a kernel built elsewhere: no checkout needed for that
it('runs from that project in the VM that the package\'s gcma vm --kernel boots', async () => {
  const kernel = await testKernel();
  const args = ['vm', '--kernel', kernel.bzImage, '--kdir', kernel.buildDir, '--memory', String(SMALL_GUEST_MIB), '--results', join(dir, 'vm')];
  args.push('--module', await testModule(kernel, 'gcma_test'), '--', 'node', 'main.js');
  const r = await promisify(execFile)(join(project, 'node_modules', '.bin', 'gcma'), args, { cwd: project, encoding: 'utf8' });
  expect(r.stdout).toBe('allocated 4 of 16\ntyped true\nargument true\nallocated after 0\n');
  expect(r.stderr).toMatch(new RegExp(`^\\[vm\\] ${kernel.release.replace(/\./g, '\\.')} \\((tcg|kvm)\\): exit 0 in `, 'm'));
});
