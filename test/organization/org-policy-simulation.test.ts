/**
 * Policy simulation of the organisation's controls: what a member account's
 * governed agent (holding events:* and sts:*) can do against the central bus,
 * the forwarding path and the audit role, and the legitimate paths that must
 * keep working (the forwarding role writes the central bus; the org-view role
 * assumes the audit role, which reads and changes nothing).
 */
import { resolveIntrinsics, rolePolicies, simulate, TemplateJson } from '../support/simulate';
import { memberAgentStack, MANAGEMENT_ACCOUNT, MEMBER_ACCOUNT, organizationStack, ORG_ID } from './org-fixture';

const CENTRAL_BUS = `arn:aws:events:us-east-1:${MANAGEMENT_ACCOUNT}:event-bus/permission-decay-org-decisions`;
const ORG_VIEW = `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/permission-decay/org-view/permission-decay-org-view`;
const AUDIT_ROLE = `arn:aws:iam::${MEMBER_ACCOUNT}:role/permission-decay/audit/permission-decay-audit`;
const FORWARD_ROLE = `arn:aws:iam::${MEMBER_ACCOUNT}:role/permission-decay/sweeper/ForwardRole`;
const LEDGER = `arn:aws:dynamodb:us-east-1:${MEMBER_ACCOUNT}:table/permission-decay-ledger-org`;
const GOVERNED_ROLE = `arn:aws:iam::${MEMBER_ACCOUNT}:role/permission-decay/agents/other-bot-us-east-1`;
const SWEEPER_TAGS = { 'governance:component': 'permission-decay-sweeper' };

const central = organizationStack();
const centralTemplate = central.template.toJSON();
const member: TemplateJson = central.org.memberTemplate;
const agentStack = memberAgentStack();
const agentTemplate = agentStack.template.toJSON();

const idOf = (template: TemplateJson, type: string, match: (p: any) => boolean = () => true) => {
  const found = Object.entries<any>(template.Resources).filter(([, r]) => r.Type === type && match(r.Properties ?? {}));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0][0];
};

// The central bus's resource policy, with the bus's own ARN.
const busPolicyStatement = centralTemplate.Resources[idOf(centralTemplate, 'AWS::Events::EventBusPolicy')].Properties.Statement;
const busPolicy = {
  Version: '2012-10-17',
  Statement: [{ ...resolveIntrinsics(centralTemplate, busPolicyStatement), Resource: CENTRAL_BUS }],
};

// The member agent: its baseline (events:*, sts:*) and the account's boundary from the member template.
const agentRoleId = idOf(agentTemplate, 'AWS::IAM::Role');
const agentIdentity = rolePolicies(agentTemplate, agentRoleId).identityPolicies;
const memberBoundary = resolveIntrinsics(
  member,
  member.Resources[idOf(member, 'AWS::IAM::ManagedPolicy', p => p.ManagedPolicyName === 'permission-decay-boundary')].Properties
    .PolicyDocument,
);
const agentArn = `arn:aws:iam::${MEMBER_ACCOUNT}:role/permission-decay/agents/${agentTemplate.Resources[agentRoleId].Properties.RoleName}`;
const asAgent = { identityPolicies: agentIdentity, boundaryPolicies: [memberBoundary], principal: agentArn };

const forwardRoleId = idOf(
  member,
  'AWS::IAM::Role',
  p =>
    p.Path === '/permission-decay/sweeper/' && !p.RoleName && JSON.stringify(p.AssumeRolePolicyDocument).includes('events.amazonaws.com'),
);
const auditRoleId = idOf(member, 'AWS::IAM::Role', p => p.RoleName === 'permission-decay-audit');
const auditIdentity = rolePolicies(member, auditRoleId).identityPolicies;
const auditTrust = resolveIntrinsics(member, member.Resources[auditRoleId].Properties.AssumeRolePolicyDocument);
const orgViewIdentity = rolePolicies(
  centralTemplate,
  idOf(centralTemplate, 'AWS::IAM::Role', p => p.RoleName === 'permission-decay-org-view'),
).identityPolicies;
const orgContext = (principal: string, orgId = ORG_ID) => ({
  'aws:PrincipalOrgID': orgId,
  'aws:PrincipalArn': principal,
  'aws:PrincipalAccount': principal.split(':')[4],
});

describe("the central bus admits only the organisation's sweeper-path roles", () => {
  test.each([['permission-decay'], ['my.app']])('a member agent with events:* cannot put events (source %s) on it', async source => {
    const decision = await simulate({
      ...asAgent,
      action: 'events:PutEvents',
      resource: CENTRAL_BUS,
      resourcePolicy: busPolicy,
      resourceAccount: MANAGEMENT_ACCOUNT,
      context: { ...orgContext(agentArn), 'events:source': [source] },
    });
    expect(decision).not.toBe('Allowed');
  });

  test("control: the member's forwarding role (under the sweeper path) can", async () => {
    expect(
      await simulate({
        ...rolePolicies(member, forwardRoleId),
        principal: FORWARD_ROLE,
        action: 'events:PutEvents',
        resource: CENTRAL_BUS,
        resourcePolicy: busPolicy,
        resourceAccount: MANAGEMENT_ACCOUNT,
        context: { ...orgContext(FORWARD_ROLE), 'events:source': ['permission-decay'] },
      }),
    ).toBe('Allowed');
  });

  test('a sweeper-path role of another organisation, or an org role outside the path with events:*, cannot', async () => {
    expect(
      await simulate({
        ...rolePolicies(member, forwardRoleId),
        principal: FORWARD_ROLE,
        action: 'events:PutEvents',
        resource: CENTRAL_BUS,
        resourcePolicy: busPolicy,
        resourceAccount: MANAGEMENT_ACCOUNT,
        context: orgContext(FORWARD_ROLE, 'o-otherorg000'),
      }),
    ).not.toBe('Allowed');
    const admin = `arn:aws:iam::${MEMBER_ACCOUNT}:role/admin`;
    expect(
      await simulate({
        identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'events:*', Resource: '*' }] }],
        principal: admin,
        action: 'events:PutEvents',
        resource: CENTRAL_BUS,
        resourcePolicy: busPolicy,
        resourceAccount: MANAGEMENT_ACCOUNT,
        context: orgContext(admin),
      }),
    ).not.toBe('Allowed');
  });

  test('the agent cannot pass the forwarding role, nor change the forwarding rule or the member bus', async () => {
    expect(await simulate({ ...asAgent, action: 'iam:PassRole', resource: FORWARD_ROLE, resourceTags: SWEEPER_TAGS })).toBe(
      'ExplicitlyDenied',
    );
    const rule = `arn:aws:events:us-east-1:${MEMBER_ACCOUNT}:rule/permission-decay-decisions/ForwardDecisions`;
    for (const action of ['events:DeleteRule', 'events:RemoveTargets', 'events:PutTargets', 'events:DisableRule']) {
      expect([action, await simulate({ ...asAgent, action, resource: rule, resourceTags: SWEEPER_TAGS })]).toEqual([
        action,
        'ExplicitlyDenied',
      ]);
    }
    const bus = `arn:aws:events:us-east-1:${MEMBER_ACCOUNT}:event-bus/permission-decay-decisions`;
    expect(await simulate({ ...asAgent, action: 'events:DeleteEventBus', resource: bus, resourceTags: SWEEPER_TAGS })).toBe(
      'ExplicitlyDenied',
    );
    // Control: the agent's events:* still works on a rule of its own.
    expect(
      await simulate({ ...asAgent, action: 'events:PutRule', resource: `arn:aws:events:us-east-1:${MEMBER_ACCOUNT}:rule/my-rule` }),
    ).toBe('Allowed');
  });

  test('the bus, the forwarding rule and the audit role carry the tag the boundary denies', () => {
    for (const id of [
      idOf(member, 'AWS::Events::EventBus'),
      forwardRoleId,
      auditRoleId,
      idOf(member, 'AWS::Events::Rule', p => p.EventPattern?.source?.[0] === 'permission-decay'),
    ]) {
      expect(member.Resources[id].Properties.Tags).toEqual(
        expect.arrayContaining([{ Key: 'governance:component', Value: 'permission-decay-sweeper' }]),
      );
    }
  });
});

describe('the audit role', () => {
  test('assumable by the central org-view role only', async () => {
    expect(
      await simulate({
        identityPolicies: orgViewIdentity,
        principal: ORG_VIEW,
        action: 'sts:AssumeRole',
        resource: AUDIT_ROLE,
        resourcePolicy: auditTrust,
        resourceAccount: MEMBER_ACCOUNT,
        context: { ...orgContext(ORG_VIEW), 'aws:ResourceOrgID': ORG_ID },
      }),
    ).toBe('Allowed');
    const mgmtAdmin = `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/admin`;
    expect(
      await simulate({
        identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:*', Resource: '*' }] }],
        principal: mgmtAdmin,
        action: 'sts:AssumeRole',
        resource: AUDIT_ROLE,
        resourcePolicy: auditTrust,
        resourceAccount: MEMBER_ACCOUNT,
        context: orgContext(mgmtAdmin),
      }),
    ).not.toBe('Allowed');
  });

  test('a member agent with sts:* cannot assume it', async () => {
    expect(
      await simulate({
        ...asAgent,
        action: 'sts:AssumeRole',
        resource: AUDIT_ROLE,
        resourcePolicy: auditTrust,
        resourceTags: SWEEPER_TAGS,
        context: orgContext(agentArn),
      }),
    ).not.toBe('Allowed');
  });

  test.each([
    ['iam:GetAccountAuthorizationDetails', '*'],
    ['iam:GetRole', GOVERNED_ROLE],
    ['iam:ListRoleTags', GOVERNED_ROLE],
    ['iam:ListRoles', '*'],
    ['dynamodb:Query', LEDGER],
    ['dynamodb:GetItem', LEDGER],
    ['ssm:GetParametersByPath', `arn:aws:ssm:us-east-1:${MEMBER_ACCOUNT}:parameter/permission-decay/agents`],
  ])('reads: %s', async (action, resource) => {
    expect(await simulate({ identityPolicies: auditIdentity, principal: AUDIT_ROLE, action, resource })).toBe('Allowed');
  });

  test.each([
    ['iam:PutRolePolicy', GOVERNED_ROLE],
    ['iam:DeleteRolePolicy', GOVERNED_ROLE],
    ['iam:TagRole', GOVERNED_ROLE],
    ['iam:UpdateAssumeRolePolicy', AUDIT_ROLE],
    ['iam:CreateRole', GOVERNED_ROLE],
    ['sts:AssumeRole', GOVERNED_ROLE],
    ['dynamodb:PutItem', LEDGER],
    ['dynamodb:DeleteItem', LEDGER],
    ['dynamodb:UpdateItem', LEDGER],
    ['dynamodb:DeleteTable', LEDGER],
    ['ssm:PutParameter', `arn:aws:ssm:us-east-1:${MEMBER_ACCOUNT}:parameter/permission-decay/agents/x`],
    ['kms:Sign', `arn:aws:kms:us-east-1:${MEMBER_ACCOUNT}:key/k`],
    ['events:PutEvents', `arn:aws:events:us-east-1:${MEMBER_ACCOUNT}:event-bus/permission-decay-decisions`],
    ['lambda:InvokeFunction', `arn:aws:lambda:us-east-1:${MEMBER_ACCOUNT}:function:sweeper`],
  ])('changes nothing: %s', async (action, resource) => {
    expect(await simulate({ identityPolicies: auditIdentity, principal: AUDIT_ROLE, action, resource })).not.toBe('Allowed');
  });

  test('every action it is allowed is a read (oracle: the action names, not the simulator)', () => {
    const actions = auditIdentity.flatMap((d: any) =>
      d.Statement.flatMap((s: any) => {
        expect(s.Effect).toBe('Allow');
        expect(s.NotAction).toBeUndefined();
        return [s.Action].flat();
      }),
    );
    expect(actions.length).toBeGreaterThan(0);
    for (const a of actions) expect(a).toMatch(/^(iam|ssm|dynamodb|kms):(Get|List|Query|Describe|Verify)[A-Za-z]*$/);
  });
});
