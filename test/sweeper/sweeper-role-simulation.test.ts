/**
 * The synthesized sweeper role, evaluated with an IAM policy simulator: its
 * role writes reach roles under the governed path and nothing else, whatever
 * tags a role carries (tags are hints anyone allowed to tag can forge), and it
 * can put governance tags back but never take them away.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PermissionSweeper } from '../../lib/permission-sweeper';
import { GOVERNED_ROLE_PATH, grantTagKey, MANAGED_BY_VALUE, TAG_AGENT, TAG_MANAGED_BY, TAG_OWNER } from '../../lib/contract';
import { ensureSweeperHandlerBundle } from '../sweeper-construct/sweeper-fixture';
import { rolePolicies, simulate, SIM_ACCOUNT } from '../support/simulate';

ensureSweeperHandlerBundle();
const stack = new Stack(new App(), 'Governance');
const sweeperConstruct = new PermissionSweeper(stack, 'Sweeper');
const template = Template.fromStack(stack).toJSON();
const sweeperId = stack.getLogicalId(sweeperConstruct.role.node.defaultChild as never);
const sweeper = rolePolicies(template, sweeperId);

// The oracle is the ARN form IAM gives a role with a path, spelled here independently of the code under test.
const governedArn = (name: string) => `arn:aws:iam::${SIM_ACCOUNT}:role/permission-decay/agents/${name}`;
const pathlessArn = (name: string) => `arn:aws:iam::${SIM_ACCOUNT}:role/${name}`;
const otherPathArn = (name: string) => `arn:aws:iam::${SIM_ACCOUNT}:role/team/permission-decay/agents/${name}`;
/** Every governance tag a forger can put on a role it may tag. */
const allMarkers = {
  [TAG_MANAGED_BY]: MANAGED_BY_VALUE,
  [TAG_AGENT]: 'support-bot',
  [TAG_OWNER]: 'owner@example.com',
  [grantTagKey('g1')]: 'expires=2030-01-01T00:00:00Z by=bob ticket=T-1',
};
const POLICY_WRITES = ['iam:DeleteRolePolicy', 'iam:DetachRolePolicy', 'iam:PutRolePolicy'];

describe('the sweeper role against a role outside the governed path (attack: it carries every governance tag)', () => {
  test('the governed path constant is the one the ARNs here spell', () => {
    expect(GOVERNED_ROLE_PATH).toBe('/permission-decay/agents/');
  });

  test.each(POLICY_WRITES)('cannot %s on it', async action => {
    for (const resource of [pathlessArn('Admin'), otherPathArn('Admin')]) {
      expect(await simulate({ ...sweeper, action, resource, resourceTags: allMarkers })).not.toBe('Allowed');
    }
  });

  test('cannot tag or untag it, not even a grant tag', async () => {
    for (const action of ['iam:TagRole', 'iam:UntagRole']) {
      const decision = await simulate({
        ...sweeper,
        action,
        resource: pathlessArn('Admin'),
        resourceTags: allMarkers,
        context: { 'aws:TagKeys': [grantTagKey('g1')] },
      });
      expect(decision).not.toBe('Allowed');
    }
  });
});

describe('the sweeper role on a governed-path role (control)', () => {
  test.each(POLICY_WRITES)('can %s, with or without governance tags', async action => {
    expect(await simulate({ ...sweeper, action, resource: governedArn('agent-support'), resourceTags: allMarkers })).toBe('Allowed');
    // A governed role whose tags were all removed stays in reach: the path, not the tag, is the anchor.
    expect(await simulate({ ...sweeper, action, resource: governedArn('agent-support'), resourceTags: {} })).toBe('Allowed');
  });

  test('can put back grant tags and the governance tags', async () => {
    const tag = (keys: string[], requestTags: Record<string, string> = {}) =>
      simulate({
        ...sweeper,
        action: 'iam:TagRole',
        resource: governedArn('agent-support'),
        resourceTags: {},
        context: { 'aws:TagKeys': keys, ...Object.fromEntries(Object.entries(requestTags).map(([k, v]) => [`aws:RequestTag/${k}`, v])) },
      });
    expect(await tag([grantTagKey('g1')])).toBe('Allowed');
    expect(await tag([TAG_MANAGED_BY], { [TAG_MANAGED_BY]: MANAGED_BY_VALUE })).toBe('Allowed');
    expect(await tag([TAG_AGENT, TAG_OWNER], { [TAG_AGENT]: 'support-bot', [TAG_OWNER]: 'o@example.com' })).toBe('Allowed');
    // Not any other value of the marker, and no tag the sweeper does not write.
    expect(await tag([TAG_MANAGED_BY], { [TAG_MANAGED_BY]: 'someone-else' })).not.toBe('Allowed');
    expect(await tag(['governance:component'])).not.toBe('Allowed');
    expect(await tag(['cost-center'])).not.toBe('Allowed');
  });

  test('can remove a grant tag', async () => {
    expect(
      await simulate({
        ...sweeper,
        action: 'iam:UntagRole',
        resource: governedArn('agent-support'),
        context: { 'aws:TagKeys': [grantTagKey('g1')] },
      }),
    ).toBe('Allowed');
  });

  test('cannot remove the managed-by, agent or owner tag (explicit deny)', async () => {
    for (const key of [TAG_MANAGED_BY, TAG_AGENT, TAG_OWNER]) {
      for (const keys of [[key], [grantTagKey('g1'), key]]) {
        expect(
          await simulate({
            ...sweeper,
            action: 'iam:UntagRole',
            resource: governedArn('agent-support'),
            resourceTags: allMarkers,
            context: { 'aws:TagKeys': keys },
          }),
        ).toBe('ExplicitlyDenied');
      }
    }
  });

  test('cannot attach policies, change trust or boundary, even on a governed-path role (explicit deny)', async () => {
    for (const action of [
      'iam:AttachRolePolicy',
      'iam:UpdateAssumeRolePolicy',
      'iam:PutRolePermissionsBoundary',
      'iam:DeleteRolePermissionsBoundary',
    ]) {
      expect(await simulate({ ...sweeper, action, resource: governedArn('agent-support'), resourceTags: allMarkers })).toBe(
        'ExplicitlyDenied',
      );
    }
  });
});
