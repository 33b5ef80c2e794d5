import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  MANAGED_BY_VALUE,
  SESSION_TAG_CHAIN,
  SESSION_TAG_DELEGATED_BY,
  SESSION_TAG_ORIGIN,
  TAG_AGENT,
  TAG_MANAGED_BY,
} from '../../lib/contract';
import { GovernedAgentRole } from '../../lib';
import { resolveIntrinsics, rolePolicies, roleTags, SIM_ACCOUNT, TemplateJson } from '../support/simulate';
import { agent, newApp } from '../report/governance-fixtures';
import { roleArnIn } from '../security/governed-arns';

const EXPIRY = '2027-01-10T00:00:00Z';
const GOVERNED = '/permission-decay/agents/';

function logicalId(a: GovernedAgentRole): string {
  return Stack.of(a).getLogicalId(a.role.node.defaultChild as any);
}

describe('allowDelegationTo', () => {
  test('A gets sts:AssumeRole and sts:TagSession on B, only with the session tags; B trusts A only with them', () => {
    const { stack } = newApp();
    const a = agent(stack, 'agent-a');
    const b = agent(stack, 'agent-b');
    a.allowDelegationTo(b);
    const template = Template.fromStack(stack);

    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: 'baseline',
      Roles: [{ Ref: logicalId(a) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            // B's exact ARN from its deterministic name under the governed path: no reference, so cycles and
            // delegations across stacks deploy.
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::123456789012:role${GOVERNED}agent-b-us-east-1`]] },
            Condition: {
              StringEquals: {
                [`aws:RequestTag/${SESSION_TAG_ORIGIN}`]: 'agent-a',
                [`aws:RequestTag/${SESSION_TAG_DELEGATED_BY}`]: 'agent-a',
                [`aws:RequestTag/${SESSION_TAG_CHAIN}`]: 'agent-a',
              },
              'ForAnyValue:StringEquals': { 'sts:TransitiveTagKeys': [SESSION_TAG_ORIGIN] },
              'ForAllValues:StringEquals': {
                'sts:TransitiveTagKeys': [SESSION_TAG_ORIGIN],
                'aws:TagKeys': [SESSION_TAG_ORIGIN, SESSION_TAG_DELEGATED_BY, SESSION_TAG_CHAIN],
              },
              Null: { [`aws:PrincipalTag/${SESSION_TAG_ORIGIN}`]: 'true' },
            },
          }),
          Match.objectLike({
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Condition: Match.objectLike({
              StringEquals: {
                [`aws:RequestTag/${SESSION_TAG_DELEGATED_BY}`]: 'agent-a',
                [`aws:RequestTag/${SESSION_TAG_CHAIN}`]: `\${aws:PrincipalTag/${SESSION_TAG_CHAIN}}/agent-a`,
              },
            }),
          }),
        ]),
      },
    });

    const trust = template.toJSON().Resources[logicalId(b)].Properties.AssumeRolePolicyDocument.Statement as any[];
    const delegation = trust.filter(s => Array.isArray(s.Action) && s.Action.includes('sts:TagSession'));
    expect(delegation).toHaveLength(2);
    for (const s of delegation) {
      expect(s.Effect).toBe('Allow');
      expect(s.Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
      expect(s.Condition.StringEquals).toMatchObject({ [`aws:RequestTag/${SESSION_TAG_DELEGATED_BY}`]: 'agent-a' });
      // A is pinned by its exact role ARN, never by principal tags (anyone tagged like A could forge them).
      expect(s.Condition.ArnEquals).toEqual({
        'aws:PrincipalArn': {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::123456789012:role${GOVERNED}agent-a-us-east-1`]],
        },
      });
      expect(JSON.stringify(s.Condition)).not.toContain('aws:PrincipalTag/governance:agent');
      expect(s.Condition.DateLessThan).toBeUndefined();
    }
    expect(delegation[0].Condition.Null).toEqual({ [`aws:PrincipalTag/${SESSION_TAG_ORIGIN}`]: 'true' });
    expect(delegation[1].Condition.Null).toMatchObject({ [`aws:PrincipalTag/${SESSION_TAG_ORIGIN}`]: 'false' });
    // A's trust is untouched: the delegation goes one way.
    const aTrust = template.toJSON().Resources[logicalId(a)].Properties.AssumeRolePolicyDocument.Statement as any[];
    expect(aTrust.some(s => JSON.stringify(s).includes('TagSession'))).toBe(false);
  });

  test('a time-bound delegation is a grant named delegate-to-<agent> with the expiry tag and condition, and B trusts A only until then', () => {
    const { stack } = newApp();
    const a = agent(stack, 'agent-a');
    const b = agent(stack, 'agent-b');
    a.allowDelegationTo(b, { expiresAt: EXPIRY, requestedBy: 'alice@example.com', ticket: 'SEC-9', reason: 'triage with agent-b' });
    expect(a.grants.map(g => g.grantName)).toEqual(['delegate-to-agent-b']);
    const template = Template.fromStack(stack);
    const json = template.toJSON();

    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: 'delegate-to-agent-b',
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Condition: Match.objectLike({ DateLessThan: { 'aws:CurrentTime': EXPIRY } }),
          }),
        ]),
      },
    });
    expect(roleTags(json, logicalId(a))['governance:grant:delegate-to-agent-b']).toBe(
      `expires=${EXPIRY} by=alice@example.com ticket=SEC-9`,
    );
    const trust = (json.Resources[logicalId(b)].Properties.AssumeRolePolicyDocument.Statement as any[]).filter(s =>
      JSON.stringify(s).includes('TagSession'),
    );
    expect(trust.map(s => s.Condition.DateLessThan)).toEqual([{ 'aws:CurrentTime': EXPIRY }, { 'aws:CurrentTime': EXPIRY }]);
    // No baseline statement for the delegation.
    expect(JSON.stringify(Object.values(json.Resources).filter((r: any) => r.Properties?.PolicyName === 'baseline'))).not.toContain(
      'TagSession',
    );
    // The approved spec records the delegation.
    const spec = JSON.stringify(stack.resolve((a.node.findChild('Spec') as any).value));
    expect(spec).toContain('\\"delegations\\":[{\\"toAgentId\\":\\"agent-b\\",\\"expiresAt\\":\\"2027-01-10T00:00:00Z\\"}]');
  });

  test.each([
    ['to itself', (a: GovernedAgentRole) => a.allowDelegationTo(a), /cannot delegate to itself/],
    [
      'twice to one agent',
      (a: GovernedAgentRole, b: GovernedAgentRole) => {
        a.allowDelegationTo(b);
        a.allowDelegationTo(b);
      },
      /already delegates to 'agent-b'/,
    ],
    [
      'with a ticket but no expiry',
      (a: GovernedAgentRole, b: GovernedAgentRole) => a.allowDelegationTo(b, { ticket: 'SEC-1' }),
      /give expiresAt too/,
    ],
    [
      'with an expiry but no ticket',
      (a: GovernedAgentRole, b: GovernedAgentRole) => a.allowDelegationTo(b, { expiresAt: EXPIRY, requestedBy: 'x', reason: 'y' }),
      /ticket is missing/,
    ],
    [
      'with an expiry in the past',
      (a: GovernedAgentRole, b: GovernedAgentRole) =>
        a.allowDelegationTo(b, { expiresAt: '2026-12-01T00:00:00Z', requestedBy: 'x', ticket: 'T-1', reason: 'y' }),
      /is not after now/,
    ],
  ])('refuses a delegation %s', (_what, act, message) => {
    const { stack } = newApp();
    const a = agent(stack, 'agent-a');
    const b = agent(stack, 'agent-b');
    expect(() => act(a, b)).toThrow(message);
  });
});

describe('delegation under IAM evaluation', () => {
  const ORIGIN = `aws:RequestTag/${SESSION_TAG_ORIGIN}`;
  const BY = `aws:RequestTag/${SESSION_TAG_DELEGATED_BY}`;
  const CHAIN = `aws:RequestTag/${SESSION_TAG_CHAIN}`;

  async function assume(
    template: TemplateJson,
    from: string,
    fromAgentId: string,
    to: string,
    context: Record<string, string | string[]>,
    action = 'sts:AssumeRole',
  ) {
    const { identityPolicies } = rolePolicies(template, from);
    // The caller: `from`'s role, unless the context names another principal (an impostor holding from's policies and tags).
    const principal = (context['aws:PrincipalArn'] as string | undefined) ?? roleArnIn(template, from);
    const result = await runSimulation(
      {
        request: {
          principal,
          action,
          resource: { resource: roleArnIn(template, to), accountId: SIM_ACCOUNT },
          contextVariables: {
            [`aws:PrincipalTag/${TAG_AGENT}`]: fromAgentId,
            [`aws:PrincipalTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE,
            'aws:CurrentTime': '2027-01-02T00:00:00Z',
            // IAM sets aws:PrincipalArn on every request; the simulator fills it in for sts:AssumeRole but not for sts:TagSession.
            'aws:PrincipalArn': principal,
            ...context,
          },
        },
        identityPolicies: identityPolicies.map((policy, i) => ({ name: `identity-${i}`, policy })),
        resourcePolicy: resolveIntrinsics(template, template.Resources[to].Properties.AssumeRolePolicyDocument),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    return result.overallResult;
  }

  const firstHop = (agentId: string) => ({
    [ORIGIN]: agentId,
    [BY]: agentId,
    [CHAIN]: agentId,
    'aws:TagKeys': [SESSION_TAG_ORIGIN, SESSION_TAG_DELEGATED_BY, SESSION_TAG_CHAIN],
    'sts:TransitiveTagKeys': [SESSION_TAG_ORIGIN],
  });

  function threeAgents(timeBound = false) {
    const { stack } = newApp();
    const a = agent(stack, 'agent-a');
    const b = agent(stack, 'agent-b');
    const c = agent(stack, 'agent-c');
    const other = agent(stack, 'agent-x');
    a.allowDelegationTo(b, timeBound ? { expiresAt: EXPIRY, requestedBy: 'alice', ticket: 'SEC-9', reason: 'triage' } : {});
    b.allowDelegationTo(c);
    const template = Template.fromStack(stack).toJSON();
    return { template, a: logicalId(a), b: logicalId(b), c: logicalId(c), x: logicalId(other) };
  }

  test('A assumes B with the session tags; without them, with a forged origin, or with extra tags it is denied', async () => {
    const { template, a, b } = threeAgents();
    expect(await assume(template, a, 'agent-a', b, firstHop('agent-a'))).toBe('Allowed');
    expect(await assume(template, a, 'agent-a', b, firstHop('agent-a'), 'sts:TagSession')).toBe('Allowed');
    expect(await assume(template, a, 'agent-a', b, {})).not.toBe('Allowed');
    expect(await assume(template, a, 'agent-a', b, { ...firstHop('agent-a'), [ORIGIN]: 'agent-x' })).not.toBe('Allowed');
    expect(await assume(template, a, 'agent-a', b, { ...firstHop('agent-a'), 'sts:TransitiveTagKeys': [] })).not.toBe('Allowed');
    expect(
      await assume(template, a, 'agent-a', b, {
        ...firstHop('agent-a'),
        'aws:TagKeys': [SESSION_TAG_ORIGIN, SESSION_TAG_DELEGATED_BY, SESSION_TAG_CHAIN, TAG_AGENT],
      }),
    ).not.toBe('Allowed');
  });

  test('an agent without the delegation cannot assume B even with the tags', async () => {
    const { template, x, b } = threeAgents();
    expect(await assume(template, x, 'agent-x', b, firstHop('agent-x'))).not.toBe('Allowed');
  });

  test("a principal that carries A's tags but is not A's role cannot assume B (the trust pins A's ARN, not its tags)", async () => {
    const { template, a, x, b } = threeAgents();
    const impostor = { 'aws:PrincipalArn': roleArnIn(template, x) };
    // X holds A's identity statements (as if granted by hand) and A's tags. A request with session tags
    // needs sts:TagSession as well as sts:AssumeRole from B's trust; B's own assumedBy (the account here)
    // allows sts:AssumeRole alone, and only the delegation statements, pinned to A's ARN, allow sts:TagSession.
    expect(await assume(template, a, 'agent-a', b, { ...firstHop('agent-a'), ...impostor }, 'sts:TagSession')).not.toBe('Allowed');
    expect(await assume(template, a, 'agent-a', b, firstHop('agent-a'), 'sts:TagSession')).toBe('Allowed');
  });

  test('B continues the chain to C only by appending itself and keeping the inherited origin', async () => {
    const { template, b, c } = threeAgents();
    const session = { [`aws:PrincipalTag/${SESSION_TAG_ORIGIN}`]: 'agent-a', [`aws:PrincipalTag/${SESSION_TAG_CHAIN}`]: 'agent-a' };
    const hop = { ...session, [BY]: 'agent-b', [CHAIN]: 'agent-a/agent-b', 'aws:TagKeys': [SESSION_TAG_DELEGATED_BY, SESSION_TAG_CHAIN] };
    expect(await assume(template, b, 'agent-b', c, hop)).toBe('Allowed');
    expect(await assume(template, b, 'agent-b', c, { ...hop, [CHAIN]: 'agent-b' })).not.toBe('Allowed');
    expect(await assume(template, b, 'agent-b', c, { ...hop, [BY]: 'agent-a' })).not.toBe('Allowed');
    // In a chain, starting a new one (dropping the inherited origin) is refused.
    expect(await assume(template, b, 'agent-b', c, { ...session, ...firstHop('agent-b') })).not.toBe('Allowed');
  });

  test('a time-bound delegation is allowed before its expiry and denied after it', async () => {
    const { template, a, b } = threeAgents(true);
    expect(await assume(template, a, 'agent-a', b, { ...firstHop('agent-a'), 'aws:CurrentTime': '2027-01-09T23:59:59Z' })).toBe('Allowed');
    expect(await assume(template, a, 'agent-a', b, { ...firstHop('agent-a'), 'aws:CurrentTime': EXPIRY })).not.toBe('Allowed');
  });
});
