/**
 * Concurrency: four sweeps at once over the same account (each with its own
 * clients, through a proxy that adds random latency so their calls interleave
 * differently each round) end in the state of one sweep, with exactly one
 * revocation record per revoked grant and every chain intact.
 */
import { createClients } from '../../lib/sweeper/aws-clients';
import { runSweep } from '../../lib/sweeper/sweep';
import { isWrite, seededRandom, startFaultProxy } from '../support/fault-proxy';
import { createTestLedger, testClients, TEST_LEDGER_TABLE } from '../support/governed-fixtures';
import { Moto, startMoto } from '../support/moto';
import { createMixedAccount, NOW, outcome } from './scenario';

const ROLES = process.env.RELIABILITY_FULL === '1' ? 120 : 24;
const ROUNDS = process.env.RELIABILITY_FULL === '1' ? 5 : 2;

let one: Moto;
let four: Moto;
beforeAll(async () => {
  [one, four] = await Promise.all([startMoto(), startMoto()]);
});
afterAll(async () => {
  await Promise.all([one?.stop(), four?.stop()]);
});

test.each(Array.from({ length: ROUNDS }, (_, i) => [i + 1]))(
  `round %i: four concurrent sweeps over ${ROLES} roles end as one sweep`,
  async round => {
    await Promise.all([one.reset(), four.reset()]);
    const a = testClients(one.endpoint);
    const b = testClients(four.endpoint);
    await Promise.all([createTestLedger(a), createTestLedger(b)]);
    await Promise.all([createMixedAccount(a, ROLES), createMixedAccount(b, ROLES)]);
    await runSweep(a, { ledgerTable: TEST_LEDGER_TABLE, now: NOW });

    const random = seededRandom(round * 7919);
    // Writes reach moto one at a time: its TransactWriteItems is not isolated under concurrent
    // requests (see FaultProxyOptions.serialize); the four sweeps still race for every role's chain.
    const proxy = await startFaultProxy({
      target: four.endpoint,
      decide: () => ({ kind: 'forward', delayMs: Math.floor(random() * 15) }),
      serialize: isWrite,
    });
    try {
      const results = await Promise.all(
        [0, 1, 2, 3].map(i =>
          runSweep(
            createClients({
              region: 'us-east-1',
              endpoint: proxy.endpoint,
              credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
              maxAttempts: 3,
            }),
            { ledgerTable: TEST_LEDGER_TABLE, now: NOW, runId: `concurrent-${i}` },
          ),
        ),
      );
      for (const r of results) expect(r.errors).toEqual([]);
      const conflictsLost = results.reduce((n, r) => n + r.outcomes.filter(o => o.decision === 'converge').length, 0);
      process.stdout.write(
        `[reliability:concurrency] round=${round} roles=${ROLES} convergeSteps=${conflictsLost} outcomesPerSweep=${JSON.stringify(results.map(r => r.outcomes.length))}\n`,
      );
    } finally {
      await proxy.close();
    }
    const [want, got] = await Promise.all([outcome(a, TEST_LEDGER_TABLE), outcome(b, TEST_LEDGER_TABLE)]);
    expect(got.iam).toEqual(want.iam);
    expect(got.decisions).toEqual(want.decisions);
    expect(got.memory).toEqual(want.memory);
    for (const p of Object.values(got.chainProblems)) expect(p).toEqual([]);
    // Exactly one revocation record per revoked grant.
    for (const [role, ds] of Object.entries(got.decisions)) {
      const revoked = ds.filter(d => d.startsWith('revoked:'));
      expect([role, revoked.length]).toEqual([role, new Set(revoked).size]);
    }
    expect(
      Object.values(got.decisions)
        .flat()
        .filter(d => d.startsWith('revoked:')).length,
    ).toBeGreaterThan(0);
  },
);
