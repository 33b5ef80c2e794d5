import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { GovernedAgentRole, GovernedAgentRoleProps, TemporaryGrantOptions } from '../../lib';
import { SYNTH_CLOCK_CONTEXT_KEY } from '../../lib/contract';

/** The synth clock of construct tests. */
export const NOW = '2026-12-01T00:00:00Z';

export function newStack(now: string = NOW): Stack {
  const app = new App({ context: { [SYNTH_CLOCK_CONTEXT_KEY]: now } });
  return new Stack(app, 'Agents');
}

export function newAgent(stack: Stack, props: Partial<GovernedAgentRoleProps> = {}, id = 'Agent'): GovernedAgentRole {
  return new GovernedAgentRole(stack, id, {
    agentId: 'billing-bot',
    owner: 'team@example.com',
    assumedBy: new iam.AccountRootPrincipal(),
    ...props,
  });
}

export function grantOptions(overrides: Partial<TemporaryGrantOptions> = {}): TemporaryGrantOptions {
  return {
    expiresAt: '2026-12-20T00:00:00Z',
    requestedBy: 'alice@example.com',
    ticket: 'SEC-1234',
    reason: 'answer billing questions',
    ...overrides,
  };
}

export function readStatement(resource = 'arn:aws:s3:::reports/*'): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [resource] });
}
