#!/usr/bin/env node
// Bundles the benchmark (bench/run-bench.ts) into dist/bench/run-bench.js.
// Packages stay external: the benchmark runs from this checkout's node_modules.
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
esbuild.buildSync({
  entryPoints: [path.join(root, 'bench/run-bench.ts')],
  outfile: path.join(root, 'dist/bench/run-bench.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
