import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { main } from '../../lib/cli/main';
import { REPORT_JSON_FILE, REPORT_MARKDOWN_FILE } from '../../lib/analysis';
import { agent, newApp } from './governance-fixtures';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: t => {
      stdout += t;
    },
    stderr: t => {
      stderr += t;
    },
    env: {},
  });
  return { code, stdout, stderr };
}

describe('permission-decay report', () => {
  let assembly: string;
  beforeAll(() => {
    const { app, stack } = newApp();
    const bucket = new s3.Bucket(stack, 'Drafts');
    const a = agent(stack, 'agent-a');
    const b = agent(stack, 'agent-b', { baseline: [new iam.PolicyStatement({ actions: ['cloudwatch:ListMetrics'], resources: ['*'] })] });
    bucket.grantPut(b);
    a.allowDelegationTo(b);
    assembly = app.synth().directory;
  });

  test('prints the Markdown report of the assembly', async () => {
    const { code, stdout } = await run(['report', '--assembly', assembly]);
    expect(code).toBe(0);
    expect(stdout).toBe(fs.readFileSync(path.join(assembly, REPORT_MARKDOWN_FILE), 'utf8'));
    expect(stdout).toContain('## Agent `agent-a`');
    expect(stdout).toContain('| agent-a → agent-b |');
  });

  test('--json prints the JSON report', async () => {
    const { code, stdout } = await run(['report', '--assembly', assembly, '--json']);
    expect(code).toBe(0);
    expect(stdout).toBe(fs.readFileSync(path.join(assembly, REPORT_JSON_FILE), 'utf8'));
  });

  test('--agent keeps one agent', async () => {
    const { code, stdout } = await run(['report', '--assembly', assembly, '--agent', 'agent-b', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).agents.map((a: { agentId: string }) => a.agentId)).toEqual(['agent-b']);
    const md = await run(['report', `--assembly=${assembly}`, '--agent', 'agent-b']);
    expect(md.stdout).toContain('## Agent `agent-b`');
    expect(md.stdout).not.toContain('## Agent `agent-a`');
  });

  test('an agent the report does not have is bad input (exit 2)', async () => {
    const { code, stderr } = await run(['report', '--assembly', assembly, '--agent', 'nobody']);
    expect(code).toBe(2);
    expect(stderr).toContain('the report has no agent "nobody"; agents: agent-a, agent-b');
  });

  test('without a report in the assembly it exits 2 and says to run cdk synth first', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pd-empty-'));
    const { code, stderr, stdout } = await run(['report', '--assembly', empty, '--json']);
    expect(code).toBe(2);
    expect(stderr).toContain(`no governance report at ${path.join(empty, REPORT_JSON_FILE)}: run cdk synth first`);
    expect(JSON.parse(stdout).error.code).toBe('NO_REPORT');
  });

  test('the default assembly is ./cdk.out', async () => {
    const cwd = process.cwd();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pd-cwd-'));
    fs.mkdirSync(path.join(dir, 'cdk.out'));
    fs.copyFileSync(path.join(assembly, REPORT_JSON_FILE), path.join(dir, 'cdk.out', REPORT_JSON_FILE));
    process.chdir(dir);
    try {
      const { code, stdout } = await run(['report']);
      expect(code).toBe(0);
      expect(stdout).toContain('# Permission-decay governance report');
    } finally {
      process.chdir(cwd);
    }
  });
});
