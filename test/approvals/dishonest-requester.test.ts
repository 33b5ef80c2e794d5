/**
 * A dishonest requester, with the rights the README gives requesters, tries
 * each way of keeping or faking access; each is refused, ignored, detected by
 * `history --verify` (exit 1, naming role and record) or alarmed. The honest
 * path (request by one person, renewal by another, restore) still works.
 *
 * People are IAM users with access keys (moto's STS answers with the user for
 * its key) and, for sessions, a role they assume. The CLI is spawned as a
 * person runs it (`dist/bin/permission-decay.js`; run `npm run build` first),
 * its clock moved by the harness preload, never by a flag. Sweeps run in
 * process with the ledger signing key (an ECC_NIST_P256 KMS key on the emulator).
 */
import { execFile } from 'child_process';
import * as path from 'path';
import { writeFileSync, mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { CreateRoleCommand, PutRolePolicyCommand, TagRoleCommand, ListRoleTagsCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  formatGrantTag,
  grantTagKey,
  LedgerRecord,
  parseGrantTag,
  renewalPartition,
  sealPartition,
  sealSortKey,
  STATE_PARTITION,
  SWEEPER_METRICS,
  TAG_LEDGER_HEAD,
} from '../../lib/contract';
import { handler, SweepFailedError } from '../../lib/sweeper/handler';
import { hashRecord, readRecords, readRoleState } from '../../lib/sweeper/ledger';
import { runSweep } from '../../lib/sweeper/sweep';
import { atInstant } from '../support/clock';
import {
  createGovernedRole,
  createIdentity,
  Credentials,
  doc,
  testClients,
  TEST_LEDGER_TABLE,
  useEmulatorWithLedger,
} from '../support/governed-fixtures';
import { clientConfig, Moto } from '../support/moto';

const REPO = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO, 'dist', 'bin', 'permission-decay.js');
const CLOCK = path.join(REPO, 'harness', 'shifted-clock.cjs');

let moto: Moto;
let clients: ReturnType<typeof testClients>;
let keyId: string;
useEmulatorWithLedger((m, c) => {
  moto = m;
  clients = c;
});
beforeEach(async () => {
  const k = await clients.kms.send(
    new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'ledger signing (test)' }),
  );
  keyId = k.KeyMetadata!.Arn!;
});

type Session = Credentials & { sessionToken?: string };
interface Run {
  code: number;
  out: string;
  err: string;
}

/** The CLI as a person runs it: their credentials, the clock at `at` (harness preload). */
function cli(args: string[], who: Session, at: string): Promise<Run> {
  return new Promise(resolve => {
    execFile(
      process.execPath,
      ['--require', CLOCK, CLI, ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_ENDPOINT_URL: moto.endpoint,
          AWS_REGION: 'us-east-1',
          AWS_MAX_ATTEMPTS: '2',
          AWS_ACCESS_KEY_ID: who.accessKeyId,
          AWS_SECRET_ACCESS_KEY: who.secretAccessKey,
          ...(who.sessionToken ? { AWS_SESSION_TOKEN: who.sessionToken } : {}),
          PERMISSION_DECAY_LEDGER_TABLE: TEST_LEDGER_TABLE,
          PERMISSION_DECAY_HARNESS_NOW: at,
          NODE_NO_WARNINGS: '1',
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, out: stdout, err: stderr });
      },
    );
  });
}

async function sweep(now: string): Promise<string[]> {
  const r = await runSweep(clients, { ledgerTable: TEST_LEDGER_TABLE, now, signingKeyId: keyId });
  expect(r.errors).toEqual([]);
  return r.outcomes.map(o => `${o.decision}:${o.grant ?? ''}`);
}

async function tags(roleName: string): Promise<Record<string, string>> {
  const t = (await clients.iam.send(new ListRoleTagsCommand({ RoleName: roleName }))).Tags ?? [];
  return Object.fromEntries(t.map(x => [x.Key!, x.Value!]));
}

const policyFile = (() => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pd-approvals-'));
  const file = path.join(dir, 'grant.json');
  writeFileSync(file, JSON.stringify(doc('s3:GetObject', 'arn:aws:s3:::exports/*')));
  return file;
})();

const ROLE = 'agent-p1';
const request = (grant: string, until: string) => [
  'request',
  '--role',
  ROLE,
  '--grant',
  grant,
  '--policy-file',
  policyFile,
  '--until',
  until,
  '--ticket',
  'T-1',
  '--reason',
  'review',
];
const renew = (grant: string, until: string) => ['renew', '--role', ROLE, '--grant', grant, '--until', until, '--ticket', 'T-2'];
const verify = (who: Session, at: string, ...extra: string[]) => cli(['history', '--verify', '--signing-key', keyId, ...extra], who, at);

async function people() {
  await createGovernedRole(clients, { agentId: 'p1', baseline: [{ name: 'base' }], maxGrantDurationSeconds: 10 * 86400 });
  const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map(n => createIdentity(clients.iam, n)));
  return { alice: alice.credentials, bob: bob.credentials, carol: carol.credentials, aliceArn: alice.arn };
}

/** Sessions of one role that `user` assumes, under names of their choosing. */
async function sessionsOf(user: Credentials, names: string[]): Promise<Session[]> {
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole' }],
  });
  const role = await clients.iam.send(new CreateRoleCommand({ RoleName: 'people-ops', AssumeRolePolicyDocument: trust }));
  const sts = new STSClient(clientConfig(moto.endpoint, user));
  const out: Session[] = [];
  for (const name of names) {
    const c = (await sts.send(new AssumeRoleCommand({ RoleArn: role.Role!.Arn!, RoleSessionName: name }))).Credentials!;
    out.push({ accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! });
  }
  return out;
}

test('the honest path: alice requests, bob renews, the sweeper renews and revokes, carol renews, alice restores; every record signed and verified', async () => {
  const { alice, bob, carol } = await people();
  const req = await cli(request('g1', '2030-01-05T00:00:00Z'), alice, '2030-01-01T00:00:00Z');
  expect(req.err).toBe('');
  expect(req.code).toBe(0);
  expect(parseGrantTag((await tags(ROLE))[grantTagKey('g1')]).requestedBy).toMatch(/user\/alice$/);
  expect(await sweep('2030-01-01T01:00:00Z')).toEqual(['kept:g1']);
  const ren = await cli(renew('g1', '2030-01-10T00:00:00Z'), bob, '2030-01-04T00:00:00Z');
  expect(ren.err).toBe('');
  expect(ren.code).toBe(0);
  expect(await sweep('2030-01-04T12:00:00Z')).toEqual(['renewed:g1']);
  expect(await sweep('2030-01-11T00:00:00Z')).toEqual(['revoked:g1']);
  expect((await cli(renew('g1', '2030-01-15T00:00:00Z'), carol, '2030-01-11T00:00:00Z')).code).toBe(0);
  const res = await cli(['restore', '--role', ROLE, '--grant', 'g1'], alice, '2030-01-11T00:10:00Z');
  expect(res.err).toBe('');
  expect(res.code).toBe(0);
  expect((await clients.iam.send(new ListRolePoliciesCommand({ RoleName: ROLE }))).PolicyNames).toContain('g1');
  expect(await sweep('2030-01-11T01:00:00Z')).toEqual(['renewed:g1']);
  const recs = await readRecords(clients.ddb, TEST_LEDGER_TABLE, ROLE);
  expect(recs.every(r => typeof r.signature === 'string')).toBe(true);
  expect((await tags(ROLE))[TAG_LEDGER_HEAD]).toBe(`${recs.length}:${recs[recs.length - 1].hash.slice(0, 16)}`);
  const v = await verify(carol, '2030-01-11T02:00:00Z', '--role', ROLE);
  expect(v.out).toMatch(/every signature holds/);
  expect(v.code).toBe(0);
}, 120_000);

test("1. request --requested-by is gone; a grant tagged as someone else's cannot be renewed by its real requester", async () => {
  const { alice } = await people();
  const flag = await cli([...request('g1', '2030-01-05T00:00:00Z'), '--requested-by', 'bob'], alice, '2030-01-01T00:00:00Z');
  expect(flag.code).toBe(2);
  expect(flag.err).toMatch(/does not take --requested-by/);
  // The same by hand: alice puts the policy and a tag naming bob (she may write grant tags), then approves it herself.
  await clients.iam.send(
    new PutRolePolicyCommand({ RoleName: ROLE, PolicyName: 'g1', PolicyDocument: JSON.stringify(doc('s3:GetObject')) }),
  );
  await clients.iam.send(
    new TagRoleCommand({
      RoleName: ROLE,
      Tags: [
        {
          Key: grantTagKey('g1'),
          Value: formatGrantTag({ expiresAt: '2030-01-05T00:00:00Z', requestedBy: 'arn:aws:iam::123456789012:user/bob', ticket: 'T-1' }),
        },
      ],
    }),
  );
  const self = await cli(renew('g1', '2030-01-09T00:00:00Z'), alice, '2030-01-04T00:00:00Z');
  expect(self.code).toBe(2);
  expect(self.err).toMatch(/request is not bound to anyone/);
  // And through the CLI, as herself: her sealed request makes her the requester.
  expect((await cli(request('g2', '2030-01-05T00:00:00Z'), alice, '2030-01-01T00:00:00Z')).code).toBe(0);
  const own = await cli(renew('g2', '2030-01-09T00:00:00Z'), alice, '2030-01-04T00:00:00Z');
  expect(own.code).toBe(2);
  expect(own.err).toMatch(/approved by someone else/);
  expect((await sweep('2030-01-06T00:00:00Z')).sort()).toEqual(['revoked:g1', 'revoked:g2']);
}, 120_000);

test("2. sessions of one role under names of one's choosing are one person: a self-renewal is refused by the CLI and by the sweeper", async () => {
  const { alice } = await people();
  const [asAlice, asDave] = await sessionsOf(alice, ['alice', 'dave']);
  expect((await cli(request('g1', '2030-01-05T00:00:00Z'), asAlice, '2030-01-01T00:00:00Z')).code).toBe(0);
  const cliRefusal = await cli(renew('g1', '2030-01-09T00:00:00Z'), asDave, '2030-01-04T00:00:00Z');
  expect(cliRefusal.code).toBe(2);
  expect(cliRefusal.err).toMatch(/approved by someone else/);
  // Written as the CLI would (pointer and a genuine seal under the dave session's own userid): the sweeper still refuses it.
  const daveUserId = await userIdOf(asDave);
  await sealRenewal({
    approverUserId: daveUserId,
    approvedBy: 'arn:aws:sts::123456789012:assumed-role/people-ops/dave',
    until: '2030-01-09T00:00:00Z',
  });
  expect(await sweep('2030-01-06T00:00:00Z')).toEqual(['revoked:g1']);
}, 120_000);

test('3. requesting a live grant again with a later expiry is refused; the same by hand is tampering', async () => {
  const { alice } = await people();
  expect((await cli(request('g1', '2030-01-05T00:00:00Z'), alice, '2030-01-01T00:00:00Z')).code).toBe(0);
  expect(await sweep('2030-01-01T01:00:00Z')).toEqual(['kept:g1']);
  const again = await cli(request('g1', '2030-01-09T00:00:00Z'), alice, '2030-01-02T00:00:00Z');
  expect(again.code).toBe(2);
  expect(again.err).toMatch(/already on agent-p1; to extend it, ask someone else/);
  await clients.iam.send(
    new TagRoleCommand({
      RoleName: ROLE,
      Tags: [{ Key: grantTagKey('g1'), Value: formatGrantTag({ expiresAt: '2030-01-09T00:00:00Z', requestedBy: 'alice', ticket: 'T-1' }) }],
    }),
  );
  // Put back to its recorded expiry (inside the warning window, so the owner is warned of it too).
  expect(await sweep('2030-01-02T01:00:00Z')).toEqual(['tampering:g1', 'warned:g1']);
  expect(parseGrantTag((await tags(ROLE))[grantTagKey('g1')]).expiresAt).toBe('2030-01-05T00:00:00Z');
  expect(await sweep('2030-01-05T01:00:00Z')).toEqual(['revoked:g1']);
}, 120_000);

test("4. --now is gone from request; an expiry past the maximum is refused, and one tagged by hand is drift from the sweeper's first sight", async () => {
  const { alice } = await people();
  const flag = await cli([...request('g1', '2099-01-30T00:00:00Z'), '--now', '2099-01-01T00:00:00Z'], alice, '2030-01-01T00:00:00Z');
  expect(flag.code).toBe(2);
  expect(flag.err).toMatch(/does not take --now/);
  const far = await cli(request('g1', '2099-01-30T00:00:00Z'), alice, '2030-01-01T00:00:00Z');
  expect(far.code).toBe(2);
  expect(far.err).toMatch(/maximum grant duration/);
  await clients.iam.send(
    new PutRolePolicyCommand({ RoleName: ROLE, PolicyName: 'g1', PolicyDocument: JSON.stringify(doc('s3:GetObject')) }),
  );
  await clients.iam.send(
    new TagRoleCommand({
      RoleName: ROLE,
      Tags: [{ Key: grantTagKey('g1'), Value: formatGrantTag({ expiresAt: '2099-01-30T00:00:00Z', requestedBy: 'alice', ticket: 'T-1' }) }],
    }),
  );
  expect(await sweep('2030-01-01T01:00:00Z')).toEqual(['drift:g1']);
  const t = parseGrantTag((await tags(ROLE))[grantTagKey('g1')]);
  expect(t.expiresAt).toBe('2030-01-08T01:00:00Z');
  const hist = await cli(['history', '--role', ROLE, '--at', '2030-01-02T00:00:00Z', '--json'], alice, '2030-01-02T00:00:00Z');
  expect(JSON.parse(hist.out).held.map((h: { grant: string }) => h.grant)).toEqual(['g1']);
}, 120_000);

test('5. a renewal record naming another approver (PutItem) is not honoured, with or without a seal in the wrong partition', async () => {
  const { alice, bob } = await people();
  expect((await cli(request('g1', '2030-01-05T00:00:00Z'), alice, '2030-01-01T00:00:00Z')).code).toBe(0);
  const bobUserId = await userIdOf(bob);
  // Pointer only, naming bob.
  await sealRenewal({
    approverUserId: bobUserId,
    approvedBy: 'arn:aws:iam::123456789012:user/bob',
    until: '2030-01-09T00:00:00Z',
    sealUnder: null,
  });
  // And a "seal" that claims bob but sits in alice's own partition (the only one IAM lets her write).
  await sealRenewal({
    approverUserId: bobUserId,
    approvedBy: 'arn:aws:iam::123456789012:user/bob',
    until: '2030-01-09T00:00:00Z',
    sealUnder: await userIdOf(alice),
    id: 'r2',
  });
  expect(await sweep('2030-01-06T00:00:00Z')).toEqual(['revoked:g1']);
}, 120_000);

test('6. a rewritten record with every later hash and STATE recomputed, a truncated tail, and a deleted chain are each detected', async () => {
  const { alice, bob } = await people();
  expect((await cli(request('g1', '2030-01-05T00:00:00Z'), alice, '2030-01-01T00:00:00Z')).code).toBe(0);
  expect((await cli(request('g2', '2030-01-09T00:00:00Z'), alice, '2030-01-01T00:00:00Z')).code).toBe(0);
  expect(await sweep('2030-01-01T01:00:00Z')).toEqual(['kept:g1', 'kept:g2']);
  expect(await sweep('2030-01-06T00:00:00Z')).toEqual(['revoked:g1', 'warned:g2']);
  expect(await sweep('2030-01-10T00:00:00Z')).toEqual(['revoked:g2']);
  expect((await verify(bob, '2030-01-10T01:00:00Z', '--role', ROLE)).code).toBe(0);
  const recs = await readRecords(clients.ddb, TEST_LEDGER_TABLE, ROLE);
  const n = recs.findIndex(r => r.decision === 'revoked');

  // (a) revoked -> kept at record n, every later hash recomputed, STATE moved to the new head.
  const rewritten: LedgerRecord[] = [];
  let prev = n > 0 ? recs[n - 1].hash : '0'.repeat(64);
  for (const r of recs.slice(n)) {
    const { hash: _h, signature, ...rest } = r;
    const content = { ...rest, prevHash: prev, ...(r.seq === recs[n].seq ? { decision: 'kept' as const } : {}) };
    const hash = hashRecord(content);
    rewritten.push({ ...content, hash, ...(signature ? { signature } : {}) });
    prev = hash;
  }
  for (const r of rewritten) await clients.ddb.send(new PutCommand({ TableName: TEST_LEDGER_TABLE, Item: r }));
  const state = await readRoleState(clients.ddb, TEST_LEDGER_TABLE, ROLE);
  await clients.ddb.send(new PutCommand({ TableName: TEST_LEDGER_TABLE, Item: { ...state, hash: prev } }));
  const a = await verify(bob, '2030-01-10T01:00:00Z', '--role', ROLE);
  expect(a.code).toBe(1);
  expect(a.out).toMatch(new RegExp(`${ROLE} record ${recs[n].seq}: BAD_SIGNATURE`));

  // (b) the last record deleted and STATE moved back to the one before it.
  for (const r of recs) await clients.ddb.send(new PutCommand({ TableName: TEST_LEDGER_TABLE, Item: r }));
  const last = recs[recs.length - 1];
  await clients.ddb.send(new DeleteCommand({ TableName: TEST_LEDGER_TABLE, Key: { pk: last.pk, sk: last.sk } }));
  await clients.ddb.send(
    new PutCommand({ TableName: TEST_LEDGER_TABLE, Item: { ...state, seq: last.seq - 1, hash: recs[recs.length - 2].hash } }),
  );
  const b = await verify(bob, '2030-01-10T01:00:00Z', '--role', ROLE);
  expect(b.code).toBe(1);
  expect(b.out).toMatch(new RegExp(`${ROLE} record ${last.seq}: TRUNCATED`));

  // (c) the whole chain and its STATE deleted.
  for (const r of recs) await clients.ddb.send(new DeleteCommand({ TableName: TEST_LEDGER_TABLE, Key: { pk: r.pk, sk: r.sk } }));
  await clients.ddb.send(new DeleteCommand({ TableName: TEST_LEDGER_TABLE, Key: { pk: STATE_PARTITION, sk: ROLE } }));
  const c = await verify(bob, '2030-01-10T01:00:00Z');
  expect(c.code).toBe(1);
  expect(c.out).toMatch(new RegExp(`${ROLE} record ${last.seq}: TRUNCATED`));
  expect(c.out).toMatch(new RegExp(`${ROLE} record 0: NO_CHAIN`));
}, 180_000);

test('7 and 8. STATE set back by one: the sweeper cannot append, and the Lambda throws with FailedRevocations and LedgerConflicts emitted; --verify names it', async () => {
  const { alice, bob } = await people();
  expect((await cli(request('g1', '2030-01-05T00:00:00Z'), alice, '2030-01-01T00:00:00Z')).code).toBe(0);
  expect(await sweep('2030-01-01T01:00:00Z')).toEqual(['kept:g1']);
  const state = await readRoleState(clients.ddb, TEST_LEDGER_TABLE, ROLE);
  await clients.ddb.send(new PutCommand({ TableName: TEST_LEDGER_TABLE, Item: { ...state, seq: state.seq - 1 } }));

  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_MAX_ATTEMPTS: '2',
    PERMISSION_DECAY_LEDGER_TABLE: TEST_LEDGER_TABLE,
    PERMISSION_DECAY_SIGNING_KEY_ID: keyId,
  });
  (process.stdout as { write: unknown }).write = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  let thrown: unknown;
  try {
    // The Lambda honours a scheduled event's time only near its own clock, so the clock is moved to that instant too.
    const at = '2030-01-06T00:00:00Z';
    await atInstant(at, () => handler({ source: 'aws.events', 'detail-type': 'Scheduled Event', time: at }));
  } catch (e) {
    thrown = e;
  } finally {
    (process.stdout as { write: unknown }).write = write;
    process.env = saved;
  }
  expect(thrown).toBeInstanceOf(SweepFailedError);
  expect((thrown as SweepFailedError).summary.at).toBe('2030-01-06T00:00:00Z');
  expect((thrown as Error).message).toMatch(/agent-p1: LEDGER_CONFLICT/);
  const emf = lines
    .flatMap(l => l.split('\n'))
    .filter(l => l.includes('"_aws"'))
    .map(l => JSON.parse(l));
  const metric = (name: string) => emf.map(m => m[name]).find(v => v !== undefined);
  expect(emf[0]._aws.CloudWatchMetrics[0].Namespace).toBe(SWEEPER_METRICS.namespace);
  expect(metric(SWEEPER_METRICS.failedRevocations)).toBe(1);
  expect(metric(SWEEPER_METRICS.ledgerConflicts)).toBe(1);
  expect(metric(SWEEPER_METRICS.roleErrors)).toBe(1);
  expect(metric(SWEEPER_METRICS.failedSweeps)).toBe(1);
  // The expired grant is still there (that is what the alarm is for), and --verify names the STATE head.
  expect((await clients.iam.send(new ListRolePoliciesCommand({ RoleName: ROLE }))).PolicyNames).toContain('g1');
  const v = await verify(bob, '2030-01-06T01:00:00Z', '--role', ROLE);
  expect(v.code).toBe(1);
  expect(v.out).toMatch(new RegExp(`${ROLE} record ${state.seq - 1}: (HEAD_MISMATCH|STATE_MISMATCH)`));
}, 120_000);

async function userIdOf(who: Session): Promise<string> {
  const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  return (
    await new STSClient(clientConfig(moto.endpoint, who as Credentials & { sessionToken?: string })).send(new GetCallerIdentityCommand({}))
  ).UserId!;
}

/** Writes a renewal pointer of g1 and (unless sealUnder is null) a seal under SEAL#<sealUnder ?? approverUserId>. */
async function sealRenewal(o: {
  approverUserId: string;
  approvedBy: string;
  until: string;
  sealUnder?: string | null;
  id?: string;
}): Promise<void> {
  const renewalId = o.id ?? 'r1';
  const createdAt = '2030-01-04T00:00:00Z';
  const intent = {
    kind: 'renewal' as const,
    id: renewalId,
    roleName: ROLE,
    grant: 'g1',
    until: o.until,
    ticket: 'T-2',
    callerArn: o.approvedBy,
    userId: o.approverUserId,
    account: '123456789012',
    createdAt,
  };
  await clients.ddb.send(
    new PutCommand({
      TableName: TEST_LEDGER_TABLE,
      Item: {
        ...intent,
        pk: renewalPartition(ROLE, 'g1'),
        sk: `${createdAt}#${renewalId}`,
        renewalId,
        requestedBy: 'x',
        approvedBy: o.approvedBy,
        approverUserId: o.approverUserId,
        approverAccount: '123456789012',
      },
    }),
  );
  if (o.sealUnder === null) return;
  await clients.ddb.send(
    new PutCommand({
      TableName: TEST_LEDGER_TABLE,
      Item: { ...intent, pk: sealPartition(o.sealUnder ?? o.approverUserId), sk: sealSortKey(intent) },
    }),
  );
}
