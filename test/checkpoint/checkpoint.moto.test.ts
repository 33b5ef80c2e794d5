/**
 * Freeze checkpoints end to end: the CLI sweep (in-process `main`) against
 * moto_server with the real SDK clients; the ledger is read back through the SDK.
 */
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { LedgerRecord } from '../../lib/contract';
import { main } from '../../lib/cli/main';
import { handler } from '../../lib/sweeper/handler';
import { readLedgerState, readRecords, verifyChain } from '../../lib/sweeper/ledger';
import { createGovernedRole, doc, memoryIo, testClients, TEST_LEDGER_TABLE, useEmulatorWithLedger } from '../support/governed-fixtures';
import { Moto } from '../support/moto';

let moto: Moto;
let clients: ReturnType<typeof testClients>;
useEmulatorWithLedger((m, c) => {
  moto = m;
  clients = c;
});

async function cli(args: string[]) {
  const io = memoryIo(moto.endpoint);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}
async function sweepAt(now: string, ...extra: string[]): Promise<string[]> {
  const r = await cli(['sweep', '--json', '--now', now, '--checkpoint-interval', '30d', '--warning-window', '0', ...extra]);
  expect(r.err).toBe('');
  const parsed = JSON.parse(r.out);
  return (parsed.outcomes ?? []).map((o: { decision: string; grant?: string }) => `${o.decision}:${o.grant ?? ''}`);
}

const T0 = '2030-01-01T00:00:00Z';
const T1 = '2030-01-31T00:00:00Z'; // 30 days after the ledger first saw the role

describe('freeze checkpoints', () => {
  test('a checkpoint 30 days after first sight flags a hand-added policy and a hand-edited baseline; history --at answers from it', async () => {
    const r = await createGovernedRole(clients, {
      agentId: 'k1',
      baseline: [{ name: 'base' }],
      grants: [{ name: 'cdk', expiresAt: '2030-03-01T00:00:00Z', inSpec: true }],
    });
    // First sight: the grants are recorded, no checkpoint yet (the first is due an interval later).
    expect(await sweepAt(T0)).toEqual(['kept:cdk']);
    expect((await sweepAt('2030-01-30T23:59:59Z')).filter(d => d.startsWith('checkpoint'))).toEqual([]);

    // By hand: a new policy, and an action added to the approved baseline document.
    await clients.iam.send(
      new PutRolePolicyCommand({ RoleName: r.roleName, PolicyName: 'sneaky', PolicyDocument: JSON.stringify(doc('iam:PassRole')) }),
    );
    await clients.iam.send(
      new PutRolePolicyCommand({
        RoleName: r.roleName,
        PolicyName: 'base',
        PolicyDocument: JSON.stringify(doc(['logs:PutLogEvents', 'iam:CreateUser'])),
      }),
    );

    // Dry run shows the checkpoint and writes nothing.
    const dry = await cli(['sweep', '--dry-run', '--now', T1, '--checkpoint-interval', '30d', '--warning-window', '0']);
    expect(dry.out).toMatch(/checkpoint\s+-\s+checkpoint of agent-k1: 3 policies, 2 not in the approved spec/);
    const before = (await readRecords(clients.ddb, TEST_LEDGER_TABLE, r.roleName)).length;

    expect(await sweepAt(T1)).toEqual(['checkpoint:', 'baseline-mismatch:base', 'drift:sneaky']);

    const records = await readRecords(clients.ddb, TEST_LEDGER_TABLE, r.roleName);
    const cp = records.find(x => x.decision === 'checkpoint')!;
    expect(cp.seq).toBe(before + 1);
    expect(cp.at).toBe(T1);
    expect(cp.checkpoint!.dueAt).toBe(T1);
    expect(cp.checkpoint!.intervalSeconds).toBe(30 * 86400);
    expect(cp.checkpoint!.policies.map(p => `${p.name}:${p.standing}`)).toEqual(['base:baseline', 'cdk:grant', 'sneaky:unapproved']);
    expect(JSON.parse(cp.checkpoint!.policies.find(p => p.name === 'sneaky')!.document!).Statement[0].Action).toBe('iam:PassRole');
    expect(cp.checkpoint!.flags).toEqual([
      expect.objectContaining({ code: 'BASELINE_CHANGED', policy: 'base', addedActions: ['iam:createuser'], addedStatements: 1 }),
      expect.objectContaining({ code: 'NOT_IN_SPEC', policy: 'sneaky' }),
    ]);
    // Hash-chained like every record: the chain verifies, and altering the checkpoint would break it.
    const state = (await readLedgerState(clients.ddb, TEST_LEDGER_TABLE)).get(r.roleName)!;
    expect(verifyChain(records, state)).toEqual([]);
    expect(state.lastCheckpointAt).toBe(T1);
    expect(state.firstSeenAt).toBe(T0);
    const altered: LedgerRecord[] = records.map(x => (x.seq === cp.seq ? { ...x, checkpoint: { ...x.checkpoint!, flags: [] } } : x));
    expect(verifyChain(altered, state).map(p => p.code)).toEqual(['ALTERED']);

    // Idempotent: the same instant again records nothing; the next is due 30 days after this one.
    expect(await sweepAt(T1)).toEqual([]);
    const notYet = await cli([
      'sweep',
      '--json',
      '--dry-run',
      '--now',
      '2030-03-01T23:59:59Z',
      '--checkpoint-interval',
      '30d',
      '--warning-window',
      '0',
    ]);
    expect(JSON.parse(notYet.out).plan.roles[0].steps.map((s: { record?: { decision: string } }) => s.record?.decision)).not.toContain(
      'checkpoint',
    );
    const later = await cli([
      'sweep',
      '--json',
      '--dry-run',
      '--now',
      '2030-03-02T00:00:00Z',
      '--checkpoint-interval',
      '30d',
      '--warning-window',
      '0',
    ]);
    expect(JSON.parse(later.out).plan.roles[0].steps[0].record.decision).toBe('checkpoint');

    // history --at: from the checkpoint plus the records after it.
    const h = JSON.parse((await cli(['history', '--role', 'k1', '--json', '--at', T1])).out);
    expect(h.checkpoint).toEqual({ seq: cp.seq, at: T1, flagged: 2 });
    expect(h.baseline).toEqual([expect.objectContaining({ name: 'base', flags: ['BASELINE_CHANGED'] })]);
    expect(h.held.map((x: { grant: string; source: string; standing?: string }) => `${x.grant}:${x.source}:${x.standing}`)).toEqual([
      'cdk:checkpoint:grant',
      'sneaky:records:drift',
    ]);
    expect(h.held.find((x: { grant: string }) => x.grant === 'sneaky').flags).toEqual(['NOT_IN_SPEC']);
    expect(h.held.find((x: { grant: string }) => x.grant === 'cdk').since).toBe(T0);

    // Before the checkpoint: replayed from the records alone (which never saw the hand-added policy).
    const early = JSON.parse((await cli(['history', '--role', 'k1', '--json', '--at', '2030-01-15T00:00:00Z'])).out);
    expect(early.checkpoint).toBeUndefined();
    expect(early.held.map((x: { grant: string }) => x.grant)).toEqual(['cdk']);

    const human = await cli(['history', '--role', 'k1', '--at', '2030-02-01T00:00:00Z']);
    expect(human.out).toMatch(new RegExp(`held \\(from checkpoint #${cp.seq} at ${T1} \\(2 flagged\\)`));
    expect(human.out).toMatch(/Baseline at the checkpoint: base \(BASELINE_CHANGED\)/);
  });

  test("a grant revoked in the checkpoint's sweep is in the checkpoint and gone from history right after it", async () => {
    const r = await createGovernedRole(clients, { agentId: 'k2', grants: [{ name: 'old', expiresAt: '2030-01-20T00:00:00Z' }] });
    expect(await sweepAt(T0)).toEqual(['kept:old']);
    expect(await sweepAt(T1)).toEqual(['checkpoint:', 'revoked:old']);
    const records = await readRecords(clients.ddb, TEST_LEDGER_TABLE, r.roleName);
    expect(records.find(x => x.decision === 'checkpoint')!.checkpoint!.policies.map(p => p.name)).toEqual(['old']);
    const h = JSON.parse((await cli(['history', '--role', 'k2', '--json', '--at', T1])).out);
    expect(h.held).toEqual([]);
  });

  test('the Lambda handler reads the interval from SWEEPER_ENV; a clean role is checkpointed at first sight, once', async () => {
    const r = await createGovernedRole(clients, { agentId: 'k3', baseline: [{ name: 'base' }] });
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      PERMISSION_DECAY_LEDGER_TABLE: TEST_LEDGER_TABLE,
      PERMISSION_DECAY_CHECKPOINT_INTERVAL_SECONDS: String(30 * 86400),
    });
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect((await handler({})).decisions).toEqual({ checkpoint: 1 });
      expect((await handler({})).decisions).toEqual({});
      const [cp] = await readRecords(clients.ddb, TEST_LEDGER_TABLE, r.roleName);
      expect(cp.checkpoint!.flags).toEqual([]);
      expect(cp.checkpoint!.policies.map(p => `${p.name}:${p.standing}`)).toEqual(['base:baseline']);
    } finally {
      log.mockRestore();
      process.env = saved;
    }
  });
});
