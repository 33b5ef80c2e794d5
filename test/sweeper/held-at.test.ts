import { heldAt } from '../../lib/cli/sweep-commands';
import { LedgerRecord } from '../../lib/contract';

let seq = 0;
function rec(at: string, decision: LedgerRecord['decision'], grant: string, expiresAt?: string): LedgerRecord {
  seq++;
  return {
    pk: 'ROLE#r',
    sk: `REC#${seq}`,
    seq,
    roleName: 'r',
    at,
    runId: 'x',
    actor: 'sweeper',
    decision,
    grant,
    expiresAt,
    message: '',
    prevHash: '',
    hash: '',
  };
}

describe('what a role held at an instant, from its ledger records', () => {
  const records = [
    rec('2027-01-01T01:00:00Z', 'warned', 'first-seen-warned', '2027-01-03T00:00:00Z'),
    rec('2027-01-01T01:00:00Z', 'kept', 'long', '2027-01-20T00:00:00Z'),
    rec('2027-01-01T10:00:00Z', 'drift', 'hand-added', '2027-01-08T10:00:00Z'),
    rec('2027-01-02T12:00:00Z', 'renewal-recorded', 'long', '2027-02-01T00:00:00Z'),
    rec('2027-01-05T01:00:00Z', 'revoked', 'first-seen-warned', '2027-01-03T00:00:00Z'),
    rec('2027-01-06T00:00:00Z', 'renewed', 'long', '2027-02-01T00:00:00Z'),
  ];

  test.each([
    ['2027-01-01T00:00:00Z', []],
    ['2027-01-02T12:00:00Z', ['first-seen-warned@2027-01-03T00:00:00Z', 'hand-added@2027-01-08T10:00:00Z', 'long@2027-01-20T00:00:00Z']],
    ['2027-01-05T01:00:00Z', ['hand-added@2027-01-08T10:00:00Z', 'long@2027-01-20T00:00:00Z']],
    ['2027-01-07T00:00:00Z', ['hand-added@2027-01-08T10:00:00Z', 'long@2027-02-01T00:00:00Z']],
  ])('at %s', (at, expected) => {
    expect(heldAt(records, at).map(h => `${h.grant}@${h.expiresAt}`)).toEqual(expected);
  });
});
