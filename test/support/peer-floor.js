/**
 * Builds the library and synthesizes the example app against one exact
 * aws-cdk-lib version from the npm registry, the way a consumer pinned to that
 * version would: a scratch copy of lib/, bin/, tsconfig.json and the handler
 * bundler, with only that aws-cdk-lib installed beside it.
 *
 * The scratch directory sits inside the repository (.peer-floor-*, ignored by
 * git), so every other module (constructs, the AWS SDK, esbuild, typescript)
 * resolves from the repository's node_modules exactly as the lockfile pins it,
 * while `aws-cdk-lib` resolves to the copy installed in the scratch directory.
 * It is removed afterwards, whatever happens.
 *
 *   node test/support/peer-floor.js 2.219.0     # by hand, e.g. to bisect a floor
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');

function run(cmd, args, cwd, env = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/**
 * @param {string} version an exact aws-cdk-lib version, e.g. '2.219.0'
 * @returns {{ version: string, installed: string | undefined, steps: { name: string, ok: boolean, output: string }[],
 *   templates: Record<string, any>, treeVersions: string[] }}
 */
function buildAndSynthesizeAgainst(version) {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`aws-cdk-lib version must be exact (x.y.z), got '${version}'`);
  const scratch = fs.mkdtempSync(path.join(root, '.peer-floor-'));
  const steps = [];
  const result = { version, installed: undefined, steps, templates: {}, treeVersions: [] };
  const step = (name, cmd, args, env) => {
    const r = { name, ...run(cmd, args, scratch, env) };
    steps.push(r);
    return r.ok;
  };
  try {
    fs.writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ name: 'peer-floor-probe', private: true }));
    for (const entry of ['lib', 'bin', 'tsconfig.json', 'scripts/bundle-handlers.js']) {
      fs.cpSync(path.join(root, entry), path.join(scratch, entry), { recursive: true });
    }
    // --legacy-peer-deps: constructs comes from the repository (the lockfile's version), not a fresh resolve.
    const npmArgs = ['install', `aws-cdk-lib@${version}`, '--no-save', '--no-package-lock', '--legacy-peer-deps', '--ignore-scripts'];
    if (!step('npm install', 'npm', [...npmArgs, '--no-audit', '--no-fund'])) return result;
    result.installed = JSON.parse(fs.readFileSync(path.join(scratch, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8')).version;
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    if (!step('tsc', process.execPath, [tsc, '-p', 'tsconfig.json'])) return result;
    if (!step('bundle handlers', process.execPath, ['scripts/bundle-handlers.js'])) return result;
    const outdir = path.join(scratch, 'cdk.out');
    if (!step('synth example app', process.execPath, ['dist/bin/example-app.js'], { CDK_OUTDIR: outdir })) return result;
    for (const file of fs.readdirSync(outdir).filter(f => f.endsWith('.template.json'))) {
      result.templates[file] = JSON.parse(fs.readFileSync(path.join(outdir, file), 'utf8'));
    }
    // tree.json names the aws-cdk-lib version that built each construct (constructInfo.version).
    const versions = new Set();
    const walk = node => {
      if (node?.constructInfo?.fqn?.startsWith('aws-cdk-lib.')) versions.add(node.constructInfo.version);
      for (const child of Object.values(node?.children ?? {})) walk(child);
    };
    const treeFile = path.join(outdir, 'tree.json');
    if (fs.existsSync(treeFile)) walk(JSON.parse(fs.readFileSync(treeFile, 'utf8')).tree);
    result.treeVersions = [...versions].sort();
    return result;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

module.exports = { buildAndSynthesizeAgainst };

if (require.main === module) {
  const r = buildAndSynthesizeAgainst(process.argv[2]);
  for (const s of r.steps) console.log(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name}${s.ok ? '' : `\n${s.output.slice(0, 4000)}`}`);
  console.log(JSON.stringify({ installed: r.installed, templates: Object.keys(r.templates), treeVersions: r.treeVersions }));
  process.exitCode = r.steps.every(s => s.ok) && r.steps.length === 4 ? 0 : 1;
}
