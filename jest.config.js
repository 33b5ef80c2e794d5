/** Unit, synth and emulator-backed integration tests. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  testTimeout: 120000,
  // Integration suites each start their own moto_server; two workers fit 2 cores.
  maxWorkers: 2,
  // Suites that run dist/ (the sweeper bundle, the CLI, the example app) get a fresh build.
  globalSetup: '<rootDir>/test/support/build-if-stale.js',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  // With --coverage (CI): the runtime, the CLI and the contract must stay covered. The floors sit a
  // few points under what the suite measures (README, Development), so a real drop fails the run.
  collectCoverageFrom: ['lib/**/*.ts'],
  coverageReporters: ['text-summary', 'json-summary'],
  coverageThreshold: require('./test/support/coverage-thresholds.json'),
};
