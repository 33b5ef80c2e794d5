/**
 * An agent cannot stop or blind the sweeper that governs it: its boundary
 * denies changing the sweeper's function, schedule, role, topic, queue, key,
 * logs and alarms, by tag (any stack) and, for the registered agents of a
 * sweeper in the same stack, by ARN.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp } from '../../bin/example-app';
import { SWEEPER_COMPONENT_VALUE, TAG_COMPONENT } from '../../lib/contract';
import { arnOf, rolePolicies, simulate } from '../support/simulate';

const example = buildExampleApp(new App());
const template = Template.fromStack(example.stack).toJSON();
const logicalId = (c: { node: { defaultChild?: unknown } }) => example.stack.getLogicalId(c.node.defaultChild as any);
const support = rolePolicies(template, logicalId(example.supportBot.role));
// Even an agent whose grants allowed everything.
const everything = {
  identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }],
  boundaryPolicies: support.boundaryPolicies,
};
const sweeperTags = { [TAG_COMPONENT]: SWEEPER_COMPONENT_VALUE };

describe("the sweeper is out of the agents' reach", () => {
  const fn = arnOf(template, logicalId(example.sweeper.function));
  const rule = arnOf(template, logicalId(example.sweeper.rule));

  test.each([
    ['lambda:UpdateFunctionCode', () => fn],
    ['lambda:UpdateFunctionConfiguration', () => fn],
    ['lambda:DeleteFunction', () => fn],
    ['events:DisableRule', () => rule],
    ['events:RemoveTargets', () => rule],
    ['kms:ScheduleKeyDeletion', () => arnOf(template, logicalId(example.sweeper.encryptionKey))],
  ])('%s on the sweeper is denied by ARN, even without tags', async (action, resource) => {
    expect(await simulate({ ...everything, action, resource: resource() })).toBe('ExplicitlyDenied');
  });

  test('a sweeper elsewhere is protected by its tag', async () => {
    const other = 'arn:aws:lambda:us-east-1:123456789012:function:another-sweeper';
    expect(await simulate({ ...everything, action: 'lambda:UpdateFunctionCode', resource: other, resourceTags: sweeperTags })).toBe(
      'ExplicitlyDenied',
    );
    expect(await simulate({ ...everything, action: 'lambda:UpdateFunctionCode', resource: other })).toBe('Allowed');
  });

  test('every sweeper resource carries the component tag', () => {
    for (const type of ['AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::SNS::Topic', 'AWS::SQS::Queue', 'AWS::Events::Rule']) {
      const tagged = Object.entries(
        template.Resources as Record<string, { Type: string; Properties?: { Tags?: { Key: string; Value: string }[] } }>,
      ).filter(([id, r]) => r.Type === type && id.startsWith('Sweeper'));
      expect(tagged.length).toBeGreaterThan(0);
      for (const [, r] of tagged)
        expect(r.Properties?.Tags).toEqual(expect.arrayContaining([{ Key: TAG_COMPONENT, Value: SWEEPER_COMPONENT_VALUE }]));
    }
  });

  test('the sweeper role is not a governed role (it would sweep itself)', () => {
    const sweeperRole = template.Resources[logicalId(example.sweeper.role)];
    expect((sweeperRole.Properties.Tags ?? []).map((t: { Key: string }) => t.Key)).not.toContain('governance:managed-by');
  });
});
