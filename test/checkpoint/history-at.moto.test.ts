/**
 * `history --at T` is the ledger's account as it stood at T: it lists only the
 * records made at or before T (and says what was held then), never a record
 * made later. The oracle is each record's own `at`, read back through the SDK.
 */
import { readRecords } from '../../lib/sweeper/ledger';
import { createGovernedRole, runCli, testClients, TEST_LEDGER_TABLE, useEmulatorWithLedger } from '../support/governed-fixtures';
import { Moto } from '../support/moto';

let moto: Moto;
let clients: ReturnType<typeof testClients>;
useEmulatorWithLedger((m, c) => {
  moto = m;
  clients = c;
});

const FIRST = '2030-01-01T00:00:00Z';
const EXPIRED = '2030-01-06T00:00:00Z';

test('history --at lists only the records made at or before the instant, in --json and in the table', async () => {
  const r = await createGovernedRole(clients, { agentId: 'h1', grants: [{ name: 'short', expiresAt: '2030-01-05T00:00:00Z' }] });
  for (const now of [FIRST, EXPIRED]) {
    const sweep = await runCli(moto.endpoint, ['sweep', '--now', now, '--warning-window', '0']);
    expect(sweep.code).toBe(0);
  }
  const all = await readRecords(clients.ddb, TEST_LEDGER_TABLE, r.roleName);
  expect(all.map(x => `${x.at} ${x.decision}`)).toEqual([`${FIRST} kept`, `${EXPIRED} revoked`]);

  const between = await runCli(moto.endpoint, ['history', '--role', 'h1', '--json', '--at', '2030-01-03T00:00:00Z']);
  const parsed = JSON.parse(between.out);
  expect(parsed.records.map((x: { decision: string }) => x.decision)).toEqual(['kept']);
  expect(parsed.held.map((x: { grant: string }) => x.grant)).toEqual(['short']);

  const table = await runCli(moto.endpoint, ['history', '--role', 'h1', '--at', '2030-01-03T00:00:00Z']);
  expect(table.out).toContain('kept');
  expect(table.out).not.toContain('revoked');

  // The instant itself counts: a record made exactly at T is part of the account at T.
  const atRevocation = JSON.parse((await runCli(moto.endpoint, ['history', '--role', 'h1', '--json', '--at', EXPIRED])).out);
  expect(atRevocation.records.map((x: { decision: string }) => x.decision)).toEqual(['kept', 'revoked']);

  const before = await runCli(moto.endpoint, ['history', '--role', 'h1', '--at', '2029-12-31T00:00:00Z']);
  expect(before.out).toContain(`No records for ${r.roleName} at or before 2029-12-31T00:00:00Z.`);

  // Without --at, the whole account.
  expect(JSON.parse((await runCli(moto.endpoint, ['history', '--role', 'h1', '--json'])).out).records).toHaveLength(2);
});
