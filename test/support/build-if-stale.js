/**
 * Jest globalSetup: several suites run what `npm run build` makes (the sweeper
 * bundle in dist/handlers, the CLI in dist/bin, the compiled library). Rebuild
 * when any source is newer than the oldest of those outputs, so `npx jest`
 * never runs a stale dist/. When dist/ is up to date this is a directory walk.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const SOURCES = ['lib', 'bin', 'scripts/bundle-handlers.js', 'tsconfig.json', 'package-lock.json'];
const OUTPUTS = ['dist/handlers/sweeper/index.js', 'dist/bin/permission-decay.js', 'dist/bin/example-app.js', 'dist/lib/index.js'];

function newestMtime(p) {
  const stat = fs.statSync(p, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

module.exports = async function buildIfStale() {
  const outputs = OUTPUTS.map(o => fs.statSync(path.join(root, o), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  const oldestOutput = Math.min(...outputs);
  const newestSource = Math.max(...SOURCES.map(s => newestMtime(path.join(root, s))));
  if (oldestOutput > newestSource) return;
  process.stdout.write(`\n[build-if-stale] dist/ is older than its sources: npm run build\n`);
  const run = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (run.status !== 0) throw new Error(`npm run build failed before the tests:\n${run.stdout}\n${run.stderr}`);
};
