/**
 * A jest transformer that strips TypeScript with esbuild (no type check), for
 * mutation runs: Stryker starts jest once per mutant, and ts-jest's start-up
 * dominated each run. Type checking stays with ts-jest in npm test.
 */
const esbuild = require('esbuild');

module.exports = {
  process(source, filename) {
    const out = esbuild.transformSync(source, { loader: 'ts', format: 'cjs', target: 'node20', sourcemap: 'inline', sourcefile: filename });
    return { code: out.code };
  },
};
