/**
 * The benchmark's per-role reference reader reads what readSnapshot reads, and
 * the bulk fixture builds the account mix the benchmark claims.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  CreateRoleCommand,
  ListRolePoliciesCommand,
  ListAttachedRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
} from '@aws-sdk/client-iam';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { BENCH_REQUESTER, fixtureRole, isRenewalRole, seedGovernedAccount } from '../../bench/governed-account';
import { readSnapshotPerRole } from '../../bench/per-role-reader';
import { planStats, runSweepScenario } from '../../bench/sweep-scenarios';
import { stableJson } from '../../lib/sweeper/ledger';
import { main } from '../../lib/cli/main';
import { readSnapshot } from '../../lib/sweeper/snapshot';
import { runSweep } from '../../lib/sweeper/sweep';
import { CallCounter } from '../support/call-counter';
import { atInstant } from '../support/clock';
import { createGovernedRole, createIdentity, memoryIo, testClients } from '../support/governed-fixtures';
import { clientConfig, Moto, startMoto } from '../support/moto';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

test('reads the same governed roles as readSnapshot, with per-role calls', async () => {
  await moto.reset();
  const clients = testClients(moto.endpoint);
  await createGovernedRole(clients, {
    agentId: 'a1',
    baseline: [{ name: 'baseline' }, { name: 'shared', kind: 'managed' }],
    grants: [
      { name: 'g1', expiresAt: '2030-01-01T00:00:00Z' },
      { name: 'g2', expiresAt: '2030-02-01T00:00:00Z', kind: 'managed' },
    ],
    drift: [{ name: 'by-hand' }],
  });
  await createGovernedRole(clients, {
    agentId: 'a2',
    baseline: [{ name: 'baseline' }],
    grants: [{ name: 'g1', expiresAt: '2030-01-01T00:00:00Z' }],
  });
  await clients.iam.send(
    new CreateRoleCommand({ RoleName: 'not-governed', AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}' }),
  );

  const counter = new CallCounter();
  counter.attach(clients.iam);
  const perRole = await readSnapshotPerRole(clients.iam, { concurrency: 2 });
  const perRoleCalls = counter.total({ service: 'iam', kind: 'read' });
  counter.reset();
  const ours = await readSnapshot(clients.iam);

  // Tag order differs between the APIs and means nothing.
  const normal = (s: typeof ours) => JSON.parse(stableJson(s));
  expect(normal(perRole)).toEqual(normal(ours));
  expect(perRole.roles.map(r => r.roleName)).toEqual(['agent-a1', 'agent-a2']);
  expect(perRole.roles[0].policies.find(p => p.name === 'g2')?.document).toContain('s3:GetObject');
  expect(counter.byCommand()).toEqual({ 'iam:GetAccountAuthorizationDetails': 1 });
  // ListRoles + 3 roles × (ListRoleTags) + 2 governed × (ListRolePolicies + ListAttachedRolePolicies)
  // + inline GetRolePolicy (a1: 3, a2: 2) + managed GetPolicy/GetPolicyVersion (a1: 2 × 2).
  expect(perRoleCalls).toBe(1 + 3 + 4 + 5 + 4);
});

const BULK_NOW = '2026-06-01T12:00:00Z';
const BULK_SHAPE = { roles: 40, grantsPerRole: 3, now: new Date(BULK_NOW) };

async function seedBulk(clients: ReturnType<typeof testClients>) {
  const cfg = clientConfig(moto.endpoint);
  return seedGovernedAccount({ cfn: new CloudFormationClient(cfg), ddb: clients.ddb, sns: clients.sns }, BULK_SHAPE, {
    table: 'permission-decay-ledger-fixture',
    rolesPerStack: 25,
  });
}

// The fixture seals its renewal as `renew` does (pointer plus seal under the approver's userid), so it counts.
test('the bulk fixture holds the mix it claims: its renewal is sealed, so a sweep renews it', async () => {
  await moto.reset();
  const clients = testClients(moto.endpoint);
  const account = await seedBulk(clients);
  // The oracle reads the seeded account back from the emulator with plain IAM and DynamoDB calls,
  // independent of the formula (expectedChanges) that the fixture reports.
  const seen = await countFromEmulator(clients, account.table, BULK_NOW);
  expect(account.expected).toEqual({ revoked: 11, renewed: 1, drift: 2 });
  expect(seen).toEqual(account.expected);
  const dry = await runSweep(clients, { ledgerTable: account.table, ownerTopicArn: account.topicArn, now: BULK_NOW, dryRun: true });
  expect(planStats(dry.plan).byDecision).toEqual(account.expected);
});

test('both readers plan the same sweep of the bulk fixture, and it is the sweep the account calls for', async () => {
  await moto.reset();
  const clients = testClients(moto.endpoint);
  const account = await seedBulk(clients);
  // Each renewal the fixture means, approved through the CLI by someone other than the requester (sealed under
  // their userid), an hour before the sweep, until the end the fixture gives it.
  const approver = await createIdentity(clients.iam, 'carol');
  for (let i = 0; i < BULK_SHAPE.roles; i++) {
    if (!isRenewalRole(i)) continue;
    const { roleName, renewal } = fixtureRole(BULK_SHAPE, i);
    expect(renewal!.requestedBy).toBe(BENCH_REQUESTER);
    const io = memoryIo(moto.endpoint, approver.credentials, { PERMISSION_DECAY_LEDGER_TABLE: account.table });
    const args = ['renew', '--role', roleName, '--grant', renewal!.grant, '--until', renewal!.until, '--ticket', renewal!.ticket];
    expect(await atInstant('2026-06-01T11:00:00Z', () => main(args, io))).toBe(0);
  }
  const seen = await countFromEmulator(clients, account.table, BULK_NOW);
  expect(seen).toEqual({ revoked: 11, renewed: 1, drift: 2 });

  const dry = await runSweep(clients, { ledgerTable: account.table, ownerTopicArn: account.topicArn, now: BULK_NOW, dryRun: true });
  expect(planStats(dry.plan).byDecision).toEqual(seen);

  const reference = await runSweepScenario({
    mode: 'per-role-dry',
    endpoint: moto.endpoint,
    table: account.table,
    topicArn: account.topicArn,
    now: BULK_NOW,
  });
  expect(reference.plan.digest).toBe(planStats(dry.plan).digest);
  expect(reference.calls.filter(c => c.service === 'iam' && c.command === 'ListRoleTags')[0].calls).toBe(40);
});

/**
 * What a sweep at `now` must change, counted from the account itself: a grant
 * tag (`governance:grant:<name>` = `expires=<instant> ...`) whose instant has
 * passed is renewed when the ledger holds a sealed renewal for it that ends
 * after `now`, else revoked; a policy on a governed role with no grant tag
 * that is not the fixture's baseline is drift. Sealed, as the README states
 * it: the pointer `RENEWAL#<role>#<grant>` names the approver's userid, and
 * the item `SEAL#<userid>` / `RENEWAL#<role>#<grant>#<id>` says the same
 * role, grant, end, ticket, caller and time. A bare pointer counts for nothing.
 */
async function countFromEmulator(clients: ReturnType<typeof testClients>, table: string, now: string) {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await clients.ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const byKey = new Map(items.map(item => [`${item.pk}\n${item.sk}`, item]));
  const renewals = new Set<string>();
  for (const p of items) {
    if (!String(p.pk).startsWith('RENEWAL#') || typeof p.approverUserId !== 'string' || !p.approverUserId) continue;
    const seal = byKey.get(`SEAL#${p.approverUserId}\nRENEWAL#${p.roleName}#${p.grant}#${p.renewalId}`);
    const same =
      seal !== undefined &&
      seal.userId === p.approverUserId &&
      seal.callerArn === p.approvedBy &&
      (['roleName', 'grant', 'until', 'ticket', 'createdAt'] as const).every(f => seal[f] === p[f]);
    if (same && Date.parse(String(p.until)) > Date.parse(now)) renewals.add(`${p.roleName}#${p.grant}`);
  }
  const counts = { revoked: 0, renewed: 0, drift: 0 };
  let marker: string | undefined;
  do {
    const page = await clients.iam.send(new ListRolesCommand({ Marker: marker }));
    for (const role of page.Roles ?? []) {
      const tags = Object.fromEntries(
        ((await clients.iam.send(new ListRoleTagsCommand({ RoleName: role.RoleName! }))).Tags ?? []).map(t => [t.Key!, t.Value!]),
      );
      if (tags['governance:managed-by'] === undefined) continue;
      const grants = Object.keys(tags)
        .filter(k => k.startsWith('governance:grant:'))
        .map(k => k.slice('governance:grant:'.length));
      for (const g of grants) {
        const expires = /^expires=(\S+)/.exec(tags[`governance:grant:${g}`])?.[1];
        if (!expires || Date.parse(expires) > Date.parse(now)) continue;
        if (renewals.has(`${role.RoleName}#${g}`)) counts.renewed++;
        else counts.revoked++;
      }
      const inline = (await clients.iam.send(new ListRolePoliciesCommand({ RoleName: role.RoleName! }))).PolicyNames ?? [];
      const attached = (
        (await clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role.RoleName! }))).AttachedPolicies ?? []
      ).map(a => a.PolicyName!);
      counts.drift += [...inline, ...attached].filter(name => !grants.includes(name) && !/baseline/i.test(name)).length;
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return counts;
}
