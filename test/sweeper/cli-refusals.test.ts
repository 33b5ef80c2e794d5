/**
 * The CLI's refusals: each bad request exits 2 with the error code and a
 * message naming what to fix (the codes are the CLI's documented contract), and
 * changes nothing: no policy, no tag, no item in the ledger table (records,
 * sealed intents and their pointers alike).
 *
 * request, renew and restore take no --now and no identity flag: they act at
 * the real clock, which atInstant moves in this process, as the caller STS
 * names (an IAM user's access key).
 */
import { ListRolePoliciesCommand, ListRoleTagsCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { main } from '../../lib/cli/main';
import { readRecords } from '../../lib/sweeper/ledger';
import { readRenewals } from '../../lib/sweeper/renewal';
import { renewalPartition, sealPartition } from '../../lib/contract';
import {
  createGovernedRole,
  createIdentity,
  Credentials,
  doc,
  memoryIo,
  runCli,
  TEST_LEDGER_TABLE,
  testClients,
  useEmulatorWithLedger,
} from '../support/governed-fixtures';
import { Moto } from '../support/moto';

let moto: Moto;
let clients: ReturnType<typeof testClients>;
useEmulatorWithLedger((m, c) => {
  moto = m;
  clients = c;
});

const NOW = '2030-01-10T00:00:00Z';

/** Runs the CLI in this process; `at` moves the clock for commands that take no --now. */
async function cli(args: string[], credentials?: Credentials, at?: string) {
  const run = await runCli(moto.endpoint, [...args, '--json'], credentials, at);
  let error: { code?: string; message?: string } = {};
  try {
    error = JSON.parse(run.out).error ?? {};
  } catch {
    /* not JSON: no error object */
  }
  return { ...run, error };
}

/** Everything a refused command must leave as it was. */
async function roleState(roleName: string) {
  const inline = (await clients.iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
  const tags = ((await clients.iam.send(new ListRoleTagsCommand({ RoleName: roleName }))).Tags ?? [])
    .map(t => `${t.Key}=${t.Value}`)
    .sort();
  const records = (await readRecords(clients.ddb, TEST_LEDGER_TABLE, roleName)).map(r => `${r.decision}:${r.grant ?? ''}`);
  return { inline, tags, records, items: await ledgerItems() };
}

/** Every item's keys in the ledger table: people write seals and pointers there, not only records. */
async function ledgerItems(): Promise<string[]> {
  const keys: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await clients.ddb.send(new ScanCommand({ TableName: TEST_LEDGER_TABLE, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const item of page.Items ?? []) keys.push(`${String(item.pk)} ${String(item.sk)}`);
    start = page.LastEvaluatedKey;
  } while (start);
  return keys.sort();
}

function policyFile(content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pd-refusal-'));
  const file = path.join(dir, 'policy.json');
  writeFileSync(file, content);
  return file;
}

const request = (extra: string[], until = '2030-01-12T00:00:00Z') => [
  'request',
  '--role',
  'r1',
  '--grant',
  'upload',
  '--until',
  until,
  '--ticket',
  'T-1',
  '--reason',
  'test',
  ...extra,
];

describe('request refuses and changes nothing', () => {
  const goodFile = () => policyFile(JSON.stringify(doc('s3:PutObject', 'arn:aws:s3:::b/*')));

  test.each([
    [
      'an expiry past the maximum grant duration (3 days)',
      () => request(['--policy-file', goodFile()], '2030-01-20T00:00:00Z'),
      'TOO_LONG',
      /maximum grant duration/,
    ],
    ['an expiry in the past', () => request(['--policy-file', goodFile()], '2030-01-09T00:00:00Z'), 'BAD_UNTIL', /not in the future/],
    ['an expiry that is no instant', () => request(['--policy-file', goodFile()], 'next-tuesday'), 'BAD_INSTANT', /--until/],
    ['an expiry without its Z', () => request(['--policy-file', goodFile()], '2030-01-12T00:00:00'), 'BAD_INSTANT', /--until/],
    ['a policy file that is not JSON', () => request(['--policy-file', policyFile('{"Version": ')]), 'BAD_POLICY_FILE', /--policy-file/],
    [
      'a policy file with no Statement',
      () => request(['--policy-file', policyFile('{"Version":"2012-10-17"}')]),
      'BAD_POLICY_FILE',
      /no Statement/,
    ],
    [
      'a statement without Effect',
      () =>
        request([
          '--policy-file',
          policyFile(JSON.stringify({ Version: '2012-10-17', Statement: [{ Action: 's3:GetObject', Resource: '*' }] })),
        ]),
      'BAD_POLICY_FILE',
      /Effect/,
    ],
    [
      'a statement without Resource',
      () =>
        request([
          '--policy-file',
          policyFile(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }] })),
        ]),
      'BAD_POLICY_FILE',
      /Resource/,
    ],
    ['a policy file that does not exist', () => request(['--policy-file', '/nonexistent/policy.json']), 'BAD_POLICY_FILE', /policy\.json/],
    [
      'both --policy-file and --policy-arn',
      () => request(['--policy-file', goodFile(), '--policy-arn', 'arn:aws:iam::123456789012:policy/upload']),
      'BAD_USAGE',
      /exactly one/,
    ],
  ])('%s', async (_title, args, code, message) => {
    const r = await createGovernedRole(clients, { agentId: 'r1', baseline: [{ name: 'base' }], maxGrantDurationSeconds: 3 * 86400 });
    const before = await roleState(r.roleName);
    const bob = await createIdentity(clients.iam, 'bob');
    const got = await cli(args(), bob.credentials, NOW);
    expect(got.code).toBe(2);
    expect(got.error.code).toBe(code);
    expect(got.err).toMatch(message);
    expect(await roleState(r.roleName)).toEqual(before);
  });

  test('control: the same request within the maximum duration is done', async () => {
    const r = await createGovernedRole(clients, { agentId: 'r1', baseline: [{ name: 'base' }], maxGrantDurationSeconds: 3 * 86400 });
    const bob = await createIdentity(clients.iam, 'bob');
    const got = await cli(request(['--policy-file', goodFile()]), bob.credentials, NOW);
    expect(got.err).toBe('');
    expect(got.code).toBe(0);
    const after = await roleState(r.roleName);
    expect(after.inline.sort()).toEqual(['base', 'upload']);
    // The request is sealed under bob's own aws:userid (so the refusals above, which left no item, wrote no seal either).
    const requesterUserId = JSON.parse(got.out).requesterUserId as string;
    expect(after.items.filter(k => k.startsWith(`${sealPartition(requesterUserId)} `))).toHaveLength(1);
  });
});

describe('renew and restore refuse and change nothing', () => {
  test('a renewal beyond maxRenewals is TOO_MANY_RENEWALS; the one allowed renewal stands', async () => {
    // A CDK grant (in the approved spec): renewing it needs no sealed request of it.
    const r = await createGovernedRole(clients, {
      agentId: 'r2',
      maxRenewals: 1,
      grants: [{ name: 'g1', expiresAt: '2030-01-11T00:00:00Z', requestedBy: 'bob', inSpec: true }],
    });
    const alice = await createIdentity(clients.iam, 'alice');
    const renew = (until: string) =>
      cli(['renew', '--role', 'r2', '--grant', 'g1', '--until', until, '--ticket', 'T-2'], alice.credentials, NOW);
    const first = await renew('2030-01-12T00:00:00Z');
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const before = await roleState(r.roleName);
    const second = await renew('2030-01-13T00:00:00Z');
    expect(second.code).toBe(2);
    expect(second.error.code).toBe('TOO_MANY_RENEWALS');
    expect(second.err).toMatch(/renewed 1 times; the spec allows 1/);
    expect(await roleState(r.roleName)).toEqual(before);
    // The one allowed renewal stands: bound to alice's seal, until the instant she gave.
    const key = renewalPartition(r.roleName, 'g1');
    const renewals = (await readRenewals(clients.ddb, TEST_LEDGER_TABLE, [key])).get(key) ?? [];
    expect(renewals.map(x => [x.until, x.approvedBy])).toEqual([['2030-01-12T00:00:00Z', alice.arn]]);
  });

  test('restore of a grant the ledger never revoked is NOTHING_TO_RESTORE', async () => {
    const r = await createGovernedRole(clients, { agentId: 'r3', grants: [{ name: 'g1', expiresAt: '2030-01-20T00:00:00Z' }] });
    const before = await roleState(r.roleName);
    const got = await cli(['restore', '--role', 'r3', '--grant', 'g1'], undefined, NOW);
    expect(got.code).toBe(2);
    expect(got.error.code).toBe('NOTHING_TO_RESTORE');
    expect(got.err).toMatch(/no revocation of g1/);
    expect(await roleState(r.roleName)).toEqual(before);
  });

  test('restore of a revoked grant that is back on the role is ALREADY_PRESENT', async () => {
    const r = await createGovernedRole(clients, { agentId: 'r4', grants: [{ name: 'g1', expiresAt: '2030-01-09T00:00:00Z' }] });
    expect(await main(['sweep', '--now', NOW], memoryIo(moto.endpoint))).toBe(0);
    await clients.iam.send(
      new PutRolePolicyCommand({ RoleName: r.roleName, PolicyName: 'g1', PolicyDocument: JSON.stringify(doc('s3:GetObject')) }),
    );
    const before = await roleState(r.roleName);
    expect(before.records).toEqual(['revoked:g1']);
    const got = await cli(['restore', '--role', 'r4', '--grant', 'g1'], undefined, NOW);
    expect(got.code).toBe(2);
    expect(got.error.code).toBe('ALREADY_PRESENT');
    expect(got.err).toMatch(/already on agent-r4; use renew/);
    expect(await roleState(r.roleName)).toEqual(before);
  });
});

describe('flags', () => {
  test.each([
    ['a flag given twice', ['status', '--now', NOW, '--now', '2030-01-11T00:00:00Z'], /--now is given twice/],
    ['a flag the command does not take', ['status', '--grant', 'g1'], /status does not take --grant/],
    ['a flag nobody takes', ['history', '--role', 'r5', '--frobnicate', 'x'], /does not take --frobnicate/],
    ['a boolean flag with a value', ['history', '--role', 'r5', '--verify=yes'], /--verify takes no value/],
    ['a flag without its value', ['history', '--role'], /--role needs a value/],
    ['a command that does not exist', ['frobnicate'], /unknown command "frobnicate"/],
    ['a --now that is no instant', ['sweep', '--now', 'yesterday'], /--now/],
    [
      'a --now on a command that changes access (it acts at the real clock)',
      ['restore', '--role', 'r5', '--grant', 'g1', '--now', NOW],
      /restore does not take --now/,
    ],
  ])('%s exits 2 and says so', async (_title, args, message) => {
    const r = await createGovernedRole(clients, { agentId: 'r5', grants: [{ name: 'g1', expiresAt: '2030-01-09T00:00:00Z' }] });
    const before = await roleState(r.roleName);
    const got = await cli(args);
    expect(got.code).toBe(2);
    expect(got.err).toMatch(message);
    expect(await roleState(r.roleName)).toEqual(before);
  });
});
