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
  // Measured (a subset of the suites, 2026-11-28): sweeper 93.0/84.3/97.2/95.9, cli 90.2/76.6/91.8/94.3,
  // contract 99.4/98.8/100/100 (statements/branches/functions/lines). A directory is judged as a whole.
  coverageThreshold: {
    './lib/sweeper/': { statements: 89, branches: 80, functions: 93, lines: 92 },
    './lib/cli/': { statements: 86, branches: 72, functions: 88, lines: 90 },
    './lib/contract/': { statements: 96, branches: 95, functions: 97, lines: 97 },
  },
};
