/**
 * The grant...() policies, proven by policy simulation (@cloud-copilot/iam-simulate):
 * a requester cannot write an approval, an approver cannot write another
 * person's approval, neither can write or delete ledger records or STATE, and
 * the legitimate request / approve / read are allowed. The emulator evaluates
 * no IAM, so this is the half of the binding the emulator cannot show.
 */
import { App, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PermissionSweeper } from '../../lib';
import {
  grantTagKey,
  rolePartition,
  renewalPartition,
  requestPartition,
  sealPartition,
  STATE_PARTITION,
  TAG_LEDGER_HEAD,
} from '../../lib/contract';
import { ensureSweeperHandlerBundle } from '../sweeper-construct/sweeper-fixture';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { arnOf, resolveIntrinsics, simulate, SIM_ACCOUNT, TemplateJson } from '../support/simulate';

ensureSweeperHandlerBundle();
const stack = new Stack(new App(), 'People', { env: { account: SIM_ACCOUNT, region: 'us-east-1' } });
const sweeper = new PermissionSweeper(stack, 'Sweeper');
const requester = new iam.User(stack, 'Requester');
const approver = new iam.User(stack, 'Approver');
const reader = new iam.User(stack, 'Reader');
const grants = {
  request: sweeper.grantRequest(requester),
  approve: sweeper.grantApprove(approver),
  read: sweeper.grantRead(reader),
};
const template = Template.fromStack(stack).toJSON() as TemplateJson;
const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as any);

function userPolicies(userId: string): object[] {
  return Object.values(template.Resources as Record<string, { Type: string; Properties?: any }>)
    .filter(r => r.Type === 'AWS::IAM::Policy' && (r.Properties?.Users ?? []).some((u: { Ref?: string }) => u.Ref === userId))
    .map(r => resolveIntrinsics(template, r.Properties.PolicyDocument));
}
const policies = {
  requester: userPolicies(id(requester)),
  approver: userPolicies(id(approver)),
  reader: userPolicies(id(reader)),
};
const tableArn = arnOf(template, id(sweeper.ledgerTable as any));
const keyArn = arnOf(template, id(sweeper.signingKey));
const keyPolicy = resolveIntrinsics(template, template.Resources[id(sweeper.signingKey)].Properties.KeyPolicy);

/** A KMS request on the signing key: KMS needs the key policy as well as the caller's own (so it is passed as the resource policy). */
async function onKey(identityPolicies: object[], action: string, principal: string, context: Record<string, string> = {}) {
  const result = await runSimulation(
    {
      request: {
        principal,
        action,
        resource: { resource: keyArn, accountId: SIM_ACCOUNT },
        contextVariables: { 'aws:PrincipalArn': principal, ...context },
      },
      identityPolicies: identityPolicies.map((policy, i) => ({ name: `identity-${i}`, policy })),
      resourcePolicy: keyPolicy,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}
const GOVERNED = `arn:aws:iam::${SIM_ACCOUNT}:role/permission-decay/agents/agent-support-bot`;
const UNGOVERNED = `arn:aws:iam::${SIM_ACCOUNT}:role/admin`;
const ALICE = 'AIDAALICEEXAMPLE00001';
const BOB = 'AIDABOBEXAMPLE0000002';
const person = (userId: string, name: string) => ({ principal: `arn:aws:iam::${SIM_ACCOUNT}:user/${name}`, userId });
const alice = person(ALICE, 'alice');
const bob = person(BOB, 'bob');

/** A PutItem (or other item write) of a key with this partition, by `who`. */
async function write(who: object[], by: { principal: string; userId: string }, pk: string, action = 'dynamodb:PutItem') {
  return simulate({
    identityPolicies: who,
    action,
    resource: tableArn,
    principal: by.principal,
    context: { 'aws:userid': by.userId, 'aws:PrincipalArn': by.principal, 'dynamodb:LeadingKeys': [pk] },
  });
}

test('each grant method returns a Grant that added statements to the grantee', () => {
  for (const g of Object.values(grants)) expect(g.success).toBe(true);
  expect(policies.requester.length).toBeGreaterThan(0);
  expect(policies.approver.length).toBeGreaterThan(0);
  expect(policies.reader.length).toBeGreaterThan(0);
});

describe('grantRequest', () => {
  test('a requester may seal their own request and write its pointer', async () => {
    expect(await write(policies.requester, alice, sealPartition(ALICE))).toBe('Allowed');
    expect(await write(policies.requester, alice, requestPartition('agent-support-bot', 'g1'))).toBe('Allowed');
  });
  test("a requester cannot write an approval: not their own seal partition as an approver pointer, nor another person's seals", async () => {
    expect(await write(policies.requester, alice, renewalPartition('agent-support-bot', 'g1'))).not.toBe('Allowed');
    expect(await write(policies.requester, alice, sealPartition(BOB))).not.toBe('Allowed');
  });
  test('a requester cannot write or delete ledger records or STATE', async () => {
    for (const pk of [rolePartition('agent-support-bot'), STATE_PARTITION, sealPartition(ALICE)]) {
      for (const action of [
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:PartiQLUpdate',
        'dynamodb:PartiQLInsert',
      ]) {
        expect(await write(policies.requester, alice, pk, action)).not.toBe('Allowed');
      }
    }
    expect(await write(policies.requester, alice, rolePartition('agent-support-bot'))).not.toBe('Allowed');
    expect(await write(policies.requester, alice, STATE_PARTITION)).not.toBe('Allowed');
  });
  test('IAM writes only on governed roles (by path), and tags only grant tags', async () => {
    for (const action of ['iam:PutRolePolicy', 'iam:AttachRolePolicy']) {
      expect(await simulate({ identityPolicies: policies.requester, action, resource: GOVERNED })).toBe('Allowed');
      expect(await simulate({ identityPolicies: policies.requester, action, resource: UNGOVERNED })).not.toBe('Allowed');
    }
    const tag = (keys: string[], resource = GOVERNED) =>
      simulate({
        identityPolicies: policies.requester,
        action: 'iam:TagRole',
        resource,
        context: { 'aws:TagKeys': keys },
      });
    expect(await tag([grantTagKey('g1')])).toBe('Allowed');
    expect(await tag([grantTagKey('g1')], UNGOVERNED)).not.toBe('Allowed');
    expect(await tag([TAG_LEDGER_HEAD])).not.toBe('Allowed');
    expect(await tag([grantTagKey('g1'), 'governance:managed-by'])).not.toBe('Allowed');
    for (const action of [
      'iam:UntagRole',
      'iam:DeleteRolePolicy',
      'iam:DetachRolePolicy',
      'iam:UpdateAssumeRolePolicy',
      'iam:PutRolePermissionsBoundary',
    ]) {
      expect(await simulate({ identityPolicies: policies.requester, action, resource: GOVERNED })).not.toBe('Allowed');
    }
  });
  test('a requester cannot sign with the ledger key', async () => {
    expect(await onKey(policies.requester, 'kms:Sign', alice.principal)).not.toBe('Allowed');
    // Even a principal whose own policy allows everything: the key policy denies Sign to all but the sweeper.
    expect(
      await onKey([{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }], 'kms:Sign', alice.principal, {
        'kms:SigningAlgorithm': 'ECDSA_SHA_256',
      }),
    ).toBe('ExplicitlyDenied');
  });
});

describe('grantApprove', () => {
  test('an approver may seal their own approval and write its pointer', async () => {
    expect(await write(policies.approver, bob, sealPartition(BOB))).toBe('Allowed');
    expect(await write(policies.approver, bob, renewalPartition('agent-support-bot', 'g1'))).toBe('Allowed');
  });
  test("an approver cannot write another person's approval (their seal partition)", async () => {
    expect(await write(policies.approver, bob, sealPartition(ALICE))).not.toBe('Allowed');
    expect(await write(policies.approver, alice, sealPartition(BOB))).not.toBe('Allowed');
  });
  test('an approver cannot write or delete ledger records or STATE, and makes no IAM change', async () => {
    for (const pk of [rolePartition('agent-support-bot'), STATE_PARTITION]) {
      expect(await write(policies.approver, bob, pk)).not.toBe('Allowed');
      expect(await write(policies.approver, bob, pk, 'dynamodb:DeleteItem')).not.toBe('Allowed');
      expect(await write(policies.approver, bob, pk, 'dynamodb:UpdateItem')).not.toBe('Allowed');
    }
    for (const action of ['iam:PutRolePolicy', 'iam:TagRole', 'iam:AttachRolePolicy']) {
      expect(await simulate({ identityPolicies: policies.approver, action, resource: GOVERNED })).not.toBe('Allowed');
    }
  });
  test('an approver can read what renewing needs', async () => {
    for (const action of ['dynamodb:GetItem', 'dynamodb:Query']) {
      expect(await simulate({ identityPolicies: policies.approver, action, resource: tableArn })).toBe('Allowed');
    }
    expect(await simulate({ identityPolicies: policies.approver, action: 'iam:GetRole', resource: GOVERNED })).toBe('Allowed');
  });
});

describe('grantRead', () => {
  test('a reader reads the ledger, the account and the public key, and verifies', async () => {
    for (const action of ['dynamodb:GetItem', 'dynamodb:Query']) {
      expect(await simulate({ identityPolicies: policies.reader, action, resource: tableArn })).toBe('Allowed');
    }
    expect(await simulate({ identityPolicies: policies.reader, action: 'iam:GetAccountAuthorizationDetails', resource: '*' })).toBe(
      'Allowed',
    );
    for (const action of ['kms:GetPublicKey', 'kms:Verify']) {
      expect(await onKey(policies.reader, action, alice.principal)).toBe('Allowed');
    }
  });
  test('a reader writes nothing and cannot sign', async () => {
    for (const pk of [sealPartition(ALICE), rolePartition('r'), STATE_PARTITION, renewalPartition('r', 'g')]) {
      expect(await write(policies.reader, alice, pk)).not.toBe('Allowed');
    }
    expect(await onKey(policies.reader, 'kms:Sign', alice.principal)).not.toBe('Allowed');
    expect(await simulate({ identityPolicies: policies.reader, action: 'iam:TagRole', resource: GOVERNED })).not.toBe('Allowed');
  });
});

describe('the sweeper', () => {
  const sweeperPolicies = Object.values(template.Resources as Record<string, { Type: string; Properties?: any }>)
    .filter(r => r.Type === 'AWS::IAM::Policy' && (r.Properties?.Roles ?? []).some((x: { Ref?: string }) => x.Ref === id(sweeper.role)))
    .map(r => resolveIntrinsics(template, r.Properties.PolicyDocument));
  test('signs with the ledger key and writes only the head tag of governed roles', async () => {
    const sweeperArn = arnOf(template, id(sweeper.role));
    expect(await onKey(sweeperPolicies, 'kms:Sign', sweeperArn, { 'kms:SigningAlgorithm': 'ECDSA_SHA_256' })).toBe('Allowed');
    expect(await onKey(sweeperPolicies, 'kms:Sign', sweeperArn, { 'kms:SigningAlgorithm': 'RSASSA_PSS_SHA_256' })).not.toBe('Allowed');
    const tag = (keys: string[], resource: string) =>
      simulate({
        identityPolicies: sweeperPolicies,
        action: 'iam:TagRole',
        resource,
        context: { 'aws:TagKeys': keys },
        resourceTags: { 'governance:managed-by': 'permission-decay' },
      });
    expect(await tag([TAG_LEDGER_HEAD], GOVERNED)).toBe('Allowed');
    expect(await tag([TAG_LEDGER_HEAD], UNGOVERNED)).not.toBe('Allowed');
  });
  test('the key policy denies Sign to every principal but the sweeper role', () => {
    const deny = keyPolicy.Statement.find((s: { Sid?: string }) => s.Sid === 'OnlyTheSweeperSigns');
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Action: 'kms:Sign',
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': arnOf(template, id(sweeper.role)) } },
    });
    expect(template.Resources[id(sweeper.signingKey)].Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  });
});
