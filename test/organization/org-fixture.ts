/** A management-account stack with a GovernedOrganization, and a member account's agent stack, for synth and simulation tests. */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Template } from 'aws-cdk-lib/assertions';
import { GovernedAgentRole, GovernedOrganization, GovernedOrganizationProps } from '../../lib';

export const MANAGEMENT_ACCOUNT = '111111111111';
export const MEMBER_ACCOUNT = '123456789012';
export const ORG_ID = 'o-abcdefghij';
export const OU_ID = 'ou-ab12-cdefghij';

export const ORG_PROPS: GovernedOrganizationProps = {
  organizationId: ORG_ID,
  organizationalUnitIds: [OU_ID],
  region: 'us-east-1',
  assetBucketPrefix: 'pd-org-assets',
};

export function organizationStack(props: Partial<GovernedOrganizationProps> = {}, account = MANAGEMENT_ACCOUNT) {
  const app = new App();
  const stack = new Stack(app, 'Governance', { env: { account, region: 'us-east-1' } });
  const org = new GovernedOrganization(stack, 'Org', { ...ORG_PROPS, ...props });
  return { app, stack, org, template: Template.fromStack(stack) };
}

/** An agent stack in a member account that uses the account's governance. */
export function memberAgentStack() {
  const app = new App({ context: { 'permission-decay:now': '2026-11-01T00:00:00Z' } });
  const stack = new Stack(app, 'Agents', { env: { account: MEMBER_ACCOUNT, region: 'us-east-1' } });
  const agent = new GovernedAgentRole(stack, 'Bot', {
    agentId: 'org-bot',
    owner: 'team@example.com',
    assumedBy: new iam.ServicePrincipal('bedrock.amazonaws.com'),
    sharedBoundary: GovernedOrganization.memberBoundary(stack),
    baseline: [new iam.PolicyStatement({ actions: ['events:*', 'sts:*'], resources: ['*'] })],
  });
  return { app, stack, agent, template: Template.fromStack(stack) };
}
