/**
 * A consumer's app may hold two copies of aws-cdk-lib (a nested install, a
 * linked package). Constructs made by the second copy are not `instanceof` the
 * first copy's classes, so the library recognises them by aws-cdk-lib's brands
 * (lib/private/cdk-brands.ts). The second copy here is a fresh load of
 * aws-cdk-lib and constructs in an isolated module registry: different class
 * objects, the same `Symbol.for` brands, exactly as two installed copies.
 */
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { isCfnManagedPolicy, isCfnPolicy, isOwnedManagedPolicy, isPolicyDocument } from '../../lib/private/cdk-brands';
import { parseAgentSpec, specParameterName } from '../../lib/contract';
import { resolveIntrinsics } from '../support/simulate';
import { newAgent, newStack } from './fixtures';

let otherCore: Pick<typeof cdk, 'App' | 'Stack' | 'Stage'>;
let otherIam: typeof iam;
jest.isolateModules(() => {
  // aws-cdk-lib's index files export through getters that load a module on first read, and its modules load
  // theirs on first use, each through the registry current at that moment. So the copy's exports are read
  // (spread, destructured) and the copy is used once here, inside the isolated registry: every module it reaches
  // (core, IAM, tokens, synthesis) is then the isolated copy's, not the first copy's.
  /* eslint-disable @typescript-eslint/no-require-imports -- a require inside the isolated registry loads a fresh copy */
  const { App, Stack, Stage } = require('aws-cdk-lib') as typeof cdk;
  otherCore = { App, Stack, Stage };
  otherIam = { ...(require('aws-cdk-lib/aws-iam') as typeof iam) };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const stack = new otherCore.Stack(new otherCore.App(), 'Prime');
  const role = new otherIam.Role(stack, 'Role', { assumedBy: new otherIam.AccountRootPrincipal() });
  const statements = [new otherIam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] })];
  new otherIam.Policy(stack, 'Inline', { statements, roles: [role] });
  role.addManagedPolicy(new otherIam.ManagedPolicy(stack, 'Managed', { statements }));
  role.addManagedPolicy(otherIam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess'));
  otherIam.ManagedPolicy.fromManagedPolicyArn(stack, 'ByArn', 'arn:aws:iam::123456789012:policy/x');
  otherCore.Stage.of(stack)!.synth();
});

const readStatement = (cdkIam: typeof iam, resource: string) =>
  new cdkIam.PolicyStatement({ actions: ['s3:GetObject'], resources: [resource] });

function specOf(template: Template, agentId: string) {
  const [param] = Object.values(template.findResources('AWS::SSM::Parameter', { Properties: { Name: specParameterName(agentId) } }));
  return parseAgentSpec(resolveIntrinsics(template.toJSON(), param.Properties.Value), agentId);
}

test('the second copy is really another copy: its classes are not the first copy’s', () => {
  expect(otherIam.CfnPolicy).not.toBe(iam.CfnPolicy);
  expect(otherCore.Stack).not.toBe(cdk.Stack);
  const stack = newStack();
  const policy = new otherIam.Policy(stack, 'Other', { statements: [readStatement(otherIam, 'arn:aws:s3:::a/*')] });
  expect(policy.node.defaultChild instanceof iam.CfnPolicy).toBe(false);
});

describe('brands recognise constructs of either copy', () => {
  test.each([
    ['this copy', iam],
    ['another copy', undefined],
  ])('%s', (_name, given) => {
    const cdkIam = given ?? otherIam;
    const stack = newStack();
    const inline = new cdkIam.Policy(stack, 'Inline', { statements: [readStatement(cdkIam, 'arn:aws:s3:::a/*')] });
    const managed = new cdkIam.ManagedPolicy(stack, 'Managed', { statements: [readStatement(cdkIam, 'arn:aws:s3:::b/*')] });
    const imported = cdkIam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess');
    expect(isCfnPolicy(inline.node.defaultChild!)).toBe(true);
    expect(isCfnManagedPolicy(inline.node.defaultChild!)).toBe(false);
    expect(isCfnManagedPolicy(managed.node.defaultChild!)).toBe(true);
    expect(isCfnPolicy(managed.node.defaultChild!)).toBe(false);
    expect(isPolicyDocument(inline.document)).toBe(true);
    expect(isPolicyDocument({ Version: '2012-10-17', Statement: [] })).toBe(false);
    expect(isOwnedManagedPolicy(managed)).toBe(true);
    expect(isOwnedManagedPolicy(imported)).toBe(false);
    expect(isOwnedManagedPolicy(cdkIam.ManagedPolicy.fromManagedPolicyArn(stack, 'ByArn', 'arn:aws:iam::123456789012:policy/x'))).toBe(
      false,
    );
    expect(isOwnedManagedPolicy(inline)).toBe(false);
  });
});

test('policies made by another copy of aws-cdk-lib are in the agent’s approved spec, with their documents', () => {
  const stack = newStack();
  const agent = newAgent(stack);
  new otherIam.Policy(stack, 'OtherInline', {
    policyName: 'other-inline',
    statements: [readStatement(otherIam, 'arn:aws:s3:::inline/*')],
    roles: [agent.role],
  });
  new otherIam.ManagedPolicy(stack, 'OtherManaged', {
    managedPolicyName: 'other-managed',
    statements: [readStatement(otherIam, 'arn:aws:s3:::managed/*')],
    roles: [agent.role],
  });
  agent.role.addManagedPolicy(
    new otherIam.ManagedPolicy(stack, 'OtherAttached', {
      managedPolicyName: 'other-attached',
      statements: [readStatement(otherIam, 'arn:aws:s3:::attached/*')],
    }),
  );
  const spec = specOf(Template.fromStack(stack), 'billing-bot');
  // An attached policy is named by its ARN's last segment, here the Ref of the policy (its logical id).
  const baseline = spec.baseline.map(p => [
    p.kind,
    p.name.replace(/^OtherAttached.*/, 'OtherAttached'),
    JSON.stringify(p.document ?? null),
  ]);
  expect(baseline.map(([kind, name]) => `${kind} ${name}`).sort()).toEqual([
    'inline other-inline',
    'managed OtherAttached',
    'managed other-managed',
  ]);
  const documentOf = (name: string) => baseline.find(b => b[1] === name)![2];
  expect(documentOf('other-inline')).toContain('arn:aws:s3:::inline/*');
  expect(documentOf('other-managed')).toContain('arn:aws:s3:::managed/*');
  expect(documentOf('OtherAttached')).toContain('arn:aws:s3:::attached/*');
});
