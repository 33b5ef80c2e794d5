/**
 * requests / request --from-denial end to end on the emulator: the recorder
 * (in process, real SDK clients) is fed a refused CloudTrail call of a
 * governed role; `requests` lists it; `request --from-denial` turns it into a
 * time-bound inline grant of exactly that action on that resource through the
 * ordinary request path; a sweep records the grant.
 */
import { GetRolePolicyCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { grantTagKey, parseGrantTag } from '../../lib/contract';
import { ACCESS_REQUEST_PARTITION, findingId, resourceDigest } from '../../lib/contract/activity';
import { AwsClients } from '../../lib/sweeper/aws-clients';
import { readRecords } from '../../lib/sweeper/ledger';
import { createGovernedRole, createIdentity, runCli, TEST_LEDGER_TABLE, useEmulatorWithLedger } from '../support/governed-fixtures';
import { Moto } from '../support/moto';
import { partition, record, recorderOn } from './activity-fixtures';
import { ACCOUNT, deniedPutItem, s3Object } from './cloudtrail-events';

let moto: Moto;
let clients: AwsClients;
useEmulatorWithLedger((m, c) => {
  moto = m;
  clients = c;
});

const agent = { roleName: 'agent-reports', accessKeyId: 'ASIAAGENTREPORTS0001' };
const other = { roleName: 'agent-other', accessKeyId: 'ASIAAGENTOTHER000001' };
const DENIED_AT = '2030-03-01T09:00:00Z';
const NOW = '2030-03-01T12:00:00Z';
const UNTIL = '2030-03-20T00:00:00Z';
const TABLE_ARN = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/orders`;

async function setUp() {
  await createGovernedRole(clients, { agentId: 'reports', baseline: [{ name: 'base' }] });
  await createGovernedRole(clients, { agentId: 'other', baseline: [{ name: 'base' }] });
  const r = recorderOn(moto.endpoint);
  const result = await record(
    r,
    deniedPutItem(agent, 'orders', { at: DENIED_AT }),
    deniedPutItem(agent, 'orders', { at: '2030-03-01T09:05:00Z' }),
    deniedPutItem(other, 'audit', { at: DENIED_AT }),
    s3Object(agent, 'GetObject', 'reports', 'q1.csv', { at: DENIED_AT }),
  );
  expect(result.errors).toEqual([]);
  expect(result.accessRequests).toBe(2);
  // The oracle for the id: the contract's own formula over what the test fed in, not what the command prints.
  return findingId(agent.roleName, 'dynamodb:PutItem', resourceDigest(TABLE_ARN), '2030-03-01');
}

test('requests lists the refused calls of every role, or of one; --json carries the fields a reviewer needs', async () => {
  const id = await setUp();
  const all = await runCli(moto.endpoint, ['requests']);
  expect(all.err).toBe('');
  expect(all.code).toBe(0);
  expect(all.out).toContain(id);
  expect(all.out).toMatch(
    /agent-reports\s+2030-03-01\s+dynamodb:PutItem\s+arn:aws:dynamodb:us-east-1:123456789012:table\/orders\s+AccessDenied\s+2/,
  );
  expect(all.out).toContain('agent-other');

  const one = await runCli(moto.endpoint, ['requests', '--role', 'reports', '--json']);
  expect(one.code).toBe(0);
  const listed = JSON.parse(one.out).requests;
  expect(listed).toEqual([
    expect.objectContaining({
      id,
      roleName: agent.roleName,
      action: 'dynamodb:PutItem',
      resource: TABLE_ARN,
      errorCode: 'AccessDenied',
      count: 2,
      firstSeenAt: DENIED_AT,
      lastSeenAt: '2030-03-01T09:05:00Z',
    }),
  ]);
  expect(listed[0]).not.toHaveProperty('pk');
  expect(listed[0]).not.toHaveProperty('contributions');
});

test('request --from-denial grants exactly the refused action on the refused resource, until T, and a sweep records it', async () => {
  const id = await setUp();
  const bob = await createIdentity(clients.iam, 'bob');
  const run = await runCli(
    moto.endpoint,
    ['request', '--from-denial', id, '--until', UNTIL, '--ticket', 'OPS-44', '--reason', 'write the orders export', '--json'],
    bob.credentials,
    NOW,
  );
  expect(run.err).toBe('');
  expect(run.code).toBe(0);
  const grant = `denied-${id}`;
  expect(JSON.parse(run.out)).toMatchObject({ roleName: agent.roleName, grant, expiresAt: UNTIL, requestedBy: bob.arn, ticket: 'OPS-44' });

  // On the role: one inline policy with one statement, the action and resource as refused, ending at UNTIL.
  const names = (await clients.iam.send(new ListRolePoliciesCommand({ RoleName: agent.roleName }))).PolicyNames;
  expect(names?.sort()).toEqual(['base', grant]);
  const policy = await clients.iam.send(new GetRolePolicyCommand({ RoleName: agent.roleName, PolicyName: grant }));
  const document = JSON.parse(decodeURIComponent(policy.PolicyDocument!));
  expect(document.Statement).toEqual([
    {
      Effect: 'Allow',
      Action: 'dynamodb:PutItem',
      Resource: TABLE_ARN,
      Condition: { DateLessThan: { 'aws:CurrentTime': UNTIL } },
    },
  ]);
  // The other role's refusal is untouched.
  const otherNames = (await clients.iam.send(new ListRolePoliciesCommand({ RoleName: other.roleName }))).PolicyNames;
  expect(otherNames).toEqual(['base']);

  // The request's pointer names the access request it answers.
  const pointers = await partition(clients.ddb, `REQUEST#${agent.roleName}#${grant}`);
  expect(pointers).toEqual([expect.objectContaining({ fromDenial: id, deniedAction: 'dynamodb:PutItem', deniedResource: TABLE_ARN })]);

  const sweep = await runCli(moto.endpoint, ['sweep', '--json', '--now', NOW]);
  expect(sweep.code).toBe(0);
  const decisions = JSON.parse(sweep.out).outcomes.map((o: { decision: string; grant?: string }) => `${o.decision}:${o.grant ?? ''}`);
  // The sweep first sees the grant and records it (kept: valid, outside the warning window), naming its requester.
  expect(decisions).toEqual([`kept:${grant}`]);
  const records = await readRecords(clients.ddb, TEST_LEDGER_TABLE, agent.roleName);
  expect(records.filter(r => r.grant === grant)).toEqual([
    expect.objectContaining({ decision: 'kept', requestedBy: bob.arn, ticket: 'OPS-44', expiresAt: UNTIL }),
  ]);
  const tag = (await clients.iam.send(new ListRolePoliciesCommand({ RoleName: agent.roleName }))).PolicyNames;
  expect(tag).toContain(grant);
  expect(parseGrantTag((await roleTags(agent.roleName))[grantTagKey(grant)])).toEqual({
    expiresAt: UNTIL,
    requestedBy: bob.arn,
    ticket: 'OPS-44',
  });
});

async function roleTags(roleName: string): Promise<Record<string, string>> {
  const { ListRoleTagsCommand } = await import('@aws-sdk/client-iam');
  const t = (await clients.iam.send(new ListRoleTagsCommand({ RoleName: roleName }))).Tags ?? [];
  return Object.fromEntries(t.map(x => [x.Key!, x.Value!]));
}

test('bad --from-denial input is refused with a clear error and changes nothing', async () => {
  const id = await setUp();
  const base = ['--until', UNTIL, '--ticket', 'T', '--reason', 'r'];
  const cases: [string[], RegExp][] = [
    [['--from-denial', '0123456789abcdef', ...base], /no access request 0123456789abcdef/],
    [['--from-denial', 'not-an-id', ...base], /not an access request id/],
    [['--from-denial', id, '--policy-file', 'x.json', ...base], /drop --policy-file/],
    [['--from-denial', id, '--role', 'other', ...base], /no access request .* for agent-other/],
    [['--from-denial', id, '--until', '2030-03-20', '--ticket', 'T', '--reason', 'r'], /--until/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(moto.endpoint, ['request', ...args], undefined, NOW);
    expect([args.join(' '), run.code]).toEqual([args.join(' '), 2]);
    expect(run.err).toMatch(message);
  }
  const names = (await clients.iam.send(new ListRolePoliciesCommand({ RoleName: agent.roleName }))).PolicyNames;
  expect(names).toEqual(['base']);
  expect(await partition(clients.ddb, ACCESS_REQUEST_PARTITION)).toHaveLength(2);
});
