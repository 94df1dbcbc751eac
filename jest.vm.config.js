// Suites that run inside the QEMU guest against the patched kernel.
// The checkout is read-only there, so jest's cache lives on the guest's tmpfs.
module.exports = {
  rootDir: 'dist/test/vm',
  testMatch: ['**/*.test.js'],
  transform: {},
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/../support/jest-setup.js'],
  watchman: false,
  cacheDirectory: '/tmp/jest-cache',
};
