/**
 * The fast, emulator-free suites that judge the decision core (lib/sweeper/decide/, lib/sweeper/plan.ts) and the
 * contract (lib/contract/), for mutation testing (npm run mutation).
 * - No suite here starts moto_server or runs dist/, so there is no globalSetup (a rebuild per mutant is waste).
 * - Jest cannot bail and Stryker's runner loads every test file for every mutant (it filters by test name
 *   only), so the suites are loaded through one file, and only suites that exercise these modules directly
 *   (the CLI suites held-at and point-in-time load the whole CLI for a few contract calls).
 */
module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/test'],
  // One file that loads every suite judging these modules: see test/support/stryker-suites.ts.
  testMatch: ['<rootDir>/test/support/stryker-suites.ts'],
  // These suites make no AWS call; they import the SDK only through ledger.ts, renewal.ts and specs.ts.
  moduleNameMapper: { '^@aws-sdk/(client-[a-z-]+|lib-dynamodb)$': '<rootDir>/test/support/stryker-aws-sdk-stub.js' },
  transform: { '^.+\\.ts$': '<rootDir>/test/support/esbuild-transform.js' },
  // Fewer property runs per mutant (500 in npm test): each mutant is judged by the tests that cover it.
  setupFiles: ['<rootDir>/test/support/stryker-env.js'],
  testTimeout: 120000,
};
