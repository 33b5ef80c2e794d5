/**
 * The fast unit and property suites that judge lib/sweeper/decide.ts and
 * lib/contract/, for mutation testing (npm run mutation). No
 * globalSetup: none of these runs dist/, and a rebuild per mutant would be waste.
 */
module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/test'],
  testMatch: [
    '<rootDir>/test/sweeper/decide.test.ts',
    '<rootDir>/test/sweeper/decide-paths.test.ts',
    '<rootDir>/test/reliability/decide.property.test.ts',
    '<rootDir>/test/contract/contract.test.ts',
    '<rootDir>/test/contract/parse-refusals.test.ts',
    '<rootDir>/test/checkpoint/checkpoint-decision.test.ts',
    '<rootDir>/test/checkpoint/point-in-time.test.ts',
    '<rootDir>/test/sweeper/held-at.test.ts',
  ],
  transform: { '^.+\\.ts$': '<rootDir>/test/support/esbuild-transform.js' },
  // Fewer property runs per mutant (500 in npm test): each mutant is judged by the tests that cover it.
  setupFiles: ['<rootDir>/test/support/stryker-env.js'],
  testTimeout: 120000,
};
