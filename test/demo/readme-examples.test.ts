/**
 * The README's TypeScript examples, as a new user runs them: the library is
 * packed (`npm pack` of this repository, built by the jest global setup),
 * installed into a fresh app in a temporary folder (`npm install <tarball>`,
 * offline-first from the npm cache; aws-cdk-lib and constructs linked from this
 * repository's node_modules, as a consumer's own copies), each example is
 * compiled with the TypeScript compiler against what the tarball ships, and
 * synthesized in a process whose clock harness/shifted-clock.cjs starts at the
 * instant the README states. A block that starts with the "Continues the
 * example" line is compiled after the "Using it on AWS" example.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const CONTINUES = '// Continues the example in "Using it on AWS"';

/** The ```ts blocks of the README, in order, with the heading they sit under. */
function typescriptBlocks(markdown: string): { heading: string; code: string }[] {
  const blocks: { heading: string; code: string }[] = [];
  let heading = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (/^#+ /.test(lines[i])) heading = lines[i].replace(/^#+ /, '');
    if (lines[i].trim() === '```ts') {
      const end = lines.indexOf('```', i + 1);
      blocks.push({ heading, code: lines.slice(i + 1, end).join('\n') });
      i = end;
    }
  }
  return blocks;
}

const blocks = typescriptBlocks(README);
const clock = /with the clock at `(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)`/.exec(README)?.[1];
const base = blocks.find(b => b.heading === 'Using it on AWS');
/** Each example as the program the test compiles: a continuation is appended to the "Using it on AWS" example. */
const programs = blocks.map((b, i) => ({
  name: `example-${i + 1}`,
  heading: b.heading,
  source: b.code.startsWith(CONTINUES) ? `${base?.code}\n${b.code}\n` : `${b.code}\n`,
}));

let app: string;
let work: string;
let compiled: { status: number | null; output: string };

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pd-readme-'));
  // --ignore-scripts: the package is already built (jest's global setup); pack exactly what `files` ships.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as { filename: string }[];
  const tarball = path.join(work, packed[0].filename);
  app = path.join(work, 'consumer-app');
  fs.mkdirSync(app);
  fs.writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'consumer-app',
        version: '1.0.0',
        private: true,
      },
      null,
      2,
    ),
  );
  // The tarball and its own dependencies from the npm cache where it has them (CI: the registry). The peer dependencies
  // (aws-cdk-lib, constructs) are not downloaded again: --legacy-peer-deps leaves them out and the app links this
  // repository's copies, as a consumer's own would sit in its node_modules.
  execFileSync(
    'npm',
    ['install', tarball, '--prefer-offline', '--legacy-peer-deps', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 },
  );
  for (const peer of ['aws-cdk-lib', 'constructs']) {
    fs.symlinkSync(path.join(ROOT, 'node_modules', peer), path.join(app, 'node_modules', peer), 'dir');
  }
  fs.writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'commonjs',
          moduleResolution: 'node',
          strict: true,
          outDir: 'out',
          rootDir: '.',
          skipLibCheck: true,
          types: [],
          esModuleInterop: true,
        },
        include: programs.map(p => `${p.name}.ts`),
      },
      null,
      2,
    ),
  );
  for (const p of programs) fs.writeFileSync(path.join(app, `${p.name}.ts`), p.source);
  // Compiled here, not in a test: the synth tests need the output whatever order jest runs them in (CI shuffles).
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', app], { encoding: 'utf8' });
  compiled = { status: run.status, output: `${run.stdout}${run.stderr}` };
}, 900_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the README has the examples this test compiles, and states the clock they are synthesized at', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(3);
  expect(base?.code).toMatch(/new GovernedAgentRole/);
  expect(clock).toBeDefined();
  // A continuation needs the example it continues.
  expect(blocks.filter(b => b.code.startsWith(CONTINUES)).length).toBeGreaterThan(0);
});

test('the consumer app installed the packed library, not this repository', () => {
  const installed = path.join(app, 'node_modules', 'permission-decay');
  expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
  expect(fs.existsSync(path.join(installed, 'dist', 'lib', 'index.js'))).toBe(true);
  expect(fs.existsSync(path.join(installed, 'dist', 'handlers'))).toBe(true);
  // The README's local recipe bootstraps with the template the package ships.
  expect(fs.existsSync(path.join(installed, 'emulator', 'cdk-bootstrap-template.yaml'))).toBe(true);
  expect(fs.existsSync(path.join(installed, 'lib'))).toBe(false); // sources are not shipped
});

test('every TypeScript block of the README compiles against the packed library', () => {
  expect(compiled.output).toBe('');
  expect(compiled.status).toBe(0);
});

describe.each(programs.map(p => [p.name, p.heading] as const))('%s (%s)', name => {
  test("synthesizes at the README's clock, with every grant in the template", () => {
    const outdir = path.join(work, `${name}.out`);
    const harness = path.join(ROOT, 'harness', 'shifted-clock.cjs');
    const run = spawnSync(process.execPath, ['--require', harness, path.join(app, 'out', `${name}.js`)], {
      cwd: app,
      encoding: 'utf8',
      // CDK_OUTDIR is what the CDK CLI sets: the App synthesizes there when the program ends.
      env: { PATH: process.env.PATH, CDK_OUTDIR: outdir, PERMISSION_DECAY_HARNESS_NOW: clock!, NODE_NO_WARNINGS: '1' },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
    const stacks = Object.values(manifest.artifacts as Record<string, { type: string; properties?: { templateFile: string } }>).filter(
      a => a.type === 'aws:cloudformation:stack',
    );
    expect(stacks.length).toBe(1);
    const template = JSON.parse(fs.readFileSync(path.join(outdir, stacks[0].properties!.templateFile), 'utf8'));
    const types = Object.values(template.Resources as Record<string, { Type: string }>).map(r => r.Type);
    expect(types).toContain('AWS::IAM::Role');
    // Every expiry the example writes is in the template, as a date condition.
    const source = programs.find(p => p.name === name)!.source;
    for (const expiry of source.match(/expiresAt: '([^']+)'/g) ?? []) {
      expect(JSON.stringify(template)).toContain(`"aws:CurrentTime":"${/'([^']+)'/.exec(expiry)![1]}"`);
    }
  }, 300_000);
});

test("the clock matters: a day after the example's grant expires, synth refuses it", () => {
  const first = programs[programs.findIndex(p => p.heading === 'Using it on AWS')];
  const expiry = /expiresAt: '([^']+)'/.exec(first.source)![1];
  const after = new Date(Date.parse(expiry) + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const harness = path.join(ROOT, 'harness', 'shifted-clock.cjs');
  const run = spawnSync(process.execPath, ['--require', harness, path.join(app, 'out', `${first.name}.js`)], {
    cwd: app,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, CDK_OUTDIR: path.join(work, 'late.out'), PERMISSION_DECAY_HARNESS_NOW: after, NODE_NO_WARNINGS: '1' },
  });
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/renew or remove it/);
}, 300_000);
