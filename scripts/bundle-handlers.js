#!/usr/bin/env node
// Bundles the Lambda handlers that ship with the library, once, when the library
// is built (as aws-cdk-lib does): consumers never run esbuild at synth.
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const handlers = [
  { entry: 'lib/sweeper/handler.ts', out: 'dist/handlers/sweeper/index.js' },
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
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
}
