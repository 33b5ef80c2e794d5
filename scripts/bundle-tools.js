#!/usr/bin/env node
// Bundles a repository tool written in TypeScript (the demo, the benchmark) into
// one CommonJS file that node runs directly; npm packages stay external.
// Usage: node scripts/bundle-tools.js <entry.ts> <out.js>
const path = require('path');
const esbuild = require('esbuild');

const [entry, out] = process.argv.slice(2);
if (!entry || !out) {
  console.error('usage: node scripts/bundle-tools.js <entry.ts> <out.js>');
  process.exit(2);
}
const root = path.resolve(__dirname, '..');
esbuild.buildSync({
  entryPoints: [path.resolve(root, entry)],
  outfile: path.resolve(root, out),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
