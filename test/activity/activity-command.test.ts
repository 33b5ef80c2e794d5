/**
 * `activity` over a six-month window the test builds: calls fed to the
 * recorder's own writer (recordBatch) at instants spread over six months,
 * a grant requested and swept (kept, then revoked when it expired) in the
 * middle, and the command asked what the role used and what allowed it.
 * The expected attribution is the test's own timeline, not the command's.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { AwsClients } from '../../lib/sweeper/aws-clients';
import { createGovernedRole, createIdentity, doc, runCli, useEmulatorWithLedger } from '../support/governed-fixtures';
import { Moto } from '../support/moto';
import { record, recorderOn } from './activity-fixtures';
import { describeTable, s3Object } from './cloudtrail-events';

let moto: Moto;
let clients: AwsClients;
useEmulatorWithLedger((m, c) => {
  moto = m;
  clients = c;
});

const agent = { roleName: 'agent-exporter', accessKeyId: 'ASIAEXPORTER00000001' };
const at = (day: string, time = '10:00:00') => `2030-${day}T${time}Z`;

async function buildSixMonths() {
  await createGovernedRole(clients, {
    agentId: 'exporter',
    baseline: [{ name: 'base', document: doc('s3:GetObject', 'arn:aws:s3:::reports/*') }],
  });
  const r = recorderOn(moto.endpoint);
  const feed = async (...events: unknown[]) => expect((await record(r, ...events)).errors).toEqual([]);
  await feed(s3Object(agent, 'GetObject', 'reports', 'q1.csv', { at: at('01-10') }));
  await feed(s3Object(agent, 'GetObject', 'reports', 'q1.csv', { at: at('02-15') }));

  const bob = await createIdentity(clients.iam, 'bob');
  const dir = mkdtempSync(path.join(tmpdir(), 'pd-activity-'));
  const file = path.join(dir, 'export.json');
  writeFileSync(file, JSON.stringify(doc('s3:PutObject', 'arn:aws:s3:::exports/*')));
  const args = ['--role', 'exporter', '--grant', 'export', '--policy-file', file, '--until', at('03-20', '00:00:00')];
  const req = await runCli(
    moto.endpoint,
    ['request', ...args, '--ticket', 'OPS-1', '--reason', 'march export'],
    bob.credentials,
    at('03-01', '09:00:00'),
  );
  expect(req.err).toBe('');
  expect((await runCli(moto.endpoint, ['sweep', '--now', at('03-01')])).code).toBe(0);
  await feed(
    s3Object(agent, 'PutObject', 'exports', 'mar.csv', { at: at('03-05') }),
    s3Object(agent, 'PutObject', 'exports', 'mar.csv', { at: at('03-05', '16:00:00') }),
  );
  expect((await runCli(moto.endpoint, ['sweep', '--now', at('03-21')])).code).toBe(0);
  await feed(s3Object(agent, 'PutObject', 'exports', 'apr.csv', { at: at('04-10') }));
  await feed(s3Object(agent, 'GetObject', 'reports', 'q2.csv', { at: at('06-20') }));
  await feed(describeTable(agent, 'orders', { at: at('07-30') }));
  return bob;
}

const WINDOW = ['--since', '2030-02-01T00:00:00Z', '--until', '2030-07-31T23:59:59Z'];

test('six months of activity, each action with the baseline policy or grant that allowed it then', async () => {
  const bob = await buildSixMonths();
  const run = await runCli(moto.endpoint, ['activity', '--role', 'exporter', ...WINDOW, '--json']);
  expect(run.err).toBe('');
  expect(run.code).toBe(0);
  const out = JSON.parse(run.out);
  const summary = out.activity.map((l: any) => ({
    day: l.day,
    action: l.action,
    resource: l.resource,
    access: l.access,
    count: l.count,
    first: [...l.first.baseline.map((b: string) => `baseline:${b}`), ...l.first.grants.map((g: any) => `grant:${g.grant}:${g.ticket}`)],
    last: [...l.last.baseline.map((b: string) => `baseline:${b}`), ...l.last.grants.map((g: any) => `grant:${g.grant}:${g.ticket}`)],
  }));
  expect(summary).toEqual([
    // January is before --since: not listed.
    {
      day: '2030-02-15',
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::reports/q1.csv',
      access: 'read',
      count: 1,
      first: ['baseline:base'],
      last: ['baseline:base'],
    },
    {
      day: '2030-03-05',
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::exports/mar.csv',
      access: 'write',
      count: 2,
      first: ['grant:export:OPS-1'],
      last: ['grant:export:OPS-1'],
    },
    // After the grant expired and was revoked: nothing the ledger knows allowed it.
    { day: '2030-04-10', action: 's3:PutObject', resource: 'arn:aws:s3:::exports/apr.csv', access: 'write', count: 1, first: [], last: [] },
    {
      day: '2030-06-20',
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::reports/q2.csv',
      access: 'read',
      count: 1,
      first: ['baseline:base'],
      last: ['baseline:base'],
    },
    {
      day: '2030-07-30',
      action: 'dynamodb:DescribeTable',
      resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders',
      access: 'read',
      count: 1,
      first: [],
      last: [],
    },
  ]);
  const march = out.activity[1];
  expect(march.first.grants[0]).toMatchObject({
    grant: 'export',
    expiresAt: '2030-03-20T00:00:00Z',
    requestedBy: bob.arn,
    ticket: 'OPS-1',
  });
  expect(march.firstSeenAt).toBe(at('03-05'));
  expect(march.lastSeenAt).toBe(at('03-05', '16:00:00'));

  const writes = await runCli(moto.endpoint, ['activity', '--role', 'exporter', ...WINDOW, '--writes', '--json']);
  expect(JSON.parse(writes.out).activity.map((l: any) => `${l.day} ${l.action}`)).toEqual([
    '2030-03-05 s3:PutObject',
    '2030-04-10 s3:PutObject',
  ]);

  const human = await runCli(moto.endpoint, ['activity', '--role', 'exporter', ...WINDOW]);
  expect(human.out).toMatch(/2030-03-05\s+write\s+s3:PutObject\s+arn:aws:s3:::exports\/mar.csv\s+2\s+grant export \(OPS-1, /);
  expect(human.out).toMatch(/2030-04-10\s+write\s+s3:PutObject\s+arn:aws:s3:::exports\/apr.csv\s+1\s+nothing the ledger knows/);
});

test('a narrower window lists only its days; bad windows are refused', async () => {
  await buildSixMonths();
  const march = await runCli(moto.endpoint, [
    'activity',
    '--role',
    'exporter',
    '--since',
    '2030-03-01T00:00:00Z',
    '--until',
    '2030-03-31T00:00:00Z',
    '--json',
  ]);
  expect(JSON.parse(march.out).activity.map((l: any) => l.day)).toEqual(['2030-03-05']);
  const swapped = await runCli(moto.endpoint, [
    'activity',
    '--role',
    'exporter',
    '--since',
    '2030-04-01T00:00:00Z',
    '--until',
    '2030-03-01T00:00:00Z',
  ]);
  expect(swapped.code).toBe(2);
  expect(swapped.err).toMatch(/--since .* is after --until/);
  const malformed = await runCli(moto.endpoint, ['activity', '--role', 'exporter', '--since', 'last week']);
  expect(malformed.code).toBe(2);
  expect(malformed.err).toMatch(/--since/);
});
