// Host-side suites: pure unit tests and runner tests that boot the VM.
// Tests are compiled by tsc first (npm run build); jest runs the JS as is.
module.exports = {
  rootDir: 'dist/test',
  roots: ['<rootDir>/host', '<rootDir>/boot'],
  testMatch: ['**/*.test.js'],
  transform: {},
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/support/jest-setup.js'],
  watchman: false,
};
