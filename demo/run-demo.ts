/**
 * `npm run demo`: deploy the example app to a local AWS emulator and watch
 * permissions decay. Starts moto_server on a free loopback port, runs the
 * scenario (demo/scenario.ts), writes demo-report.md, stops the emulator, and
 * exits 0 only if every step did what it says. Everything else it makes (the
 * cloud assembly, the CDK CLI's outputs, the Lambda code) goes into one
 * temporary folder that is removed at the end: demo-report.md is the only file
 * it writes into the clone.
 */
import * as fs from 'fs';
import * as path from 'path';
import { startMoto } from '../test/support/moto';
import { DecayScenario, defaultWorkDir } from './scenario';
import { Narrator } from './narrator';

async function run(): Promise<number> {
  const root = path.resolve(__dirname, '..', '..');
  const reportFile = path.join(root, 'demo-report.md');
  const cliPath = path.join(root, 'dist', 'bin', 'permission-decay.js');
  if (!fs.existsSync(cliPath)) {
    process.stderr.write(`demo: ${cliPath} is missing; run it through \`npm run demo\`, which builds first\n`);
    return 2;
  }
  const narrator = new Narrator();
  narrator.say('# permission-decay demo: agents deployed from CDK, watching their permissions decay');
  const moto = await startMoto();
  narrator.say(`Local AWS emulator (moto_server) listening on ${moto.endpoint}.`);
  const started = Date.now();
  const workDir = defaultWorkDir();
  let failure: unknown;
  try {
    const scenario = new DecayScenario(
      {
        endpoint: moto.endpoint,
        region: 'us-east-1',
        accountId: '123456789012',
        workDir,
        cliPath,
      },
      narrator,
    );
    await scenario.deploy();
    await scenario.requestAndDrift();
    await scenario.timePasses();
    await scenario.historyAndRestore();
    await scenario.writeHtmlReport(path.join(root, 'demo-report.html'));
  } catch (e) {
    failure = e;
    narrator.check('the scenario ran to the end', false, (e as Error).stack ?? String(e));
  } finally {
    await moto.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  narrator.say(
    `\nEmulator stopped. ${narrator.checkCount} checks in ${seconds} s; report written to ${path.relative(process.cwd(), reportFile) || reportFile}.`,
  );
  narrator.writeReport(
    reportFile,
    `# permission-decay demo report\n\nRun on ${new Date().toISOString()} against moto_server (local AWS emulator).`,
  );
  if (failure || narrator.failures.length) {
    process.stderr.write(
      `\ndemo: ${narrator.failures.length} check(s) failed:\n${narrator.failures.map(f => `  - ${f.step}: ${f.check.what}`).join('\n')}\n`,
    );
    return 1;
  }
  process.stdout.write(`\nEvery step did what it says (${narrator.checkCount} checks).\n`);
  return 0;
}

run().then(
  code => process.exit(code),
  e => {
    process.stderr.write(`demo: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
