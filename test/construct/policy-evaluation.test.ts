/**
 * The synthesized policies, evaluated as IAM would (the emulator evaluates
 * no conditions and no boundaries).
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp, EXAMPLE_GRANTS } from '../../bin/example-app';
import { LEDGER_TABLE_NAME_PREFIX, MANAGED_BY_VALUE, specParameterName, TAG_MANAGED_BY } from '../../lib/contract';
import { arnOf, rolePolicies, simulate, SIM_ACCOUNT, SIM_REGION } from '../support/simulate';

const example = buildExampleApp(new App());
const template = Template.fromStack(example.stack).toJSON();
const logicalId = (c: { node: { defaultChild?: unknown } }) => example.stack.getLogicalId(c.node.defaultChild as any);
const supportRole = logicalId(example.supportBot.role);
const opsRole = logicalId(example.opsBot.role);
const support = rolePolicies(template, supportRole);
const ops = rolePolicies(template, opsRole);
const customerTable = arnOf(template, logicalId(example.customerTable));
const governedTags = { [TAG_MANAGED_BY]: MANAGED_BY_VALUE };
const at = (instant: string) => ({ 'aws:CurrentTime': instant });

describe('a time-bound grant', () => {
  const { expiresAt } = EXAMPLE_GRANTS.supportBot.customerDbRead;

  test('is allowed just before its expiry and denied from its expiry on', async () => {
    const request = { ...support, action: 'dynamodb:GetItem', resource: customerTable };
    expect(await simulate({ ...request, context: at('2027-01-09T23:59:59Z') })).toBe('Allowed');
    expect(await simulate({ ...request, context: at(expiresAt) })).toBe('ImplicitlyDenied');
    expect(await simulate({ ...request, context: at('2027-01-10T00:00:01Z') })).toBe('ImplicitlyDenied');
  });

  test('keeps its own conditions next to the expiry', async () => {
    const request = { ...support, action: 'dynamodb:UpdateItem', resource: customerTable };
    const refund = { 'dynamodb:Attributes': ['customerId', 'refundStatus'] };
    expect(await simulate({ ...request, context: { ...at('2027-01-04T00:00:00Z'), ...refund } })).toBe('Allowed');
    expect(await simulate({ ...request, context: { ...at('2027-01-04T00:00:00Z'), 'dynamodb:Attributes': ['creditLimit'] } })).toBe(
      'ImplicitlyDenied',
    );
    expect(await simulate({ ...request, context: { ...at('2027-01-05T00:00:01Z'), ...refund } })).toBe('ImplicitlyDenied');
  });

  test('the baseline does not expire', async () => {
    const object = `${arnOf(template, logicalId(example.knowledgeBucket))}/faq.md`;
    expect(await simulate({ ...support, action: 's3:GetObject', resource: object, context: at('2030-01-01T00:00:00Z') })).toBe('Allowed');
  });
});

describe('the boundary', () => {
  const role = (id: string) => `arn:aws:iam::${SIM_ACCOUNT}:role/${id}`;
  // An agent whose policies allowed everything would still be stopped by the boundary.
  const everything = {
    identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }],
    boundaryPolicies: support.boundaryPolicies,
  };

  test.each([
    'iam:PutRolePolicy',
    'iam:DeleteRolePolicy',
    'iam:AttachRolePolicy',
    'iam:DetachRolePolicy',
    'iam:TagRole',
    'iam:UntagRole',
    'iam:UpdateAssumeRolePolicy',
    'iam:PutRolePermissionsBoundary',
    'iam:DeleteRolePermissionsBoundary',
    'iam:UpdateRole',
    'iam:DeleteRole',
  ])('denies %s on its own role and on any governed role', async action => {
    for (const id of [supportRole, opsRole]) {
      expect(await simulate({ ...everything, action, resource: role(id), resourceTags: governedTags })).toBe('ExplicitlyDenied');
    }
  });

  test('leaves roles that are not governed alone', async () => {
    expect(await simulate({ ...everything, action: 'iam:PutRolePolicy', resource: role('someone-else') })).toBe('Allowed');
  });

  test('denies editing managed policy versions (a grant or the boundary itself)', async () => {
    const boundary = arnOf(template, logicalId(example.supportBot.boundary));
    for (const action of ['iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:DeletePolicyVersion', 'iam:DeletePolicy']) {
      expect(await simulate({ ...everything, action, resource: boundary })).toBe('ExplicitlyDenied');
    }
  });

  test('denies writing any ledger table, and allows reading it', async () => {
    const ledger = `arn:aws:dynamodb:${SIM_REGION}:${SIM_ACCOUNT}:table/${LEDGER_TABLE_NAME_PREFIX}-prod`;
    for (const action of [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteTable',
    ]) {
      expect(await simulate({ ...everything, action, resource: ledger })).toBe('ExplicitlyDenied');
    }
    expect(await simulate({ ...everything, action: 'dynamodb:GetItem', resource: ledger })).toBe('Allowed');
  });

  test('denies writing the approved specs', async () => {
    const spec = `arn:aws:ssm:${SIM_REGION}:${SIM_ACCOUNT}:parameter${specParameterName('support-bot')}`;
    for (const action of ['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:LabelParameterVersion', 'ssm:AddTagsToResource']) {
      expect(await simulate({ ...everything, action, resource: spec })).toBe('ExplicitlyDenied');
    }
    expect(await simulate({ ...everything, action: 'ssm:GetParameter', resource: spec })).toBe('Allowed');
  });

  test('the synthesized agents are denied changing their own policies or tags', async () => {
    for (const [agent, id] of [
      [support, supportRole],
      [ops, opsRole],
    ] as const) {
      for (const action of ['iam:PutRolePolicy', 'iam:TagRole', 'iam:UntagRole']) {
        expect(await simulate({ ...agent, action, resource: role(id), resourceTags: governedTags })).toBe('ExplicitlyDenied');
      }
    }
  });
});
