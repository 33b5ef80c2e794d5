import { App, Duration, Stack, Tags } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as fc from 'fast-check';
import {
  canonicalPolicyJson,
  GOVERNED_ROLE_PATH,
  grantDocumentWithExpiry,
  LEDGER_TABLE_NAME_PREFIX,
  parseAgentSpec,
  specParameterName,
} from '../../lib/contract';
import { unknownActionReason } from '../../lib/analysis/action-catalogue';
import { boundaryStatements } from '../../lib/private/agent-boundary';
import { governedRoleName } from '../../lib/private/agent-role';
import { resolveIntrinsics, roleTags } from '../support/simulate';
import { grantOptions, newAgent, newStack, readStatement } from './fixtures';

function roleLogicalId(template: Template): string {
  const roles = Object.keys(template.findResources('AWS::IAM::Role'));
  expect(roles).toHaveLength(1);
  return roles[0];
}

function specOf(template: Template, agentId: string) {
  const params = template.findResources('AWS::SSM::Parameter', { Properties: { Name: specParameterName(agentId) } });
  const [param] = Object.values(params);
  const json = template.toJSON();
  return { param, spec: parseAgentSpec(resolveIntrinsics(json, param.Properties.Value), agentId) };
}

describe('role tags', () => {
  test('the role carries the governance tags and one expiry tag per grant', () => {
    const stack = newStack();
    const agent = newAgent(stack);
    agent.temporaryGrant('reports-read', grantOptions({ statements: [readStatement()] }));
    const template = Template.fromStack(stack);
    expect(roleTags(template.toJSON(), roleLogicalId(template))).toEqual({
      'governance:managed-by': 'permission-decay',
      'governance:agent': 'billing-bot',
      'governance:owner': 'team@example.com',
      'governance:grant:reports-read': 'expires=2026-12-20T00:00:00Z by=alice@example.com ticket=SEC-1234',
      'governance:spec-digest': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  test('governance tags win over stack-wide tags of the same key', () => {
    const stack = newStack();
    newAgent(stack);
    Tags.of(stack).add('governance:owner', 'someone-else');
    const template = Template.fromStack(stack);
    expect(roleTags(template.toJSON(), roleLogicalId(template))['governance:owner']).toBe('team@example.com');
  });
});

describe('grants', () => {
  test('a grant is a separate AWS::IAM::Policy named after it, not inline on the role nor a managed policy ARN', () => {
    const stack = newStack();
    const agent = newAgent(stack);
    agent.temporaryGrant('reports-read', grantOptions({ statements: [readStatement()] }));
    const template = Template.fromStack(stack);
    const roleId = roleLogicalId(template);
    template.hasResourceProperties('AWS::IAM::Policy', { PolicyName: 'reports-read', Roles: [{ Ref: roleId }] });
    template.hasResourceProperties('AWS::IAM::Role', { Policies: Match.absent(), ManagedPolicyArns: Match.absent() });
  });

  test('every grant statement carries DateLessThan aws:CurrentTime, merged with its own conditions', () => {
    const stack = newStack();
    const agent = newAgent(stack);
    agent.temporaryGrant(
      'reports-read',
      grantOptions({
        statements: [
          new iam.PolicyStatement({
            actions: ['s3:GetObject'],
            resources: ['arn:aws:s3:::reports/*'],
            conditions: { DateLessThan: { 'aws:EpochTime': '1900000000' }, Bool: { 'aws:SecureTransport': 'true' } },
          }),
        ],
      }),
    );
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: 'reports-read',
      PolicyDocument: {
        Statement: [
          {
            Action: 's3:GetObject',
            Condition: {
              DateLessThan: { 'aws:CurrentTime': '2026-12-20T00:00:00Z', 'aws:EpochTime': '1900000000' },
              Bool: { 'aws:SecureTransport': 'true' },
            },
          },
        ],
      },
    });
  });

  test('CDK grant calls on a grant add conditioned statements to it, also when made after the grant', () => {
    const stack = newStack();
    const agent = newAgent(stack);
    const table = new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const bucket = new s3.Bucket(stack, 'Bucket');
    const grant = agent.temporaryGrant('customer-db-read', grantOptions());
    table.grantReadData(grant);
    bucket.grantRead(grant);
    grant.addStatements(readStatement());
    const template = Template.fromStack(stack);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: 'customer-db-read' } }));
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    expect(statements.length).toBeGreaterThanOrEqual(4);
    for (const s of statements) expect(s.Condition.DateLessThan['aws:CurrentTime']).toBe('2026-12-20T00:00:00Z');
    // No resource policy was given the grant's permissions without the expiry.
    template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    expect(JSON.stringify(template.findResources('AWS::DynamoDB::Table'))).not.toContain('ResourcePolicy');
  });

  test('grant calls on an encrypted queue put the key and queue permissions in the grant, not in the key policy', () => {
    const stack = newStack();
    const agent = newAgent(stack);
    const key = new kms.Key(stack, 'Key');
    const queue = new sqs.Queue(stack, 'Queue', { encryptionMasterKey: key });
    queue.grantSendMessages(agent.temporaryGrant('queue-send', grantOptions()));
    const template = Template.fromStack(stack);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: 'queue-send' } }));
    const actions = (policy.Properties.PolicyDocument.Statement as any[]).flatMap(s => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'kms:Encrypt']));
    const [keyResource] = Object.values(template.findResources('AWS::KMS::Key'));
    expect(JSON.stringify(keyResource.Properties.KeyPolicy)).not.toContain('sqs');
    expect(JSON.stringify(keyResource.Properties.KeyPolicy)).not.toContain(roleLogicalId(template));
  });

  test('grant documents agree with the contract: applying withExpiryCondition again changes nothing', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('StringEquals', 'DateLessThan', 'Bool', 'IpAddress'),
          fc.dictionary(
            fc.constantFrom('aws:CurrentTime', 'aws:SourceIp', 's3:prefix', 'aws:SecureTransport'),
            fc.string({ minLength: 1, maxLength: 8 }),
            { minKeys: 1 },
          ),
        ),
        fc.date({ min: new Date('2026-12-02T00:00:00Z'), max: new Date('2026-12-30T00:00:00Z'), noInvalidDate: true }),
        (conditions, expiry) => {
          const expiresAt = expiry.toISOString().replace(/\.\d{3}Z$/, 'Z');
          const stack = newStack();
          const agent = newAgent(stack);
          agent.temporaryGrant(
            'g',
            grantOptions({
              expiresAt,
              statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'], conditions })],
            }),
          );
          const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { PolicyName: 'g' } }));
          const document = policy.Properties.PolicyDocument;
          expect(canonicalPolicyJson(grantDocumentWithExpiry(document, expiresAt))).toBe(canonicalPolicyJson(document));
          expect(document.Statement[0].Condition.DateLessThan['aws:CurrentTime']).toBe(expiresAt);
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe('grant principal', () => {
  test('a resource policy that names a grant holds only before its expiry', () => {
    const grant = newAgent(newStack()).temporaryGrant('g', grantOptions());
    expect(grant.grantPrincipal.policyFragment.conditions).toEqual({ DateLessThan: { 'aws:CurrentTime': '2026-12-20T00:00:00Z' } });
  });
});

describe('baseline', () => {
  test('baseline statements and IGrantable calls go into one inline policy named baseline', () => {
    const stack = newStack();
    const agent = newAgent(stack, { baseline: [readStatement()] });
    const bucket = new s3.Bucket(stack, 'Bucket');
    bucket.grantRead(agent);
    const template = Template.fromStack(stack);
    const policies = template.findResources('AWS::IAM::Policy');
    expect(Object.values(policies).map(p => p.Properties.PolicyName)).toEqual(['baseline']);
    const statements = Object.values(policies)[0].Properties.PolicyDocument.Statement as any[];
    expect(statements).toHaveLength(2);
    for (const s of statements) expect(s.Condition).toBeUndefined();
  });
});

describe('role path and name', () => {
  test('the role lives under the governed path with the name <agentId>-<region>', () => {
    const app = new App();
    const stack = new Stack(app, 'Agents', { env: { account: '123456789012', region: 'eu-west-1' } });
    newAgent(stack, { agentId: 'billing-bot' });
    const role = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Role'))[0];
    expect([role.Properties.Path, role.Properties.RoleName]).toEqual([GOVERNED_ROLE_PATH, 'billing-bot-eu-west-1']);
  });

  test('a long agent id is cut and keeps a hash of the whole id, so two ids sharing a long prefix get two names of at most 64', () => {
    const prefix = 'a'.repeat(60);
    const names = [`${prefix}-one`, `${prefix}-two`].map(id => governedRoleName(id, 'ap-southeast-5'));
    expect(new Set(names).size).toBe(2);
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(64);
      expect(name).toMatch(/^a{36}-[0-9a-f]{6}-ap-southeast-5$/);
    }
    expect(governedRoleName('short-bot', 'us-east-1')).toBe('short-bot-us-east-1');
  });
});

describe('boundary', () => {
  test('one shared boundary per stack: allow all, deny changes to governed roles, policy versions, ledgers and specs', () => {
    // The governed-role deny keys on the role path (all but reads and assumption of any role under
    // /permission-decay/); the tag-keyed deny is kept beside it as a hint for roles outside the path.
    const stack = newStack();
    newAgent(stack);
    newAgent(stack, { agentId: 'ops-bot' }, 'Ops');
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
    const [boundaryId] = Object.keys(template.findResources('AWS::IAM::ManagedPolicy'));
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.PermissionsBoundary).toEqual({ Ref: boundaryId });
    }
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Action: '*', Resource: '*' }),
          Match.objectLike({
            Sid: 'DenyGovernedRoleChanges',
            Effect: 'Deny',
            NotAction: ['iam:Get*', 'iam:List*', 'sts:AssumeRole', 'sts:TagSession'],
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::*:role/permission-decay/*']] },
          }),
          Match.objectLike({
            Sid: 'DenyTaggedRoleChanges',
            Effect: 'Deny',
            NotAction: ['iam:Get*', 'iam:List*', 'sts:AssumeRole', 'sts:TagSession'],
            Condition: { StringEquals: { 'aws:ResourceTag/governance:managed-by': 'permission-decay' } },
          }),
          Match.objectLike({
            Sid: 'DenyPolicyVersionChanges',
            Effect: 'Deny',
            Action: Match.arrayWith([
              'iam:CreatePolicyVersion',
              'iam:SetDefaultPolicyVersion',
              'iam:DeletePolicyVersion',
              'iam:DeletePolicy',
            ]),
          }),
          Match.objectLike({
            Sid: 'DenyLedgerWrites',
            Effect: 'Deny',
            Action: Match.arrayWith(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']),
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:dynamodb:*:*:table/${LEDGER_TABLE_NAME_PREFIX}*`]] },
          }),
          Match.objectLike({
            Sid: 'DenySpecWrites',
            Effect: 'Deny',
            Action: Match.arrayWith([
              'ssm:PutParameter',
              'ssm:DeleteParameter',
              'ssm:DeleteParameters',
              'ssm:LabelParameterVersion',
              'ssm:AddTagsToResource',
            ]),
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:*:*:parameter/permission-decay/*']] },
          }),
        ]),
      },
    });
  });

  test('every boundary action exists in IAM', () => {
    const stack = newStack();
    for (const statement of boundaryStatements(undefined)) {
      const json = stack.resolve(statement.toStatementJson());
      for (const action of [json.Action ?? [], json.NotAction ?? []].flat()) {
        expect([action, unknownActionReason(action)]).toEqual([action, undefined]);
      }
    }
  });

  test('a ceiling gives the role a boundary of its own whose Allow is the ceiling', () => {
    const stack = newStack();
    newAgent(stack);
    newAgent(stack, { agentId: 'narrow-bot', ceiling: [new iam.PolicyStatement({ actions: ['s3:Get*'], resources: ['*'] })] }, 'Narrow');
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 2);
    const boundaries = Object.values(template.findResources('AWS::IAM::ManagedPolicy'));
    const allows = boundaries.map(b =>
      (b.Properties.PolicyDocument.Statement as any[]).filter(s => s.Effect === 'Allow').map(s => s.Action),
    );
    expect(allows).toEqual(expect.arrayContaining([['*'], ['s3:Get*']]));
    const sids = (b: any) =>
      (b.Properties.PolicyDocument.Statement as any[])
        .filter(s => s.Effect === 'Deny')
        .map(s => s.Sid)
        .sort();
    for (const b of boundaries) {
      expect(sids(b)).toEqual([
        'DenyForgedDecisions',
        'DenyGovernanceTags',
        'DenyGovernedRoleChanges',
        'DenyLedgerWrites',
        'DenyPolicyVersionChanges',
        'DenyResourcePolicyWrites',
        'DenySpecWrites',
        'DenySweeperTampering',
        'DenyTaggedRoleChanges',
        'DenyUndeclaredAssumption',
      ]);
    }
  });
});

describe('approved spec', () => {
  test('recorded as a Standard String parameter with the baseline, the grants as put on the role and a Ref to the role', () => {
    const stack = newStack();
    const agent = newAgent(stack, { baseline: [readStatement()], maxGrantDuration: Duration.days(20), maxRenewals: 1 });
    const grant = agent.temporaryGrant('reports-read', grantOptions());
    // Added after construction: the spec is computed lazily and sees it.
    grant.addStatements(readStatement('arn:aws:s3:::late/*'));
    const template = Template.fromStack(stack);
    const { param, spec } = specOf(template, 'billing-bot');
    expect(param.Properties).toMatchObject({ Type: 'String', Tier: 'Standard', Name: '/permission-decay/agents/billing-bot' });
    expect(JSON.stringify(param.Properties.Value)).toContain(`{"Ref":"${roleLogicalId(template)}"}`);
    expect(spec).toMatchObject({
      v: 1,
      agentId: 'billing-bot',
      owner: 'team@example.com',
      maxGrantDurationSeconds: 20 * 86400,
      maxRenewals: 1,
    });
    const json = template.toJSON();
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const deployed = (name: string) =>
      resolveIntrinsics(json, policies.find(p => p.Properties.PolicyName === name)!.Properties.PolicyDocument);
    expect(spec.baseline).toEqual([{ kind: 'inline', name: 'baseline', document: deployed('baseline') }]);
    expect(spec.grants).toEqual([
      {
        kind: 'inline',
        name: 'reports-read',
        document: deployed('reports-read'),
        expiresAt: '2026-12-20T00:00:00Z',
        requestedBy: 'alice@example.com',
        ticket: 'SEC-1234',
        reason: 'answer billing questions',
      },
    ]);
    expect(JSON.stringify(spec.grants[0].document)).toContain('late/*');
  });

  test('managed policies attached to the role are in the baseline', () => {
    const stack = newStack();
    const agent = newAgent(stack);
    new iam.ManagedPolicy(stack, 'Extra', { managedPolicyName: 'extra-read', statements: [readStatement()], roles: [agent.role] });
    agent.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess'));
    const { spec } = specOf(Template.fromStack(stack), 'billing-bot');
    expect(spec.baseline.map(p => [p.kind, p.name, !!p.document])).toEqual([
      ['managed', 'extra-read', true],
      ['managed', 'ReadOnlyAccess', false],
    ]);
  });

  test('a large spec moves to the Advanced tier', () => {
    const stack = newStack();
    const agent = newAgent(stack);
    for (let i = 0; i < 40; i++) agent.addToBaseline(readStatement(`arn:aws:s3:::bucket-with-a-longish-name-${i}/reports/*`));
    Template.fromStack(stack).hasResourceProperties('AWS::SSM::Parameter', { Tier: 'Advanced' });
  });

  test('the template is the same from one synth to the next', () => {
    const synth = () => {
      const stack = newStack();
      const agent = newAgent(stack, { baseline: [readStatement()] });
      agent.temporaryGrant('reports-read', grantOptions({ statements: [readStatement()] }));
      return JSON.stringify(Template.fromStack(stack).toJSON());
    };
    expect(synth()).toEqual(synth());
  });

  test('the synth clock comes from context, else the real clock', () => {
    const app = new App();
    const agent = newAgent(new Stack(app, 'S'));
    const before = Date.now();
    expect(Math.abs(agent._synthClock().getTime() - before)).toBeLessThan(5000);
    expect(newAgent(newStack('2030-01-01T00:00:00Z'))._synthClock().toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });
});
