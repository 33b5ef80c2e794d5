import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Stack } from 'aws-cdk-lib';
import { agent, newApp, synthReport } from '../report/governance-fixtures';

describe('the permission shadow in the emitted report', () => {
  test("A → B → C: A reaches C's actions, each with the earliest expiry on its path", () => {
    const { app, stack } = newApp();
    const bucket = new s3.Bucket(stack, 'Evidence');
    const queue = new sqs.Queue(stack, 'Tasks');
    const a = agent(stack, 'agent-a');
    const b = agent(stack, 'agent-b');
    const c = agent(stack, 'agent-c', {
      baseline: [new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] })],
    });
    bucket.grantPut(
      c.temporaryGrant('evidence-write', {
        expiresAt: '2027-01-20T00:00:00Z',
        requestedBy: 'carol',
        ticket: 'SEC-3',
        reason: 'collect evidence',
      }),
    );
    a.allowDelegationTo(b);
    b.allowDelegationTo(c, { expiresAt: '2027-01-15T00:00:00Z', requestedBy: 'bob', ticket: 'SEC-2', reason: 'b asks c for evidence' });

    const { report, markdown } = synthReport(app);
    const shadowA = report.agents.find(x => x.agentId === 'agent-a')!.shadow;
    expect(shadowA.paths.map(p => p.agents.join('>'))).toEqual(['agent-a', 'agent-a>agent-b', 'agent-a>agent-b>agent-c']);
    const viaC = shadowA.reaches.filter(r => r.path.join('>') === 'agent-a>agent-b>agent-c');
    // C's baseline never expires, but the path through B's delegation to C does.
    const send = viaC.find(r => r.actions.includes('sqs:SendMessage'))!;
    expect(send).toMatchObject({ source: 'baseline', expiresAt: '2027-01-15T00:00:00Z', via: ['baseline', 'delegate-to-agent-c'] });
    expect(send.resource.storeKey).toBe('Agents/Tasks');
    // C's grant expires after the delegation: the delegation's expiry wins. Both are earlier than never.
    const put = viaC.find(r => r.actions.includes('s3:PutObject'))!;
    expect(put).toMatchObject({ source: 'grant', grantName: 'evidence-write', expiresAt: '2027-01-15T00:00:00Z' });
    // B's own view of C: the grant's expiry where it is earlier than nothing else.
    const shadowB = report.agents.find(x => x.agentId === 'agent-b')!.shadow;
    expect(shadowB.reaches.find(r => r.path.join('>') === 'agent-b>agent-c' && r.actions.includes('s3:PutObject'))!.expiresAt).toBe(
      '2027-01-15T00:00:00Z',
    );
    const shadowC = report.agents.find(x => x.agentId === 'agent-c')!.shadow;
    expect(shadowC.reaches.find(r => r.actions.includes('s3:PutObject'))!.expiresAt).toBe('2027-01-20T00:00:00Z');
    // The delegation statements themselves are in the shadow, as delegation statements.
    expect(shadowA.reaches.find(r => r.path.length === 1 && r.source === 'delegation')).toMatchObject({
      actions: ['sts:AssumeRole', 'sts:TagSession'],
      grantName: 'baseline',
    });

    expect(markdown).toContain(
      '| agent-a → agent-b → agent-c | ${Tasks0BA6A452.Arn} (Agents/Tasks) | sqs:SendMessage | baseline | 2027-01-15T00:00:00Z |',
    );
    expect(markdown).toContain('- Delegates to: agent-b via baseline');
    expect(markdown).toContain('- Delegates to: agent-c via delegate-to-agent-c until 2027-01-15T00:00:00Z');
  });

  test('a cycle A → B → A terminates, and neither trust policy names the other role (CloudFormation could not order them)', () => {
    const { app, stack } = newApp();
    const a = agent(stack, 'agent-a', { baseline: [new iam.PolicyStatement({ actions: ['s3:ListAllMyBuckets'], resources: ['*'] })] });
    const b = agent(stack, 'agent-b', { baseline: [new iam.PolicyStatement({ actions: ['cloudwatch:ListMetrics'], resources: ['*'] })] });
    a.allowDelegationTo(b);
    b.allowDelegationTo(a);

    const { report } = synthReport(app);
    const shadowA = report.agents.find(x => x.agentId === 'agent-a')!.shadow;
    expect(shadowA.paths.map(p => p.agents.join('>'))).toEqual(['agent-a', 'agent-a>agent-b']);
    expect(shadowA.truncated).toBe(false);
    expect(shadowA.reaches.some(r => r.path.length === 2 && r.actions.includes('cloudwatch:ListMetrics'))).toBe(true);
    const shadowB = report.agents.find(x => x.agentId === 'agent-b')!.shadow;
    expect(shadowB.paths.map(p => p.agents.join('>'))).toEqual(['agent-b', 'agent-b>agent-a']);

    const template = app.synth().getStackByName(stack.stackName).template;
    const roleId = (x: typeof a) => Stack.of(x).getLogicalId(x.role.node.defaultChild as any);
    expect(JSON.stringify(template.Resources[roleId(a)].Properties.AssumeRolePolicyDocument)).not.toContain(roleId(b));
    expect(JSON.stringify(template.Resources[roleId(b)].Properties.AssumeRolePolicyDocument)).not.toContain(roleId(a));
  });

  test('the report is deterministic: two synths of the same app write the same files', () => {
    const build = () => {
      const { app, stack } = newApp();
      const a = agent(stack, 'agent-a');
      const b = agent(stack, 'agent-b', {
        baseline: [new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: ['arn:aws:s3:::drop-zone/*'] })],
      });
      a.allowDelegationTo(b);
      return synthReport(app);
    };
    const first = build();
    const second = build();
    expect(second.markdown).toBe(first.markdown);
    expect(JSON.stringify(second.report)).toBe(JSON.stringify(first.report));
    expect(first.markdown).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/);
  });
});
