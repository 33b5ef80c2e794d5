/**
 * An agent holding a broad time-bound grant (iam:*, sts:AssumeRole, lambda:*,
 * sqs:*, sns:*, events:PutEvents, cloudwatch:*, logs:*, kms:*, s3:*) tries to
 * keep, widen, hide or fake its access. Each attack is evaluated on the
 * synthesized templates with an IAM policy simulator and must end denied;
 * beside each, the legitimate action it resembles must still be allowed.
 */
import { Stack } from 'aws-cdk-lib';
import {
  MANAGED_BY_VALUE,
  SESSION_TAG_CHAIN,
  SESSION_TAG_DELEGATED_BY,
  SESSION_TAG_ORIGIN,
  SWEEPER_COMPONENT_VALUE,
  TAG_COMPONENT,
  TAG_MANAGED_BY,
} from '../../lib/contract';
import { arnOf, resolveIntrinsics, SIM_ACCOUNT, SIM_REGION } from '../support/simulate';
import { buildGovernedApp, decide, logicalIdOf, simulatedRole, templates, trustOf } from './governed-app';

const governed = buildGovernedApp();
const { agents, elsewhere } = templates(governed);
const greedy = simulatedRole(agents, governed.greedy.role);
const helper = simulatedRole(agents, governed.helper.role);
const other = simulatedRole(agents, governed.other.role);
const remote = simulatedRole(elsewhere, governed.remote.role);
const sweeperRoleArn = simulatedRole(agents, governed.sweeper.role).arn;
const arn = (c: { node: { defaultChild?: unknown } }) => arnOf(agents, logicalIdOf(c));
const sweeperFunction = arn(governed.sweeper.function);
const deadLetters = arn(governed.sweeper.deadLetterQueue);
const ownerTopic = arn(governed.sweeper.ownerTopic);
const logGroup = arn(governed.sweeper.logGroup);
const key = arn(governed.sweeper.encryptionKey);
const alarm = arn(governed.sweeper.alarm);
const sweeperTags = { [TAG_COMPONENT]: SWEEPER_COMPONENT_VALUE };
const keyPolicy = resolveIntrinsics(agents, agents.Resources[logicalIdOf(governed.sweeper.encryptionKey)].Properties.KeyPolicy);
const signingKey = arn(governed.sweeper.signingKey);
const signingKeyPolicy = resolveIntrinsics(agents, agents.Resources[logicalIdOf(governed.sweeper.signingKey)].Properties.KeyPolicy);
const own = (service: string, resource: string) => `arn:aws:${service}:${SIM_REGION}:${SIM_ACCOUNT}:${resource}`;
const plainRole = `arn:aws:iam::${SIM_ACCOUNT}:role/app/worker`;
const bucketArn = arnOf(agents, logicalIdOf(governed.bucket));
const defaultKeyPolicy = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SIM_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
};
const both = [
  ['greedy-bot (same stack as the sweeper)', greedy],
  ['remote-bot (another stack)', remote],
] as const;

describe("1. sweeper takeover: no agent can pass or assume the sweeper's role", () => {
  test("the sweeper's role lives under the sweeper path", () => {
    expect(sweeperRoleArn).toMatch(/:role\/permission-decay\/sweeper\//);
  });

  test.each(both)("%s: iam:PassRole and sts:AssumeRole on the sweeper's role are denied", async (_who, agent) => {
    for (const action of ['iam:PassRole', 'sts:AssumeRole']) {
      expect([action, await decide(agent, { action, resource: sweeperRoleArn })]).toEqual([action, 'ExplicitlyDenied']);
    }
  });

  test("nor can it pass a governed role (its own or another agent's) to a service", async () => {
    for (const target of [greedy.arn, helper.arn]) {
      expect(await decide(greedy, { action: 'iam:PassRole', resource: target })).toBe('ExplicitlyDenied');
    }
  });

  test('control: the agent may still pass a role of its own application to a Lambda it creates', async () => {
    expect(await decide(greedy, { action: 'iam:PassRole', resource: plainRole })).toBe('Allowed');
    expect(await decide(greedy, { action: 'lambda:CreateFunction', resource: own('lambda', 'function:worker') })).toBe('Allowed');
  });
});

describe("2. driving the sweeper's clock: no agent can invoke or reconfigure the sweeper", () => {
  const actions = [
    'lambda:InvokeFunction',
    'lambda:InvokeFunctionUrl',
    'lambda:UpdateFunctionConfiguration',
    'lambda:UpdateFunctionCode',
    'lambda:PutFunctionEventInvokeConfig',
    'lambda:UpdateAlias',
    'lambda:PublishVersion',
  ];

  test.each(actions)('%s on the sweeper function: denied by ARN (same stack) and by tag (any stack)', async action => {
    expect(await decide(greedy, { action, resource: sweeperFunction })).toBe('ExplicitlyDenied');
    const elsewhereSweeper = own('lambda', 'function:a-sweeper');
    expect(await decide(remote, { action, resource: elsewhereSweeper, resourceTags: sweeperTags })).toBe('ExplicitlyDenied');
  });

  test('control: the agent may invoke and reconfigure its own functions', async () => {
    for (const action of ['lambda:InvokeFunction', 'lambda:UpdateFunctionConfiguration']) {
      expect(await decide(greedy, { action, resource: own('lambda', 'function:worker') })).toBe('Allowed');
    }
  });
});

describe('3. confused deputy: no agent can write governance tags on any principal or create roles under the governed path', () => {
  const governanceKeys = [TAG_MANAGED_BY, 'governance:grant:forever'];

  test.each([
    ['iam:TagRole', plainRole],
    ['iam:UntagRole', plainRole],
    ['iam:TagUser', `arn:aws:iam::${SIM_ACCOUNT}:user/bob`],
    ['iam:UntagUser', `arn:aws:iam::${SIM_ACCOUNT}:user/bob`],
    ['iam:TagPolicy', `arn:aws:iam::${SIM_ACCOUNT}:policy/app-policy`],
    ['iam:CreateRole', `arn:aws:iam::${SIM_ACCOUNT}:role/app/new`],
    ['iam:CreateUser', `arn:aws:iam::${SIM_ACCOUNT}:user/new`],
    ['iam:CreatePolicy', `arn:aws:iam::${SIM_ACCOUNT}:policy/new`],
  ])('%s with governance:* tag keys is denied', async (action, resource) => {
    for (const [, agent] of both) {
      const context = { 'aws:TagKeys': governanceKeys, [`aws:RequestTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE };
      expect(await decide(agent, { action, resource, context })).toBe('ExplicitlyDenied');
    }
  });

  test('creating a role under /permission-decay/ is denied, even without tags', async () => {
    for (const path of ['permission-decay/agents/look-alike', 'permission-decay/sweeper/look-alike', 'permission-decay/x']) {
      const resource = `arn:aws:iam::${SIM_ACCOUNT}:role/${path}`;
      expect(await decide(greedy, { action: 'iam:CreateRole', resource })).toBe('ExplicitlyDenied');
    }
  });

  test("control: ordinary tags and roles outside the path are the agent's grant to use", async () => {
    const context = { 'aws:TagKeys': ['team'], 'aws:RequestTag/team': 'billing' };
    expect(await decide(greedy, { action: 'iam:TagRole', resource: plainRole, context })).toBe('Allowed');
    const resource = `arn:aws:iam::${SIM_ACCOUNT}:role/app/new`;
    expect(await decide(greedy, { action: 'iam:CreateRole', resource, context })).toBe('Allowed');
  });
});

describe('4. the path, not the removable tag, anchors the protections of governed roles', () => {
  test('governed roles live under the governed path', () => {
    for (const role of [greedy, helper, other, remote]) expect(role.arn).toMatch(/:role\/permission-decay\/agents\//);
  });

  const changes = [
    'iam:PutRolePolicy',
    'iam:DeleteRolePolicy',
    'iam:AttachRolePolicy',
    'iam:DetachRolePolicy',
    'iam:UpdateAssumeRolePolicy',
    'iam:PutRolePermissionsBoundary',
    'iam:DeleteRolePermissionsBoundary',
    'iam:TagRole',
    'iam:UntagRole',
    'iam:UpdateRole',
    'iam:DeleteRole',
  ];

  test.each(changes)('%s on a governed role whose governance tags were removed is denied', async action => {
    for (const target of [greedy.arn, helper.arn, remote.arn]) {
      // No resourceTags: the marker tag is gone.
      const decision = await decide(greedy, { action, resource: target, context: { 'aws:TagKeys': ['team'] } });
      expect([target, decision]).toEqual([target, 'ExplicitlyDenied']);
    }
  });

  test("control: the same changes on a role of the agent's application are its grant to use (set a ceiling to narrow that)", async () => {
    expect(await decide(greedy, { action: 'iam:PutRolePolicy', resource: plainRole })).toBe('Allowed');
  });
});

describe('5. impersonation and unrestricted assumption', () => {
  const firstHop = (agentId: string) => ({
    [`aws:RequestTag/${SESSION_TAG_ORIGIN}`]: agentId,
    [`aws:RequestTag/${SESSION_TAG_DELEGATED_BY}`]: agentId,
    [`aws:RequestTag/${SESSION_TAG_CHAIN}`]: agentId,
    'aws:TagKeys': [SESSION_TAG_ORIGIN, SESSION_TAG_DELEGATED_BY, SESSION_TAG_CHAIN],
    'sts:TransitiveTagKeys': [SESSION_TAG_ORIGIN],
  });

  test('an agent with sts:AssumeRole * cannot assume a governed role it was given no delegation to', async () => {
    // Without session tags the boundary refuses it, whatever the target's trust says (here: the whole account).
    expect(
      await decide(greedy, { action: 'sts:AssumeRole', resource: other.arn, resourcePolicy: trustOf(agents, governed.other.role) }),
    ).toBe('ExplicitlyDenied');
    expect(await decide(remote, { action: 'sts:AssumeRole', resource: helper.arn })).toBe('ExplicitlyDenied');
    // With session tags the request needs sts:TagSession from the target's trust, which only declared delegations give.
    expect(
      await decide(greedy, {
        action: 'sts:TagSession',
        resource: other.arn,
        context: firstHop('greedy-bot'),
        resourcePolicy: trustOf(agents, governed.other.role),
      }),
    ).not.toBe('Allowed');
  });

  test('a principal tagged like the delegator, or another agent, cannot pose as the delegator, even with its session tags', async () => {
    const trust = trustOf(agents, governed.helper.role);
    // A role someone tagged exactly like greedy-bot (e.g. a person with iam:TagRole outside the agents), with greedy-bot's policies.
    const lookAlike = { ...greedy, arn: `arn:aws:iam::${SIM_ACCOUNT}:role/app/look-alike`, boundaryPolicies: [] };
    const posing = { action: 'sts:TagSession', resource: helper.arn, context: firstHop('greedy-bot'), resourcePolicy: trust };
    expect(await decide(lookAlike, posing)).not.toBe('Allowed');
    for (const claimed of ['greedy-bot', 'remote-bot']) {
      expect(
        await decide(remote, { action: 'sts:TagSession', resource: helper.arn, context: firstHop(claimed), resourcePolicy: trust }),
      ).not.toBe('Allowed');
    }
  });

  test('control: the declared delegation, with its session tags, is allowed end to end (identity, boundary, trust)', async () => {
    const trust = trustOf(agents, governed.helper.role);
    for (const action of ['sts:AssumeRole', 'sts:TagSession']) {
      expect([
        action,
        await decide(greedy, { action, resource: helper.arn, context: firstHop('greedy-bot'), resourcePolicy: trust }),
      ]).toEqual([action, 'Allowed']);
    }
  });
});

describe('6. access that outlives the grant: no resource-policy writes without an opt-in', () => {
  test.each([
    ['s3:PutBucketPolicy', () => bucketArn],
    ['s3:PutBucketAcl', () => bucketArn],
    ['lambda:AddPermission', () => own('lambda', 'function:worker')],
    ['lambda:CreateFunctionUrlConfig', () => own('lambda', 'function:worker')],
    ['sqs:SetQueueAttributes', () => own('sqs', 'work')],
    ['sqs:AddPermission', () => own('sqs', 'work')],
    ['sns:AddPermission', () => own('sns', 'news')],
    ['sns:SetTopicAttributes', () => own('sns', 'news')],
    ['kms:PutKeyPolicy', () => own('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab')],
    ['kms:CreateGrant', () => own('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab')],
    ['logs:PutResourcePolicy', () => '*'],
    ['events:PutPermission', () => '*'],
    ['iam:UpdateAssumeRolePolicy', () => plainRole],
  ])('%s is denied during the broad grant', async (action, resource) => {
    expect(await decide(greedy, { action, resource: resource() })).toBe('ExplicitlyDenied');
  });

  test("control: the grant's ordinary use and the baseline stay allowed", async () => {
    expect(await decide(greedy, { action: 's3:PutObject', resource: `${bucketArn}/report.csv` })).toBe('Allowed');
    const afterTheGrant = '2030-01-01T00:00:00Z';
    expect(await decide(greedy, { action: 's3:GetObject', resource: `${bucketArn}/report.csv`, at: afterTheGrant })).toBe('Allowed');
    const table = arnOf(agents, logicalIdOf(governed.table));
    expect(await decide(greedy, { action: 'dynamodb:Query', resource: table, at: '2030-01-01T00:00:00Z' })).toBe('Allowed');
    expect(await decide(greedy, { action: 'sqs:SendMessage', resource: own('sqs', 'work') })).toBe('Allowed');
  });
});

describe("7. blinding: the sweeper's dead letters, topic, alarms, logs, decisions and key are out of reach", () => {
  test.each([
    ['sqs:ReceiveMessage', () => deadLetters],
    ['sqs:DeleteMessage', () => deadLetters],
    ['sqs:PurgeQueue', () => deadLetters],
    ['sns:Unsubscribe', () => ownerTopic],
    ['sns:SetSubscriptionAttributes', () => ownerTopic],
    ['logs:DeleteLogStream', () => `${logGroup.replace(/:\*$/, '')}:log-stream:2027/01/01`],
    ['logs:PutSubscriptionFilter', () => logGroup],
    ['logs:DeleteSubscriptionFilter', () => logGroup],
    ['kms:DisableKey', () => key],
  ])("%s on the sweeper's resource: denied by ARN in the same stack, by tag in any", async (action, resource) => {
    expect(await decide(greedy, { action, resource: resource() })).toBe('ExplicitlyDenied');
    expect(await decide(remote, { action, resource: resource(), resourceTags: sweeperTags })).toBe('ExplicitlyDenied');
  });

  test.each(['cloudwatch:SetAlarmState', 'cloudwatch:DeleteAlarms', 'cloudwatch:PutMetricAlarm', 'cloudwatch:DisableAlarmActions'])(
    "%s on the sweeper's alarms is denied (they carry the component tag)",
    async action => {
      for (const [, agent] of both) {
        expect(await decide(agent, { action, resource: alarm, resourceTags: sweeperTags })).toBe('ExplicitlyDenied');
      }
    },
  );

  test("putting events with the sweeper's source is denied on any bus", async () => {
    for (const bus of ['event-bus/default', 'event-bus/custom']) {
      for (const [, agent] of both) {
        for (const sources of [['permission-decay'], ['greedy.app', 'permission-decay']]) {
          expect(
            await decide(agent, { action: 'events:PutEvents', resource: own('events', bus), context: { 'events:source': sources } }),
          ).toBe('ExplicitlyDenied');
        }
      }
    }
  });

  test.each(['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:PutKeyPolicy', 'kms:DisableKeyRotation', 'kms:CreateGrant'])(
    "%s on the sweeper's key by an agent of another stack is denied by the key policy",
    async action => {
      // The remote agent's boundary knows nothing of this key (no tag: moto cannot create a tagged key); its key policy denies it.
      expect(await decide(remote, { action, resource: key, resourcePolicy: keyPolicy })).toBe('ExplicitlyDenied');
    },
  );

  test.each(['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:PutKeyPolicy', 'kms:Sign', 'kms:CreateGrant'])(
    '%s on the ledger signing key is denied to the agents of both stacks (key policy; by ARN in the same stack)',
    async action => {
      for (const [who, agent] of both) {
        expect([who, await decide(agent, { action, resource: signingKey, resourcePolicy: signingKeyPolicy })]).toEqual([
          who,
          'ExplicitlyDenied',
        ]);
      }
    },
  );

  test("control: the agent's own queues, topics, alarms, logs, events and keys are its grant to use", async () => {
    const requests = [
      { action: 'sqs:ReceiveMessage', resource: own('sqs', 'work') },
      { action: 'sns:Unsubscribe', resource: own('sns', 'news') },
      { action: 'cloudwatch:SetAlarmState', resource: own('cloudwatch', 'alarm:worker-errors') },
      { action: 'logs:PutSubscriptionFilter', resource: own('logs', 'log-group:/app/worker:*') },
      { action: 'events:PutEvents', resource: own('events', 'event-bus/default'), context: { 'events:source': ['greedy.app'] } },
      // KMS needs a key policy to allow anything; this is the default one, which defers to IAM.
      { action: 'kms:Encrypt', resource: own('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab'), resourcePolicy: defaultKeyPolicy },
    ];
    for (const request of requests) expect([request.action, await decide(greedy, request)]).toEqual([request.action, 'Allowed']);
  });

  test("control: the key policy leaves the account's own administrators their key", async () => {
    const admin = {
      arn: `arn:aws:iam::${SIM_ACCOUNT}:role/Admin`,
      identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }],
      boundaryPolicies: [],
    };
    expect(await decide(admin, { action: 'kms:DisableKeyRotation', resource: key, resourcePolicy: keyPolicy })).toBe('Allowed');
    expect(await decide(admin, { action: 'kms:GetPublicKey', resource: signingKey, resourcePolicy: signingKeyPolicy })).toBe('Allowed');
  });
});

describe('cycles and delegations across stacks still synthesize without references between the stacks', () => {
  test('A -> B -> A in one stack and across two stacks', () => {
    const app = buildGovernedApp();
    app.helper.allowDelegationTo(app.greedy);
    app.remote.allowDelegationTo(app.helper);
    app.helper.allowDelegationTo(app.remote);
    const assembly = app.app.synth();
    for (const stack of [app.agentsStack, app.elsewhereStack]) {
      expect(stack.dependencies).toEqual([]);
      const text = JSON.stringify(assembly.getStackByName(stack.stackName).template);
      expect(text).not.toContain('Fn::ImportValue');
    }
    expect(Stack.of(app.remote).stackName).toBe('Elsewhere');
  });
});
