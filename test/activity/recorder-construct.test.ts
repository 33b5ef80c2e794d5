/**
 * The activity recorder PermissionSweeper deploys: the template (rules,
 * queue, function) and its permissions judged by the policy simulator, with
 * the attacks of a governed agent holding a broad grant (dynamodb:*, lambda:*,
 * sqs:*, events:PutEvents) and the controls that the legitimate calls still work.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { GovernedAgentRole, PermissionSweeper } from '../../lib';
import {
  ACCESS_REQUEST_PARTITION,
  ACCESS_REQUESTED_DETAIL_TYPE,
  NOVEL_ACCESS_DETAIL_TYPE,
  NOVEL_ACCESS_PARTITION,
} from '../../lib/contract/activity';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, SWEEPER_COMPONENT_VALUE, SYNTH_CLOCK_CONTEXT_KEY, TAG_COMPONENT } from '../../lib/contract';
const componentTag = { [TAG_COMPONENT]: SWEEPER_COMPONENT_VALUE };
import { RECORDER_BATCH_SIZE } from '../../lib/private/activity-recorder';
import { decide, logicalIdOf, simulatedRole } from '../security/governed-app';
import { ensureSweeperHandlerBundle } from '../sweeper-construct/sweeper-fixture';
import { resolveIntrinsics, SIM_ACCOUNT, TemplateJson } from '../support/simulate';

ensureSweeperHandlerBundle();
const NOW = '2030-01-01T00:00:00Z';
const DURING = '2030-01-05T00:00:00Z';
const app = new App({ context: { [SYNTH_CLOCK_CONTEXT_KEY]: NOW } });
const stack = new Stack(app, 'Governance', { env: { account: SIM_ACCOUNT, region: 'us-east-1' } });
const agent = new GovernedAgentRole(stack, 'greedy', {
  agentId: 'greedy-bot',
  owner: 'o@example.com',
  assumedBy: new iam.AccountRootPrincipal(),
});
agent.temporaryGrant('broad', {
  expiresAt: '2030-01-20T00:00:00Z',
  requestedBy: 'mallory@example.com',
  ticket: 'SEC-1',
  reason: 'everything',
  statements: [new iam.PolicyStatement({ actions: ['dynamodb:*', 'lambda:*', 'sqs:*', 'events:PutEvents'], resources: ['*'] })],
});
const sweeper = new PermissionSweeper(stack, 'Sweeper', { agents: [agent], baselineWindow: Duration.days(45) });
const template = Template.fromStack(stack);
const json: TemplateJson = template.toJSON();

const ledgerArn = `arn:aws:dynamodb:us-east-1:${SIM_ACCOUNT}:table/permission-decay-ledger-Governance`;
const recorderRoleId = logicalIdOf(sweeper.node.findChild('Activity').node.findChild('Role') as never);
const recorder = simulatedRole(json, { node: sweeper.node.findChild('Activity').node.findChild('Role').node } as never);
const greedy = simulatedRole(json, agent.role);
const functionArn = resolveIntrinsics(json, { 'Fn::GetAtt': [logicalIdOf(sweeper.activityFunction as never), 'Arn'] }) as string;
const queueId = logicalIdOf(sweeper.activityQueue as never);
const queueArn = resolveIntrinsics(json, { 'Fn::GetAtt': [queueId, 'Arn'] }) as string;
const queuePolicy = () => {
  const policy = Object.values(json.Resources).find(
    (r: any) => r.Type === 'AWS::SQS::QueuePolicy' && JSON.stringify(r.Properties.Queues).includes(queueId),
  ) as any;
  return resolveIntrinsics(json, policy.Properties.PolicyDocument);
};
const rulesOf = () =>
  Object.values(json.Resources).filter((r: any) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern) as any[];

describe('the template', () => {
  test('on by default; `activity: false` deploys no recorder', () => {
    expect(sweeper.activityFunction).toBeDefined();
    const off = new Stack(new App(), 'Off');
    const quiet = new PermissionSweeper(off, 'Sweeper', { activity: false });
    expect(quiet.activityFunction).toBeUndefined();
    Template.fromStack(off).resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    Template.fromStack(off).resourceCountIs('AWS::SQS::Queue', 1); // the sweeper's dead-letter queue only
  });

  test('a rule on CloudTrail calls of governed sessions (with read-only management events) and one on assumptions of governed roles', () => {
    const rules = rulesOf();
    const calls = rules.find(r => r.Properties.EventPattern.detail?.userIdentity);
    expect(calls.Properties.State).toBe('ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
    expect(calls.Properties.EventPattern['detail-type']).toEqual(['AWS API Call via CloudTrail']);
    expect(resolveIntrinsics(json, calls.Properties.EventPattern.detail.userIdentity.sessionContext.sessionIssuer.arn)).toEqual([
      { prefix: `arn:aws:iam::${SIM_ACCOUNT}:role/permission-decay/agents/` },
    ]);
    const assumptions = rules.find(r => r.Properties.EventPattern.detail?.requestParameters);
    expect(assumptions.Properties.EventPattern.source).toEqual(['aws.sts']);
    expect(resolveIntrinsics(json, assumptions.Properties.EventPattern.detail.requestParameters.roleArn)).toEqual([
      { prefix: `arn:aws:iam::${SIM_ACCOUNT}:role/permission-decay/agents/` },
    ]);
    for (const r of [calls, assumptions]) expect(JSON.stringify(r.Properties.Targets)).toContain(queueId);
  });

  test('batched through the queue: writes are per aggregate of a batch; failed messages come back alone', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: RECORDER_BATCH_SIZE,
      MaximumBatchingWindowInSeconds: 300,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          PERMISSION_DECAY_BASELINE_WINDOW_SECONDS: String(45 * 86400),
          PERMISSION_DECAY_ACCOUNT: SIM_ACCOUNT,
        }),
      },
    });
    expect(json.Resources[recorderRoleId].Properties.Path).toBe('/permission-decay/sweeper/');
  });
});

describe("the recorder's role: least privilege", () => {
  const item = (pk: string) => ({ 'dynamodb:LeadingKeys': [pk] });
  test.each(['ACTIVITY#agent-a', 'ACTIVITY-SEEN#agent-a', 'ACTIVITY-SESSION#ASIA1', ACCESS_REQUEST_PARTITION, NOVEL_ACCESS_PARTITION])(
    'control: it may read and put items of %s',
    async pk => {
      for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem']) {
        expect(await decide(recorder, { action, resource: ledgerArn, context: item(pk) })).toBe('Allowed');
      }
    },
  );

  test.each(['ROLE#agent-a', 'STATE', 'SEAL#AIDAPERSON', 'REQUEST#agent-a#g', 'RENEWAL#agent-a#g'])(
    'attack: it cannot write the chain, STATE, seals or pointers (%s)',
    async pk => {
      expect(await decide(recorder, { action: 'dynamodb:PutItem', resource: ledgerArn, context: item(pk) })).not.toBe('Allowed');
    },
  );

  test('attack: no update, delete, batch write or query, and nothing without a key', async () => {
    for (const action of [
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:Query',
      'dynamodb:DeleteTable',
    ]) {
      expect(await decide(recorder, { action, resource: ledgerArn, context: item('ACTIVITY#a') })).not.toBe('Allowed');
    }
    expect(await decide(recorder, { action: 'dynamodb:PutItem', resource: ledgerArn })).not.toBe('Allowed');
  });

  test('it puts only its own two event types: never a decision event', async () => {
    const put = (detailType: string, source = EVENT_SOURCE) =>
      decide(recorder, {
        action: 'events:PutEvents',
        resource: `arn:aws:events:us-east-1:${SIM_ACCOUNT}:event-bus/default`,
        context: { 'events:source': [source], 'events:detail-type': [detailType] },
      });
    expect(await put(ACCESS_REQUESTED_DETAIL_TYPE)).toBe('Allowed');
    expect(await put(NOVEL_ACCESS_DETAIL_TYPE)).toBe('Allowed');
    expect(await put(EVENT_DETAIL_TYPE)).not.toBe('Allowed');
    expect(await put(ACCESS_REQUESTED_DETAIL_TYPE, 'aws.cloudtrail')).not.toBe('Allowed');
  });

  test('no IAM write at all', async () => {
    for (const action of ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:TagRole']) {
      expect(await decide(recorder, { action, resource: `arn:aws:iam::${SIM_ACCOUNT}:role/permission-decay/agents/x` })).not.toBe(
        'Allowed',
      );
    }
  });
});

describe('a governed agent with dynamodb:*, lambda:*, sqs:* and events:PutEvents', () => {
  test('attack: cannot write activity items, access requests or novel access into the ledger', async () => {
    for (const pk of ['ACTIVITY#greedy', ACCESS_REQUEST_PARTITION, NOVEL_ACCESS_PARTITION, 'ACTIVITY-SESSION#ASIA1']) {
      for (const action of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) {
        expect(await decide(greedy, { action, resource: ledgerArn, context: { 'dynamodb:LeadingKeys': [pk] } })).toBe('ExplicitlyDenied');
      }
    }
  });

  test('attack: cannot invoke, reconfigure or re-point the recorder', async () => {
    const fn = json.Resources[logicalIdOf(sweeper.activityFunction as never)];
    expect(fn.Properties.Tags).toEqual(expect.arrayContaining([{ Key: TAG_COMPONENT, Value: SWEEPER_COMPONENT_VALUE }]));
    for (const action of [
      'lambda:InvokeFunction',
      'lambda:UpdateFunctionCode',
      'lambda:UpdateFunctionConfiguration',
      'lambda:DeleteFunction',
    ]) {
      expect(await decide(greedy, { action, resource: functionArn, resourceTags: componentTag })).toBe('ExplicitlyDenied');
    }
    const mappingId = Object.keys(json.Resources).find(k => json.Resources[k].Type === 'AWS::Lambda::EventSourceMapping')!;
    const mappingArn = `arn:aws:lambda:us-east-1:${SIM_ACCOUNT}:event-source-mapping:${mappingId}`;
    // By its component tag (CloudFormation tags the mapping, and Lambda evaluates aws:ResourceTag on it).
    expect(json.Resources[mappingId].Properties.Tags).toEqual(
      expect.arrayContaining([{ Key: TAG_COMPONENT, Value: SWEEPER_COMPONENT_VALUE }]),
    );
    for (const action of ['lambda:UpdateEventSourceMapping', 'lambda:DeleteEventSourceMapping']) {
      expect(await decide(greedy, { action, resource: mappingArn, resourceTags: componentTag })).toBe('ExplicitlyDenied');
    }
  });

  test("attack: cannot put a forged CloudTrail event on the recorder's queue, purge it or read it", async () => {
    expect(json.Resources[queueId].Properties.Tags).toEqual(
      expect.arrayContaining([{ Key: TAG_COMPONENT, Value: SWEEPER_COMPONENT_VALUE }]),
    );
    for (const action of ['sqs:SendMessage', 'sqs:PurgeQueue', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:SetQueueAttributes']) {
      expect(await decide(greedy, { action, resource: queueArn, resourceTags: componentTag })).toBe('ExplicitlyDenied');
    }
    // The queue's own policy refuses the forged message whatever the boundary says.
    expect(await decide(greedy, { action: 'sqs:SendMessage', resource: queueArn, resourcePolicy: queuePolicy() })).toBe('ExplicitlyDenied');
  });

  test('attack: the queue policy refuses a message from anyone but the two rules, even an identity the boundary does not cover', async () => {
    const admin = {
      arn: `arn:aws:iam::${SIM_ACCOUNT}:role/ops-admin`,
      identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }] }],
      boundaryPolicies: [],
    };
    expect(await decide(admin, { action: 'sqs:SendMessage', resource: queueArn, resourcePolicy: queuePolicy() })).toBe('ExplicitlyDenied');
  });

  test('control: the rules may send to the queue', async () => {
    const policy = queuePolicy();
    const ruleArn = resolveIntrinsics(json, {
      'Fn::GetAtt': [rulesOf().length ? Object.keys(json.Resources).find(k => json.Resources[k] === rulesOf()[0])! : '', 'Arn'],
    });
    const events = { arn: 'events.amazonaws.com', identityPolicies: [], boundaryPolicies: [] };
    expect(
      await decide(events as never, {
        action: 'sqs:SendMessage',
        resource: queueArn,
        resourcePolicy: policy,
        context: { 'aws:SourceArn': ruleArn },
      }),
    ).toBe('Allowed');
  });

  test('control: the agent still uses its own tables and functions', async () => {
    expect(
      await decide(greedy, {
        action: 'dynamodb:PutItem',
        resource: `arn:aws:dynamodb:us-east-1:${SIM_ACCOUNT}:table/orders`,
        at: DURING,
      }),
    ).toBe('Allowed');
    expect(
      await decide(greedy, { action: 'lambda:InvokeFunction', resource: `arn:aws:lambda:us-east-1:${SIM_ACCOUNT}:function:mine` }),
    ).toBe('Allowed');
  });
});
