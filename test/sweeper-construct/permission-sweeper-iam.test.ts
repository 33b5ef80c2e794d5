import { Template } from 'aws-cdk-lib/assertions';
import { MANAGED_BY_VALUE, TAG_AGENT, TAG_GRANT_PREFIX, TAG_MANAGED_BY, TAG_OWNER } from '../../lib/contract';
import { sweeperStack } from './sweeper-fixture';

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

function sweeperStatements(template: Template): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const roles = template.findResources('AWS::IAM::Role');
  const inline = Object.values(roles).flatMap(r => (r.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]);
  expect(inline).toEqual([]);
  for (const r of Object.values(roles)) expect(r.Properties.ManagedPolicyArns).toBeUndefined();
  // The sweeper's own role (the activity recorder's role has its own policy and tests: test/activity).
  return Object.values(policies)
    .filter(p => JSON.stringify(p.Properties.Roles).includes('"SweeperRole'))
    .flatMap(p => p.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const bySid = (statements: Statement[], sid: string) => {
  const s = statements.find(x => x.Sid === sid);
  if (!s) throw new Error(`no statement ${sid}`);
  return s;
};

describe('the sweeper role', () => {
  const { template } = sweeperStack();
  const statements = sweeperStatements(template);
  const allows = statements.filter(s => s.Effect === 'Allow');
  const allowed = new Set(allows.flatMap(actionsOf));
  const governed = { [`aws:ResourceTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE };

  test('every role write it is allowed is scoped to the governed path by ARN, not by a tag', () => {
    const iamWrites = allows.filter(s => actionsOf(s).some(a => /^iam:(Tag|Untag|Put|Delete|Detach|Create|Attach|Update)/.test(a)));
    expect(iamWrites.map(s => s.Sid).sort()).toEqual([
      'AnchorLedgerHeadOnGovernedRoles',
      'ChangeGovernedRoleGrants',
      'RenewManagedGrantPolicies',
      'TagGovernedRoleGrants',
      'UntagGovernedRoleGrants',
    ]);
    for (const s of iamWrites.filter(x => x.Sid !== 'RenewManagedGrantPolicies')) {
      expect(JSON.stringify(s.Resource)).toContain(':role/permission-decay/agents/*');
      expect(JSON.stringify(s.Condition ?? {})).not.toContain('aws:ResourceTag');
    }
    // A managed policy has no governed path: its versions are written only where the policy is tagged governed.
    expect(bySid(statements, 'RenewManagedGrantPolicies').Condition?.StringEquals).toEqual(governed);
    expect(new Set(iamWrites.flatMap(actionsOf))).toEqual(
      new Set([
        'iam:TagRole',
        'iam:UntagRole',
        'iam:DeleteRolePolicy',
        'iam:DetachRolePolicy',
        'iam:PutRolePolicy',
        'iam:CreatePolicyVersion',
        'iam:DeletePolicyVersion',
      ]),
    );
  });

  test('it tags grant tags and the governance tags it puts back; it untags grant tags only', () => {
    expect(bySid(statements, 'TagGovernedRoleGrants').Condition).toEqual({
      'ForAllValues:StringLike': { 'aws:TagKeys': [`${TAG_GRANT_PREFIX}*`, TAG_MANAGED_BY, TAG_AGENT, TAG_OWNER] },
      Null: { 'aws:TagKeys': 'false' },
      StringEqualsIfExists: { [`aws:RequestTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE },
    });
    expect(bySid(statements, 'UntagGovernedRoleGrants').Condition).toEqual({
      'ForAllValues:StringLike': { 'aws:TagKeys': [`${TAG_GRANT_PREFIX}*`] },
      Null: { 'aws:TagKeys': 'false' },
    });
    const deny = bySid(statements, 'DenyRemovingGovernanceTags');
    expect(deny.Effect).toBe('Deny');
    expect(deny.Condition).toEqual({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': [TAG_MANAGED_BY, TAG_AGENT, TAG_OWNER] } });
  });

  test.each([
    'iam:AttachRolePolicy',
    'iam:CreateRole',
    'iam:UpdateAssumeRolePolicy',
    'iam:PutRolePermissionsBoundary',
    'iam:DeleteRolePermissionsBoundary',
    'iam:PassRole',
    'iam:*',
    '*',
    'dynamodb:DeleteItem',
    'dynamodb:DeleteTable',
    'dynamodb:BatchWriteItem',
    'dynamodb:*',
  ])('allows no %s', action => {
    expect(allowed.has(action)).toBe(false);
  });

  test('escalation actions are denied outright', () => {
    const s = bySid(statements, 'DenyPrivilegeEscalation');
    expect(s.Effect).toBe('Deny');
    expect(s.Resource).toBe('*');
    expect(actionsOf(s)).toEqual(
      expect.arrayContaining([
        'iam:AttachRolePolicy',
        'iam:CreateRole',
        'iam:UpdateAssumeRolePolicy',
        'iam:PutRolePermissionsBoundary',
        'iam:DeleteRolePermissionsBoundary',
      ]),
    );
  });

  test('the ledger allows only item reads and conditional appends, and denies erasure explicitly', () => {
    const append = bySid(statements, 'AppendToLedger');
    expect(actionsOf(append).sort()).toEqual(['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    const deny = bySid(statements, 'DenyLedgerErasure');
    expect(deny.Effect).toBe('Deny');
    expect(actionsOf(deny)).toEqual(
      expect.arrayContaining([
        'dynamodb:DeleteItem',
        'dynamodb:DeleteTable',
        'dynamodb:UpdateTable',
        'dynamodb:DeleteBackup',
        'dynamodb:UpdateItem',
      ]),
    );
    expect(JSON.stringify(deny.Resource)).toContain('SweeperLedger');
    const dynamodbAllows = allows.filter(s => actionsOf(s).some(a => a.startsWith('dynamodb:')));
    expect(dynamodbAllows.map(s => s.Sid)).toEqual(['AppendToLedger']);
  });

  test('its own role is out of reach even if someone tags it', () => {
    const s = bySid(statements, 'DenyChangingOwnRole');
    expect(s.Effect).toBe('Deny');
    expect(s.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^SweeperRole/), 'Arn'] });
    expect(actionsOf(s)).toEqual(expect.arrayContaining(['iam:PutRolePolicy', 'iam:TagRole', 'iam:UntagRole']));
  });

  test('it reads IAM account-wide and specs only under the spec prefix', () => {
    expect(actionsOf(bySid(statements, 'ReadAccountIam')).sort()).toEqual([
      'iam:GetAccountAuthorizationDetails',
      'iam:GetPolicy',
      'iam:GetPolicyVersion',
      'iam:ListPolicyVersions',
    ]);
    const specs = JSON.stringify(bySid(statements, 'ReadApprovedSpecs').Resource);
    expect(specs).toContain(':parameter/permission-decay/agents/*');
    expect(specs).not.toMatch(/parameter\/\*/);
  });

  test('publishes events, owner messages and dead letters only to its own bus, topic and queue', () => {
    const single = (action: string) => allows.filter(s => actionsOf(s).includes(action)).map(s => JSON.stringify(s.Resource));
    expect(single('events:PutEvents')).toEqual([expect.stringContaining(':event-bus/default')]);
    expect(single('sns:Publish')).toEqual([expect.stringContaining('SweeperOwnerTopic')]);
    expect(single('sqs:SendMessage')).toEqual([expect.stringContaining('SweeperDeadLetterQueue')]);
    expect(single('logs:PutLogEvents')).toEqual([expect.stringContaining('SweeperLogGroup')]);
  });

  test('every allow except the account-wide IAM reads names a resource narrower than *', () => {
    for (const s of allows) {
      if (s.Sid === 'ReadAccountIam') continue;
      expect(s.Resource).not.toEqual('*');
    }
  });
});
