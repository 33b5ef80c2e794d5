/**
 * Mutation runs only (jest.stryker.config.js; not named .test.ts, so npm test does not run it): every suite
 * that judges the decision core and the contract, loaded into one test file. Stryker's jest runner loads
 * every test file for every mutant (it filters by test name), and Jest's fixed cost per file (environment,
 * module registry, loading decide and the contract again) was most of a mutant's time; one file pays it once.
 * Test names are unchanged, so Stryker's per-test coverage still picks the tests that reach each mutant.
 * None of these suites mocks modules or shares state.
 */
import * as fs from 'fs';
import * as path from 'path';

const TEST_ROOT = path.join(__dirname, '..');
const SUITES: readonly [string, RegExp][] = [
  ['sweeper', /^decide.*\.test\.ts$/],
  ['reliability', /^decide\.property\.test\.ts$/],
  ['contract', /\.test\.ts$/],
  ['checkpoint', /^checkpoint-decision\.test\.ts$/],
];

for (const [dir, pattern] of SUITES) {
  for (const file of fs
    .readdirSync(path.join(TEST_ROOT, dir))
    .filter(f => pattern.test(f))
    .sort()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(path.join(TEST_ROOT, dir, file));
  }
}
