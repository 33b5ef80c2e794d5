/** Small apps for the issue 7 synth tests, and the governance report they write into the cloud assembly. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { GovernedAgentRole, GovernedAgentRoleProps } from '../../lib';
import { GovernanceReport, REPORT_JSON_FILE, REPORT_MARKDOWN_FILE } from '../../lib/analysis';
import { SYNTH_CLOCK_CONTEXT_KEY } from '../../lib/contract';

export const NOW = '2027-01-01T00:00:00Z';

/** An app writing into a fresh temporary directory, with the synth clock at NOW, and one stack. */
export function newApp(): { app: App; stack: Stack; outdir: string } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pd-governance-'));
  const app = new App({ outdir, context: { [SYNTH_CLOCK_CONTEXT_KEY]: NOW } });
  const stack = new Stack(app, 'Agents', { env: { account: '123456789012', region: 'us-east-1' } });
  return { app, stack, outdir };
}

export function agent(stack: Stack, agentId: string, props: Partial<GovernedAgentRoleProps> = {}): GovernedAgentRole {
  return new GovernedAgentRole(stack, agentId, {
    agentId,
    owner: `${agentId}@example.com`,
    assumedBy: new iam.AccountRootPrincipal(),
    ...props,
  });
}

/** Synthesizes the app and reads both report files from the assembly. */
export function synthReport(app: App): { report: GovernanceReport; markdown: string; outdir: string } {
  const outdir = app.synth().directory;
  return {
    report: JSON.parse(fs.readFileSync(path.join(outdir, REPORT_JSON_FILE), 'utf8')),
    markdown: fs.readFileSync(path.join(outdir, REPORT_MARKDOWN_FILE), 'utf8'),
    outdir,
  };
}
