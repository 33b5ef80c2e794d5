/**
 * The app the attack tests evaluate: a real App with two stacks in one
 * account and region.
 *
 * - `Agents`: `greedy-bot`, whose time-bound grant is the broad one an
 *   attacker would want (iam:*, sts:AssumeRole, lambda:*, sqs:*, sns:*,
 *   events:PutEvents, cloudwatch:*, logs:*, kms:*, s3:*) and whose baseline
 *   reads a bucket and queries a table; `helper-bot`, to which greedy-bot has
 *   a declared delegation; `other-bot`, to which nobody delegates; and a
 *   PermissionSweeper with all three registered.
 * - `Elsewhere`: `remote-bot` with the same broad grant, whose boundary knows
 *   the sweeper only by its tags (a sweeper in another stack).
 *
 * Policies are simulated with @cloud-copilot/iam-simulate; the principal is
 * the role's real ARN (its path and deterministic name).
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { GovernedAgentRole, PermissionSweeper } from '../../lib';
import { SYNTH_CLOCK_CONTEXT_KEY } from '../../lib/contract';
import { ensureSweeperHandlerBundle } from '../sweeper-construct/sweeper-fixture';
import { Decision, resolveIntrinsics, rolePolicies, roleTags, SIM_ACCOUNT, TemplateJson } from '../support/simulate';
import { roleArnIn } from './governed-arns';

export const NOW = '2027-01-01T00:00:00Z';
/** An instant inside every grant of the app. */
export const DURING = '2027-01-05T00:00:00Z';
export const BROAD_GRANT_EXPIRY = '2027-01-20T00:00:00Z';
export const BROAD_ACTIONS = [
  'iam:*',
  'sts:AssumeRole',
  'lambda:*',
  'sqs:*',
  'sns:*',
  'events:PutEvents',
  'cloudwatch:*',
  'logs:*',
  'kms:*',
  's3:*',
];

function broadGrant(agent: GovernedAgentRole): void {
  agent.temporaryGrant('broad', {
    expiresAt: BROAD_GRANT_EXPIRY,
    requestedBy: 'mallory@example.com',
    ticket: 'SEC-6666',
    reason: 'everything, for a while',
    statements: [new iam.PolicyStatement({ actions: BROAD_ACTIONS, resources: ['*'] })],
  });
}

export interface GovernedApp {
  readonly app: App;
  readonly agentsStack: Stack;
  readonly elsewhereStack: Stack;
  readonly greedy: GovernedAgentRole;
  readonly helper: GovernedAgentRole;
  readonly other: GovernedAgentRole;
  readonly remote: GovernedAgentRole;
  readonly sweeper: PermissionSweeper;
  readonly bucket: s3.Bucket;
  readonly table: dynamodb.Table;
}

export function buildGovernedApp(): GovernedApp {
  ensureSweeperHandlerBundle();
  const app = new App({ context: { [SYNTH_CLOCK_CONTEXT_KEY]: NOW } });
  const env = { account: SIM_ACCOUNT, region: 'us-east-1' };
  const agentsStack = new Stack(app, 'Agents', { env });
  const elsewhereStack = new Stack(app, 'Elsewhere', { env });
  const agent = (stack: Stack, agentId: string) =>
    new GovernedAgentRole(stack, agentId, { agentId, owner: `${agentId}@example.com`, assumedBy: new iam.AccountRootPrincipal() });

  const bucket = new s3.Bucket(agentsStack, 'Reports');
  const table = new dynamodb.Table(agentsStack, 'Orders', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });
  const greedy = agent(agentsStack, 'greedy-bot');
  bucket.grantRead(greedy);
  table.grant(greedy, 'dynamodb:Query');
  broadGrant(greedy);
  const helper = agent(agentsStack, 'helper-bot');
  const other = agent(agentsStack, 'other-bot');
  greedy.allowDelegationTo(helper);
  const sweeper = new PermissionSweeper(agentsStack, 'Sweeper', { agents: [greedy, helper, other] });

  const remote = agent(elsewhereStack, 'remote-bot');
  broadGrant(remote);
  return { app, agentsStack, elsewhereStack, greedy, helper, other, remote, sweeper, bucket, table };
}

/** One governed role as the simulator sees it: its ARN, identity policies and boundary. */
export interface SimulatedRole {
  readonly arn: string;
  readonly identityPolicies: object[];
  readonly boundaryPolicies: object[];
  /** The role's tags, seen by IAM as aws:PrincipalTag/<key>. */
  readonly principalTags?: Record<string, string>;
}

export function logicalIdOf(construct: { node: { defaultChild?: unknown } }): string {
  return Stack.of(construct as never).getLogicalId(construct.node.defaultChild as never);
}

export function simulatedRole(template: TemplateJson, role: iam.IRole): SimulatedRole {
  const id = logicalIdOf(role as never);
  return { arn: roleArnIn(template, id), ...rolePolicies(template, id), principalTags: roleTags(template, id) };
}

export interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
  readonly resourceTags?: Record<string, string>;
  /** A resource policy (a trust policy, a key policy) evaluated with the identity policies. */
  readonly resourcePolicy?: object;
  /** Default: DURING. */
  readonly at?: string;
}

/** The decision IAM would reach for `role` making `request`. */
export async function decide(role: SimulatedRole, request: Request): Promise<Decision> {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.resourceTags ?? {})) tags[`aws:ResourceTag/${key}`] = value;
  for (const [key, value] of Object.entries(role.principalTags ?? {})) tags[`aws:PrincipalTag/${key}`] = value;
  const result = await runSimulation(
    {
      request: {
        principal: role.arn,
        action: request.action,
        resource: { resource: request.resource, accountId: SIM_ACCOUNT },
        // IAM sets aws:PrincipalArn on every request; the simulator does not for every action.
        contextVariables: { 'aws:CurrentTime': request.at ?? DURING, 'aws:PrincipalArn': role.arn, ...tags, ...request.context },
      },
      identityPolicies: role.identityPolicies.map((policy, i) => ({ name: `identity-${i}`, policy })),
      permissionBoundaryPolicies: role.boundaryPolicies.map((policy, i) => ({ name: `boundary-${i}`, policy })),
      resourcePolicy: request.resourcePolicy,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulation rejected: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

/** A role's trust policy with intrinsics resolved, to evaluate as the resource policy of an assumption. */
export function trustOf(template: TemplateJson, role: iam.IRole): object {
  return resolveIntrinsics(template, template.Resources[logicalIdOf(role as never)].Properties.AssumeRolePolicyDocument);
}

export function templates(governed: GovernedApp): { agents: TemplateJson; elsewhere: TemplateJson } {
  return { agents: Template.fromStack(governed.agentsStack).toJSON(), elsewhere: Template.fromStack(governed.elsewhereStack).toJSON() };
}
