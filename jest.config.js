// The project's jest suites, run from the JavaScript that tsc compiled to
// dist/ (npm run build), in three projects:
//
//   host  unit tests on the host, no VM (npm run test:host)
//   boot  runner tests that boot the patched kernel, one short boot each (npm run test:boot)
//   vm    suites that run inside the guest: make test boots it once for all of them
//
// A compiled test whose TypeScript source is gone is never run: dist/ may
// hold stale output of a deleted or renamed suite.
const { existsSync, readdirSync } = require('node:fs');
const { join, relative } = require('node:path');

const dist = join(__dirname, 'dist');

function compiledTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.js'))
    .map((f) => join(dir, f));
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const stale = compiledTests(join(dist, 'test'))
  .filter((js) => !existsSync(join(__dirname, relative(dist, js)).replace(/\.js$/, '.ts')))
  .map((js) => `^${escape(js)}$`);

const project = (name) => ({
  displayName: name,
  rootDir: __dirname,
  roots: [`<rootDir>/dist/test/${name}`],
  testMatch: ['**/*.test.js'],
  testPathIgnorePatterns: ['/node_modules/', ...stale],
  transform: {},
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/dist/test/support/jest-setup.js'],
});

module.exports = {
  projects: [project('host'), project('boot'), project('vm')],
  watchman: false,
};
