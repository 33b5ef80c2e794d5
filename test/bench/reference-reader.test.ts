/**
 * The benchmark's per-role reference reader reads what readSnapshot reads, and
 * the bulk fixture builds the account mix the benchmark claims.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CreateRoleCommand, ListRolePoliciesCommand, ListAttachedRolePoliciesCommand, ListRolesCommand, ListRoleTagsCommand } from '@aws-sdk/client-iam';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { seedGovernedAccount } from '../../bench/governed-account';
import { readSnapshotPerRole } from '../../bench/per-role-reader';
import { planStats, runSweepScenario } from '../../bench/sweep-scenarios';
import { stableJson } from '../../lib/sweeper/ledger';
import { readSnapshot } from '../../lib/sweeper/snapshot';
import { runSweep } from '../../lib/sweeper/sweep';
import { CallCounter } from '../support/call-counter';
import { createGovernedRole, testClients } from '../support/governed-fixtures';
import { clientConfig, Moto, startMoto } from '../support/moto';

let moto: Moto;
beforeAll(async () => { moto = await startMoto(); });
afterAll(async () => { await moto?.stop(); });

test('reads the same governed roles as readSnapshot, with per-role calls', async () => {
  await moto.reset();
  const clients = testClients(moto.endpoint);
  await createGovernedRole(clients, {
    agentId: 'a1',
    baseline: [{ name: 'baseline' }, { name: 'shared', kind: 'managed' }],
    grants: [{ name: 'g1', expiresAt: '2030-01-01T00:00:00Z' }, { name: 'g2', expiresAt: '2030-02-01T00:00:00Z', kind: 'managed' }],
    drift: [{ name: 'by-hand' }],
  });
  await createGovernedRole(clients, { agentId: 'a2', baseline: [{ name: 'baseline' }], grants: [{ name: 'g1', expiresAt: '2030-01-01T00:00:00Z' }] });
  await clients.iam.send(new CreateRoleCommand({ RoleName: 'not-governed', AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}' }));

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

test('the bulk fixture holds the mix it claims, and both readers plan the same sweep', async () => {
  await moto.reset();
  const cfg = clientConfig(moto.endpoint);
  const clients = testClients(moto.endpoint);
  const now = '2026-06-01T12:00:00Z';
  const shape = { roles: 40, grantsPerRole: 3, now: new Date(now) };
  const account = await seedGovernedAccount({ cfn: new CloudFormationClient(cfg), ddb: clients.ddb, sns: clients.sns }, shape, { table: 'permission-decay-ledger-fixture', rolesPerStack: 25 });
  // The oracle reads the seeded account back from the emulator with plain IAM and DynamoDB calls,
  // independent of the formula (expectedChanges) that the fixture reports.
  const seen = await countFromEmulator(clients, account.table, now);
  expect(seen).toEqual({ revoked: 11, renewed: 1, drift: 2 });
  expect(account.expected).toEqual(seen);

  const dry = await runSweep(clients, { ledgerTable: account.table, ownerTopicArn: account.topicArn, now, dryRun: true });
  expect(planStats(dry.plan).byDecision).toEqual({ revoked: 11, renewed: 1, drift: 2 });

  const reference = await runSweepScenario({ mode: 'per-role-dry', endpoint: moto.endpoint, table: account.table, topicArn: account.topicArn, now });
  expect(reference.plan.digest).toBe(planStats(dry.plan).digest);
  expect(reference.calls.filter(c => c.service === 'iam' && c.command === 'ListRoleTags')[0].calls).toBe(40);
});

/**
 * What a sweep at `now` must change, counted from the account itself: a grant
 * tag (`governance:grant:<name>` = `expires=<instant> ...`) whose instant has
 * passed is renewed when the ledger holds a renewal item for it, else revoked;
 * a policy on a governed role with no grant tag that is not the fixture's
 * baseline is drift.
 */
async function countFromEmulator(clients: ReturnType<typeof testClients>, table: string, now: string) {
  const renewals = new Set<string>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await clients.ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) if (String(item.pk).startsWith('RENEWAL#')) renewals.add(String(item.pk).slice('RENEWAL#'.length));
    start = page.LastEvaluatedKey;
  } while (start);
  const counts = { revoked: 0, renewed: 0, drift: 0 };
  let marker: string | undefined;
  do {
    const page = await clients.iam.send(new ListRolesCommand({ Marker: marker }));
    for (const role of page.Roles ?? []) {
      const tags = Object.fromEntries(((await clients.iam.send(new ListRoleTagsCommand({ RoleName: role.RoleName! }))).Tags ?? []).map(t => [t.Key!, t.Value!]));
      if (tags['governance:managed-by'] === undefined) continue;
      const grants = Object.keys(tags).filter(k => k.startsWith('governance:grant:')).map(k => k.slice('governance:grant:'.length));
      for (const g of grants) {
        const expires = /^expires=(\S+)/.exec(tags[`governance:grant:${g}`])?.[1];
        if (!expires || Date.parse(expires) > Date.parse(now)) continue;
        if (renewals.has(`${role.RoleName}#${g}`)) counts.renewed++; else counts.revoked++;
      }
      const inline = (await clients.iam.send(new ListRolePoliciesCommand({ RoleName: role.RoleName! }))).PolicyNames ?? [];
      const attached = ((await clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role.RoleName! }))).AttachedPolicies ?? []).map(a => a.PolicyName!);
      counts.drift += [...inline, ...attached].filter(name => !grants.includes(name) && !/baseline/i.test(name)).length;
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return counts;
}
