/**
 * Stands in for the AWS SDK packages in mutation runs only (jest.stryker.config.js). The suites Stryker runs
 * judge pure code (decide, the contract, ledger reads of records already in memory) and make no AWS call;
 * they import the SDK only because ledger.ts, renewal.ts and specs.ts also hold their I/O. Loading the real
 * SDK costs about a second per test file per mutant. Any use of this stand-in throws, so a suite that did
 * reach AWS would fail loudly instead of passing on a fake.
 */
function refuse(name) {
  throw new Error(`${name}: the AWS SDK is not loaded in mutation runs (jest.stryker.config.js); this suite must not call AWS`);
}
module.exports = new Proxy(
  {},
  {
    get(_target, name) {
      if (name === '__esModule') return false;
      if (typeof name !== 'string') return undefined;
      return class {
        constructor() {
          refuse(name);
        }
        static from() {
          refuse(name);
        }
      };
    },
  },
);
