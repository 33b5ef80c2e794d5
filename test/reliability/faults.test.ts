/**
 * Faults: a sweep through a proxy that throttles, fails, drops connections and
 * answers as if another actor changed a role ends in exactly the state and
 * ledger decisions of a fault-free sweep over an identical account; nothing is
 * removed before its revocation record exists; a time budget ends a run
 * cleanly and the next run finishes.
 */
import {
  DeleteRolePolicyCommand,
  DeleteRoleCommand,
  GetRoleCommand,
  ListRolePoliciesCommand,
  DeleteRolePolicyCommandInput,
} from '@aws-sdk/client-iam';
import { createClients } from '../../lib/sweeper/aws-clients';
import { readRecords } from '../../lib/sweeper/ledger';
import { runSweep } from '../../lib/sweeper/sweep';
import { policyNameOfArn } from '../../lib/sweeper/snapshot';
import { Fault, FaultRequest, seededRandom, startFaultProxy } from '../support/fault-proxy';
import { createGovernedRole, createTestLedger, testClients, TEST_LEDGER_TABLE } from '../support/governed-fixtures';
import { Moto, startMoto } from '../support/moto';
import { createMixedAccount, EXPIRED, NOW, outcome, withoutErrors } from './scenario';

const FULL = process.env.RELIABILITY_FULL === '1';
// Each throttled call costs the SDK's jittered backoff (base 500 ms), and a sweep applies roles one by one:
// 60 roles is about a minute; RELIABILITY_FULL=1 runs 1,000.
const ROLES = FULL ? 1000 : Number(process.env.RELIABILITY_FAULT_ROLES ?? 60);

let clean: Moto;
let faulty: Moto;
beforeAll(async () => {
  [clean, faulty] = await Promise.all([startMoto(), startMoto()]);
});
afterAll(async () => {
  await Promise.all([clean?.stop(), faulty?.stop()]);
});

function clientsVia(endpoint: string, maxAttempts = 5) {
  return createClients({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts });
}

/** Nothing is removed before its record: at each delete/detach, the ledger already holds the revocation with the policy. */
function recordFirstCheck(direct: ReturnType<typeof testClients>, violations: string[]) {
  return async (req: FaultRequest) => {
    if (req.service !== 'iam' || (req.action !== 'DeleteRolePolicy' && req.action !== 'DetachRolePolicy')) return;
    const roleName = String(req.params.RoleName);
    const grant = req.action === 'DeleteRolePolicy' ? String(req.params.PolicyName) : policyNameOfArn(String(req.params.PolicyArn));
    const recs = await readRecords(direct.ddb, TEST_LEDGER_TABLE, roleName);
    const rec = recs.find(r => r.decision === 'revoked' && r.grant === grant);
    const holds =
      rec?.policy &&
      (rec.policy.kind === 'managed'
        ? rec.policy.arn === req.params.PolicyArn
        : typeof rec.policy.document === 'string' && rec.policy.document.length > 0);
    if (!holds) violations.push(`${req.action} ${roleName}/${grant} before its revoked record (with the policy) existed`);
  };
}

describe('a sweep under faults ends where a fault-free sweep ends', () => {
  test(
    `${ROLES} roles, 20% of calls throttled, 2% 500s, 1% dropped before and 1% after the write landed`,
    async () => {
      // Fresh emulators whatever ran before (CI shuffles test order).
      await Promise.all([clean.reset(), faulty.reset()]);
      const cleanClients = testClients(clean.endpoint);
      const faultyDirect = testClients(faulty.endpoint);
      await Promise.all([createTestLedger(cleanClients), createTestLedger(faultyDirect)]);
      await Promise.all([createMixedAccount(cleanClients, ROLES), createMixedAccount(faultyDirect, ROLES)]);

      const reference = await runSweep(cleanClients, { ledgerTable: TEST_LEDGER_TABLE, now: NOW });
      expect(reference.errors).toEqual([]);

      const random = seededRandom(20300110);
      const violations: string[] = [];
      let lastAttemptFaults = 0;
      const proxy = await startFaultProxy({
        target: faulty.endpoint,
        observe: recordFirstCheck(faultyDirect, violations),
        decide: (req): Fault | undefined => {
          const r = random();
          // The SDK makes 5 attempts; the last is left alone so that every call
          // eventually lands (exhausted retries are the next test's subject).
          if (req.attempt >= req.maxAttempts) {
            lastAttemptFaults++;
            return undefined;
          }
          if (r < 0.2) return { kind: 'throttle' };
          if (r < 0.22) return { kind: 'server-error' };
          if (r < 0.23) return { kind: 'drop' };
          if (r < 0.24) return { kind: 'drop-after' };
          return undefined;
        },
      });
      try {
        const started = Date.now();
        const result = await runSweep(clientsVia(proxy.endpoint), { ledgerTable: TEST_LEDGER_TABLE, now: NOW });
        const elapsed = Date.now() - started;
        const stats = proxy.stats();
        expect(result.errors).toEqual([]);
        expect(result.ok).toBe(true);
        expect(violations).toEqual([]);
        const [want, got] = await Promise.all([outcome(cleanClients, TEST_LEDGER_TABLE), outcome(faultyDirect, TEST_LEDGER_TABLE)]);
        expect(Object.keys(got.iam)).toHaveLength(ROLES);
        expect(got.iam).toEqual(want.iam);
        expect(got.decisions).toEqual(want.decisions);
        expect(got.memory).toEqual(want.memory);
        for (const problems of Object.values(got.chainProblems)) expect(problems).toEqual([]);
        // The faults really happened, at the rates asked for.
        const faulted = Object.values(stats.faults).reduce((a, b) => a + b, 0);
        expect(stats.faults.throttle / stats.requests).toBeGreaterThan(0.15);
        expect(stats.faults['server-error']).toBeGreaterThan(0);
        expect(stats.faults.drop).toBeGreaterThan(0);
        expect(stats.faults['drop-after']).toBeGreaterThan(0);
        // Decisions of the reference run, for the figures.
        const revoked = Object.values(want.decisions)
          .flat()
          .filter(d => d.startsWith('revoked:')).length;
        process.stdout.write(
          `[reliability:faults] roles=${ROLES} requests=${stats.requests} faulted=${faulted} ${JSON.stringify(stats.faults)} lastAttemptLeftAlone=${lastAttemptFaults} revoked=${revoked} decisions=${Object.values(want.decisions).flat().length} sweepMs=${elapsed}\n`,
        );
      } finally {
        await proxy.close();
      }
    },
    FULL ? 1_800_000 : 300_000,
  );
});

describe('faults that outlast the retries, and other actors', () => {
  beforeEach(async () => {
    await Promise.all([clean.reset(), faulty.reset()]);
  });

  async function twin(fixtures: Parameters<typeof createGovernedRole>[1][]) {
    const a = testClients(clean.endpoint);
    const b = testClients(faulty.endpoint);
    await Promise.all([createTestLedger(a), createTestLedger(b)]);
    for (const f of fixtures) await Promise.all([createGovernedRole(a, f), createGovernedRole(b, f)]);
    return { cleanClients: a, faultyDirect: b };
  }

  const fixtures = [
    { agentId: 'x1', baseline: [{ name: 'base' }], grants: [{ name: 'old', expiresAt: EXPIRED }] },
    {
      agentId: 'x2',
      baseline: [{ name: 'base' }],
      grants: [
        { name: 'old', expiresAt: EXPIRED },
        { name: 'old2', expiresAt: EXPIRED },
      ],
    },
    { agentId: 'x3', drift: [{ name: 'handmade' }] },
  ];

  test('every attempt throttled for one role: that role is reported and recorded as an error, the others finish, the next run repairs it', async () => {
    const { cleanClients, faultyDirect } = await twin(fixtures);
    await runSweep(cleanClients, { ledgerTable: TEST_LEDGER_TABLE, now: NOW });
    const violations: string[] = [];
    const proxy = await startFaultProxy({
      target: faulty.endpoint,
      observe: recordFirstCheck(faultyDirect, violations),
      // IAM writes on agent-x2 throttled on every attempt (IAM's rate limit for a whole Lambda run).
      decide: req =>
        req.service === 'iam' && req.params.RoleName === 'agent-x2' && req.action !== 'GetRole' ? { kind: 'throttle' } : undefined,
    });
    try {
      const first = await runSweep(clientsVia(proxy.endpoint, 3), { ledgerTable: TEST_LEDGER_TABLE, now: NOW });
      expect(first.ok).toBe(false);
      expect(first.errors.length).toBeGreaterThan(0);
      for (const e of first.errors) {
        expect(e.roleName).toBe('agent-x2');
        expect(e.message).toMatch(/agent-x2/);
        expect(e.code).toBe('Throttling');
      }
      // The others are done.
      expect((await faultyDirect.iam.send(new ListRolePoliciesCommand({ RoleName: 'agent-x1' }))).PolicyNames).toEqual(['base']);
      // The failure is in the ledger too.
      expect(
        (await readRecords(faultyDirect.ddb, TEST_LEDGER_TABLE, 'agent-x2')).some(
          r => r.decision === 'error' && r.errorCode === 'Throttling',
        ),
      ).toBe(true);
    } finally {
      await proxy.close();
    }
    const second = await runSweep(faultyDirect, { ledgerTable: TEST_LEDGER_TABLE, now: NOW });
    expect(second.errors).toEqual([]);
    expect(violations).toEqual([]);
    const [want, got] = await Promise.all([outcome(cleanClients, TEST_LEDGER_TABLE), outcome(faultyDirect, TEST_LEDGER_TABLE)]);
    expect(got.iam).toEqual(want.iam);
    expect(withoutErrors(got.decisions)).toEqual(want.decisions);
    // Exactly one revocation record per revoked grant, even though the first revocation did not finish.
    expect(got.decisions['agent-x2'].filter(d => d.startsWith('revoked:')).sort()).toEqual(['revoked:old', 'revoked:old2']);
    expect(got.memory).toEqual(want.memory);
    for (const p of Object.values(got.chainProblems)) expect(p).toEqual([]);
  });

  test('ConcurrentModification and NoSuchEntity from another actor mid-sweep: no crash, recorded, the next run converges', async () => {
    const { cleanClients, faultyDirect } = await twin(fixtures);
    await runSweep(cleanClients, { ledgerTable: TEST_LEDGER_TABLE, now: NOW });
    let conflicts = 0;
    const proxy = await startFaultProxy({
      target: faulty.endpoint,
      observe: async req => {
        // Another actor removes agent-x2's grant `old2` just before the sweeper does.
        if (
          req.service === 'iam' &&
          req.action === 'DeleteRolePolicy' &&
          req.params.RoleName === 'agent-x2' &&
          req.params.PolicyName === 'old2'
        ) {
          const input: DeleteRolePolicyCommandInput = { RoleName: 'agent-x2', PolicyName: 'old2' };
          try {
            await faultyDirect.iam.send(new DeleteRolePolicyCommand(input));
          } catch {
            /* already gone on a retry */
          }
        }
      },
      decide: req => {
        // agent-x1's delete collides with another actor's change of the role.
        if (req.service === 'iam' && req.action === 'DeleteRolePolicy' && req.params.RoleName === 'agent-x1' && conflicts < 1) {
          conflicts++;
          return { kind: 'concurrent-modification' };
        }
        // agent-x3 is being changed by someone else while the sweeper tags it.
        if (req.service === 'iam' && req.action === 'TagRole' && req.params.RoleName === 'agent-x3') return { kind: 'no-such-entity' };
        return undefined;
      },
    });
    let first;
    try {
      first = await runSweep(clientsVia(proxy.endpoint, 2), { ledgerTable: TEST_LEDGER_TABLE, now: NOW });
    } finally {
      await proxy.close();
    }
    expect(first.ok).toBe(false);
    const codes = first.errors.map(e => `${e.roleName}:${e.code}`).sort();
    // The SDK names the errors ConcurrentModificationException / NoSuchEntityException.
    expect(codes).toEqual([expect.stringMatching(/^agent-x1:ConcurrentModification/), expect.stringMatching(/^agent-x3:NoSuchEntity/)]);
    for (const e of first.errors) expect(e.message).toContain(e.roleName!);
    // The grant another actor removed counts as removed, with its record.
    expect((await faultyDirect.iam.send(new ListRolePoliciesCommand({ RoleName: 'agent-x2' }))).PolicyNames).toEqual(['base']);

    const second = await runSweep(faultyDirect, { ledgerTable: TEST_LEDGER_TABLE, now: NOW });
    expect(second.errors).toEqual([]);
    const [want, got] = await Promise.all([outcome(cleanClients, TEST_LEDGER_TABLE), outcome(faultyDirect, TEST_LEDGER_TABLE)]);
    expect(got.iam).toEqual(want.iam);
    expect(withoutErrors(got.decisions)).toEqual(want.decisions);
    expect(got.memory).toEqual(want.memory);
  });

  test(
    'roles deleted by another actor mid-sweep: a revocation on a gone role is done (recorded, nothing to remove); ' +
      "a drift tag on a gone role is that role's error; the other roles finish",
    async () => {
      const { faultyDirect } = await twin(fixtures);
      const deleted = new Set<string>();
      const deleteFailures: string[] = [];
      const deleteRole = async (roleName: string, policies: string[]) => {
        for (const PolicyName of policies) {
          try {
            await faultyDirect.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName }));
          } catch (e) {
            deleteFailures.push(`${roleName}/${PolicyName}: ${(e as Error).message}`);
          }
        }
        try {
          await faultyDirect.iam.send(new DeleteRoleCommand({ RoleName: roleName }));
        } catch (e) {
          deleteFailures.push(`${roleName}: ${(e as Error).message}`);
        }
      };
      const proxy = await startFaultProxy({
        target: faulty.endpoint,
        observe: async req => {
          // Once per role, as the sweeper appends that role's first record (before its IAM change).
          if (req.service !== 'dynamodb' || req.action !== 'TransactWriteItems') return;
          const text = JSON.stringify(req.params);
          if (!deleted.has('agent-x1') && text.includes('ROLE#agent-x1')) {
            deleted.add('agent-x1');
            await deleteRole('agent-x1', ['base', 'old']);
          }
          if (!deleted.has('agent-x3') && text.includes('ROLE#agent-x3')) {
            deleted.add('agent-x3');
            await deleteRole('agent-x3', ['handmade']);
          }
        },
      });
      try {
        const r = await runSweep(clientsVia(proxy.endpoint, 2), { ledgerTable: TEST_LEDGER_TABLE, now: NOW });
        expect([...deleted].sort()).toEqual(['agent-x1', 'agent-x3']);
        expect(deleteFailures).toEqual([]);
        for (const gone of ['agent-x1', 'agent-x3']) {
          await expect(faultyDirect.iam.send(new GetRoleCommand({ RoleName: gone }))).rejects.toThrow(/cannot be found|not found/i);
        }
        // agent-x1: the revocation was recorded with the policy, and deleting what is already gone is done.
        const x1 = await readRecords(faultyDirect.ddb, TEST_LEDGER_TABLE, 'agent-x1');
        expect(x1.map(rec => `${rec.decision}:${rec.grant}`)).toEqual(['revoked:old']);
        expect(x1[0].policy).toMatchObject({ kind: 'inline', name: 'old' });
        // agent-x3: tagging a role that is gone fails, for that role only, and is reported.
        expect(r.errors.length).toBeGreaterThan(0);
        expect(new Set(r.errors.map(e => e.roleName))).toEqual(new Set(['agent-x3']));
        expect((await faultyDirect.iam.send(new ListRolePoliciesCommand({ RoleName: 'agent-x2' }))).PolicyNames).toEqual(['base']);
        const x2 = await readRecords(faultyDirect.ddb, TEST_LEDGER_TABLE, 'agent-x2');
        expect(
          x2
            .filter(rec => rec.decision === 'revoked')
            .map(rec => rec.grant)
            .sort(),
        ).toEqual(['old', 'old2']);
      } finally {
        await proxy.close();
      }
    },
  );
});

describe('time budget', () => {
  beforeEach(async () => {
    await Promise.all([clean.reset(), faulty.reset()]);
  });

  test('a budget stops between roles with a clean report; every run makes progress; the runs together equal one run', async () => {
    const a = testClients(clean.endpoint);
    const b = testClients(faulty.endpoint);
    await Promise.all([createTestLedger(a), createTestLedger(b)]);
    await Promise.all([createMixedAccount(a, 18), createMixedAccount(b, 18)]);
    await runSweep(a, { ledgerTable: TEST_LEDGER_TABLE, now: NOW });

    const random = seededRandom(7);
    // Slow calls, some throttled: the SDK backs off (with jitter) between the budget's check points.
    const proxy = await startFaultProxy({
      target: faulty.endpoint,
      latencyMs: 25,
      decide: req => (req.attempt < req.maxAttempts && random() < 0.2 ? { kind: 'throttle' } : undefined),
    });
    const budgetMs = 2500;
    const runs: { ms: number; done: number; left: number }[] = [];
    try {
      for (let run = 0; run < 30; run++) {
        const started = Date.now();
        // The first run goes through the slow, throttling proxy; the others straight to the emulator with a 1 ms budget.
        const r = await runSweep(run === 0 ? clientsVia(proxy.endpoint) : b, {
          ledgerTable: TEST_LEDGER_TABLE,
          now: NOW,
          timeBudgetMs: run === 0 ? budgetMs : 1,
        });
        const elapsed = Date.now() - started;
        expect(r.errors).toEqual([]);
        const leftSet = new Set(r.leftRoles);
        const done = r.plan.roles.filter(p => p.steps.length > 0 && !leftSet.has(p.roleName));
        runs.push({ ms: elapsed, done: done.length, left: r.leftRoles.length });
        if (r.ok) break;
        // A clean stop: roles left are untouched, and the run still made progress.
        expect(done.length).toBeGreaterThan(0);
        for (const roleName of r.leftRoles) expect(await readRecords(b.ddb, TEST_LEDGER_TABLE, roleName)).toEqual([]);
        if (run === 0) {
          expect(r.leftRoles.length).toBeGreaterThan(0);
          // The budget is checked between roles, so a run overshoots by at most one role's work (its
          // calls and their backoff); PermissionSweeper keeps 30 s of the Lambda timeout for that.
          expect(elapsed - budgetMs).toBeLessThan(30_000);
        }
      }
    } finally {
      await proxy.close();
    }
    expect(runs.length).toBeGreaterThan(2);
    expect(runs[runs.length - 1].left).toBe(0);
    process.stdout.write(`[reliability:budget] budgetMs=${budgetMs} runs=${JSON.stringify(runs)}\n`);
    const [want, got] = await Promise.all([outcome(a, TEST_LEDGER_TABLE), outcome(b, TEST_LEDGER_TABLE)]);
    expect(got.iam).toEqual(want.iam);
    expect(got.decisions).toEqual(want.decisions);
    expect(got.memory).toEqual(want.memory);
  });
});
