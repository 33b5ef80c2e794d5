/**
 * Applying a plan against the emulator: a managed grant at IAM's five
 * versions, owner notifications through a topic, a role that keeps losing the
 * ledger race, and an expiry tag removed by hand.
 */
import {
  CreatePolicyVersionCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  ListPolicyVersionsCommand,
  ListRoleTagsCommand,
  UntagRoleCommand,
} from '@aws-sdk/client-iam';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { grantTagKey, parseGrantTag } from '../../lib/contract';
import { main } from '../../lib/cli/main';
import { createClients } from '../../lib/sweeper/aws-clients';
import { readRecords } from '../../lib/sweeper/ledger';
import { runSweep } from '../../lib/sweeper/sweep';
import { startAwsProxy } from '../support/aws-proxy';
import {
  createGovernedRole,
  createIdentity,
  doc,
  memoryIo,
  testClients,
  TEST_LEDGER_TABLE,
  useEmulatorWithLedger,
} from '../support/governed-fixtures';
import { atInstant } from '../support/clock';
import { Moto } from '../support/moto';
import { startCallRecorder } from '../support/permission-coverage';

let moto: Moto;
let clients: ReturnType<typeof testClients>;
useEmulatorWithLedger((m, c) => {
  moto = m;
  clients = c;
});

const NOW = '2030-01-10T00:00:00Z';
const viaEndpoint = (endpoint: string) =>
  createClients({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 2 });

test('renewing a managed grant at five versions deletes the oldest non-default version first', async () => {
  // A CDK grant (in the approved spec): a renewal needs a grant whose request is bound to someone, and the fixture seals no request.
  const grant = { name: 'm1-mp', kind: 'managed' as const, expiresAt: '2030-01-09T00:00:00Z', requestedBy: 'bob', inSpec: true };
  const r = await createGovernedRole(clients, { agentId: 'm1', grants: [grant] });
  const arn = r.arns['m1-mp'];
  for (let i = 0; i < 4; i++) {
    await clients.iam.send(
      new CreatePolicyVersionCommand({
        PolicyArn: arn,
        PolicyDocument: JSON.stringify(doc(`s3:GetObject${i === 0 ? '' : 'Version'}`)),
        SetAsDefault: false,
      }),
    );
  }
  const before = (await clients.iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))).Versions!.map(v => v.VersionId).sort();
  expect(before).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
  const alice = await createIdentity(clients.iam, 'alice');
  // renew takes no --now: it acts at the caller's real time, which the in-process clock moves.
  const renewArgs = ['renew', '--role', 'm1', '--grant', 'm1-mp', '--until', '2030-01-15T00:00:00Z', '--ticket', 'T-9'];
  expect(await atInstant('2030-01-08T00:00:00Z', () => main(renewArgs, memoryIo(moto.endpoint, alice.credentials)))).toBe(0);

  const result = await runSweep(clients, { ledgerTable: TEST_LEDGER_TABLE, now: NOW });
  expect(result.errors).toEqual([]);
  expect(result.outcomes.map(o => `${o.decision}:${o.grant}`)).toEqual(['renewed:m1-mp']);
  const after = (await clients.iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))).Versions!;
  // v1 is the default (never deleted); v2 is the oldest of the others.
  expect(after.map(v => v.VersionId).sort()).toEqual(['v1', 'v3', 'v4', 'v5', 'v6']);
  const policy = (await clients.iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!;
  expect(policy.DefaultVersionId).toBe('v6');
  const v6 = await clients.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v6' }));
  expect(JSON.parse(decodeURIComponent(v6.PolicyVersion!.Document!)).Statement[0].Condition.DateLessThan['aws:CurrentTime']).toBe(
    '2030-01-15T00:00:00Z',
  );
});

test('with an owner topic, a warning and a drift each publish to it, naming role, grant and what to do', async () => {
  const topic = (await clients.sns.send(new CreateTopicCommand({ Name: 'owners' }))).TopicArn!;
  await createGovernedRole(clients, {
    agentId: 'n1',
    owner: 'team@example.com',
    grants: [{ name: 'soon', expiresAt: '2030-01-11T00:00:00Z' }],
    drift: [{ name: 'handmade' }],
  });
  const recorder = await startCallRecorder(moto.endpoint);
  try {
    const result = await runSweep(viaEndpoint(recorder.endpoint), { ledgerTable: TEST_LEDGER_TABLE, now: NOW, ownerTopicArn: topic });
    expect(result.errors).toEqual([]);
    const published = recorder
      .calls()
      .filter(c => c.service === 'sns' && c.action === 'Publish')
      .map(c => c.params);
    expect(published.map(p => p.TopicArn)).toEqual([topic, topic]);
    const subjects = published.map(p => String(p.Subject)).sort();
    expect(subjects).toEqual(['Drift found on agent-n1', 'Grant soon on agent-n1 expires at 2030-01-11T00:00:00Z']);
    const warning = published.find(p => String(p.Subject).startsWith('Grant soon'))!;
    expect(String(warning.Message)).toContain('permission-decay renew --role agent-n1 --grant soon');
    const drift = published.find(p => String(p.Subject).startsWith('Drift'))!;
    expect(String(drift.Message)).toMatch(/handmade is neither baseline nor a tagged grant.*owner team@example\.com/);
  } finally {
    await recorder.close();
  }
});

test('a role that loses every ledger race gives up after maxConflictRetries with LEDGER_CONFLICT, changing nothing; the others finish', async () => {
  const lost = await createGovernedRole(clients, { agentId: 'k1', grants: [{ name: 'g1', expiresAt: '2030-01-09T00:00:00Z' }] });
  await createGovernedRole(clients, { agentId: 'k2', grants: [{ name: 'g2', expiresAt: '2030-01-09T00:00:00Z' }] });
  let races = 0;
  // Every append for agent-k1 is answered as DynamoDB answers a transaction whose condition another writer broke.
  const proxy = await startAwsProxy({
    target: moto.endpoint,
    onRequest: req => {
      if (req.service !== 'dynamodb' || req.action !== 'TransactWriteItems' || !req.body.toString().includes('ROLE#agent-k1'))
        return undefined;
      races++;
      return {
        kind: 'respond',
        status: 400,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
          message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]',
          CancellationReasons: [{ Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' }, { Code: 'None' }],
        }),
      };
    },
  });
  try {
    const result = await runSweep(viaEndpoint(proxy.endpoint), { ledgerTable: TEST_LEDGER_TABLE, now: NOW, maxConflictRetries: 2 });
    expect(races).toBe(3);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([expect.objectContaining({ code: 'LEDGER_CONFLICT', roleName: lost.roleName })]);
    expect(result.errors[0].message).toMatch(/lost the ledger race 3 times; left for the next sweep/);
  } finally {
    await proxy.close();
  }
  // Nothing removed from the role whose record never landed; the other role was revoked.
  expect(await readRecords(clients.ddb, TEST_LEDGER_TABLE, lost.roleName)).toEqual([]);
  expect((await clients.iam.send(new ListRoleTagsCommand({ RoleName: lost.roleName }))).Tags!.map(t => t.Key)).toContain(grantTagKey('g1'));
  expect((await readRecords(clients.ddb, TEST_LEDGER_TABLE, 'agent-k2')).map(x => `${x.decision}:${x.grant}`)).toEqual(['revoked:g2']);
});

test('an expiry tag removed by hand (UntagRole) is tampering: put back with the recorded expiry, then revoked at it', async () => {
  const r = await createGovernedRole(clients, { agentId: 'u1', grants: [{ name: 'g1', expiresAt: '2030-01-12T00:00:00Z' }] });
  expect((await runSweep(clients, { ledgerTable: TEST_LEDGER_TABLE, now: '2030-01-01T00:00:00Z' })).outcomes.map(o => o.decision)).toEqual([
    'kept',
  ]);
  await clients.iam.send(new UntagRoleCommand({ RoleName: r.roleName, TagKeys: [grantTagKey('g1')] }));
  const tags = async () =>
    Object.fromEntries(
      ((await clients.iam.send(new ListRoleTagsCommand({ RoleName: r.roleName }))).Tags ?? []).map(t => [t.Key!, t.Value!]),
    );
  expect((await tags())[grantTagKey('g1')]).toBeUndefined();

  const s = await runSweep(clients, { ledgerTable: TEST_LEDGER_TABLE, now: '2030-01-02T00:00:00Z' });
  expect(s.outcomes.map(o => `${o.decision}:${o.grant}`)).toEqual(['tampering:g1']);
  expect(parseGrantTag((await tags())[grantTagKey('g1')]).expiresAt).toBe('2030-01-12T00:00:00Z');
  const revoked = await runSweep(clients, { ledgerTable: TEST_LEDGER_TABLE, now: '2030-01-12T00:00:01Z' });
  expect(revoked.outcomes.map(o => `${o.decision}:${o.grant}`)).toEqual(['revoked:g1']);
  expect((await tags())[grantTagKey('g1')]).toBeUndefined();
});
