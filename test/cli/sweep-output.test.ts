/**
 * What the CLI says after a sweep and in status, on the emulator: one summary
 * line for an event problem every row shares (not the same error on every row),
 * a warning that says whether it was sent (no "owner notified" without a
 * topic), and status reading an expiry as the sweep does, with a reason for
 * every state.
 */
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { readRecords } from '../../lib/sweeper/ledger';
import { clientConfig } from '../support/moto';
import { createGovernedRole, runCli, TEST_LEDGER_TABLE, testClients, useEmulatorWithLedger } from '../support/governed-fixtures';
import { Moto } from '../support/moto';

let moto: Moto;
let clients: ReturnType<typeof testClients>;
useEmulatorWithLedger((m, c) => {
  moto = m;
  clients = c;
});

const NOW = '2030-01-10T00:00:00Z';

test('an event bus that refuses every event: one summary line, not the same error on each row', async () => {
  await createGovernedRole(clients, { agentId: 'a1', grants: [{ name: 'g1', expiresAt: '2030-01-09T00:00:00Z' }] });
  await createGovernedRole(clients, { agentId: 'a2', grants: [{ name: 'g2', expiresAt: '2030-01-09T00:00:00Z' }] });
  await createGovernedRole(clients, { agentId: 'a3', grants: [{ name: 'g3', expiresAt: '2030-01-09T00:00:00Z' }] });
  const run = await runCli(moto.endpoint, ['sweep', '--now', NOW, '--event-bus', 'no-such-bus']);
  expect(run.err).toBe('');
  const revoked = run.out.split('\n').filter(l => /\brevoked\b/.test(l) && /agent-a\d/.test(l));
  expect(revoked).toHaveLength(3);
  for (const line of revoked) expect(line).not.toMatch(/not delivered/);
  const summary = run.out.split('\n').filter(l => /not delivered/.test(l));
  expect(summary).toHaveLength(1);
  expect(summary[0]).toMatch(
    /^Every one of the 3 decisions above was recorded in the ledger, but: event not delivered: .+Check the event bus/,
  );
  // The records themselves are in the ledger (the summary's claim).
  for (const role of ['agent-a1', 'agent-a2', 'agent-a3']) {
    expect((await readRecords(clients.ddb, TEST_LEDGER_TABLE, role)).map(r => r.decision)).toEqual(['revoked']);
  }
});

test('control: with --json every outcome still carries its own event problem', async () => {
  await createGovernedRole(clients, { agentId: 'a1', grants: [{ name: 'g1', expiresAt: '2030-01-09T00:00:00Z' }] });
  await createGovernedRole(clients, { agentId: 'a2', grants: [{ name: 'g2', expiresAt: '2030-01-09T00:00:00Z' }] });
  const run = await runCli(moto.endpoint, ['sweep', '--now', NOW, '--event-bus', 'no-such-bus', '--json']);
  const outcomes = JSON.parse(run.out).outcomes as { eventProblem?: string }[];
  expect(outcomes).toHaveLength(2);
  for (const o of outcomes) expect(o.eventProblem).toMatch(/^event not delivered: /);
});

describe('a warning says whether it was sent', () => {
  const warnable = () =>
    createGovernedRole(clients, {
      agentId: 'w1',
      owner: 'team@example.com',
      grants: [{ name: 'g1', expiresAt: '2030-01-10T12:00:00Z' }],
    });
  const warning = 'g1 expires at 2030-01-10T12:00:00Z (in about 12h); warning for owner team@example.com';

  test('without an owner topic: not sent, and nothing claims the owner was notified', async () => {
    const r = await warnable();
    const run = await runCli(moto.endpoint, ['sweep', '--now', NOW]);
    expect(run.out).not.toMatch(/notified/);
    const warned = (await readRecords(clients.ddb, TEST_LEDGER_TABLE, r.roleName)).filter(x => x.decision === 'warned');
    expect(warned).toHaveLength(1);
    expect(warned[0].message).toBe(`${warning} (not sent: no owner topic)`);
  });

  test('with an owner topic: says where it was sent', async () => {
    const r = await warnable();
    const sns = new SNSClient(clientConfig(moto.endpoint));
    const topic = (await sns.send(new CreateTopicCommand({ Name: 'owners' }))).TopicArn!;
    const run = await runCli(moto.endpoint, ['sweep', '--now', NOW, '--owner-topic-arn', topic]);
    expect(run.err).toBe('');
    const warned = (await readRecords(clients.ddb, TEST_LEDGER_TABLE, r.roleName)).filter(x => x.decision === 'warned');
    expect(warned.map(w => w.message)).toEqual([`${warning} (sent to ${topic})`]);
  });
});

test('status reads a too-far expiry as the sweep does (malformed, never ok) and gives a reason for every state', async () => {
  await createGovernedRole(clients, {
    agentId: 's1',
    maxGrantDurationSeconds: 10 * 86400,
    grants: [
      { name: 'far', expiresAt: '2035-01-01T00:00:00Z' },
      { name: 'fine', expiresAt: '2030-01-15T00:00:00Z' },
      { name: 'soon', expiresAt: '2030-01-10T06:00:00Z' },
      { name: 'gone', expiresAt: '2030-01-09T00:00:00Z' },
      { name: 'bad', expiresAt: '2030-01-13T00:00:00Z', tag: 'whenever' },
    ],
    drift: [{ name: 'by-hand' }],
  });
  const status = JSON.parse((await runCli(moto.endpoint, ['status', '--now', NOW, '--json'])).out).grants as {
    grant: string;
    state: string;
    reason: string;
  }[];
  const byGrant = Object.fromEntries(status.map(g => [g.grant, g]));
  expect(Object.fromEntries(status.map(g => [g.grant, g.state]))).toEqual({
    far: 'malformed',
    fine: 'ok',
    soon: 'warning',
    gone: 'expired',
    bad: 'malformed',
    'by-hand': 'drift',
  });
  expect(byGrant.far.reason).toMatch(/more than the maximum grant duration/);
  for (const g of status) expect(g.reason.length).toBeGreaterThan(10);
  // The sweep (dry run) makes the same reading: the too-far expiry is drift, as status says.
  const plan = JSON.parse((await runCli(moto.endpoint, ['sweep', '--dry-run', '--now', NOW, '--json'])).out).plan as {
    roles: { steps: { grant?: string; record?: { decision: string; message: string } }[] }[];
  };
  const far = plan.roles.flatMap(r => r.steps).filter(s => s.grant === 'far' && s.record);
  expect(far.map(s => s.record!.decision)).toEqual(['drift']);
  expect(far[0].record!.message).toMatch(/malformed expiry tag/);
});
