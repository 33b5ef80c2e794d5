/** Ledgers for the HTML report's tests. */
import { LedgerRecord } from '../../lib/contract';

let seq = 0;
function rec(
  roleName: string,
  agentId: string,
  at: string,
  decision: LedgerRecord['decision'],
  fields: Partial<LedgerRecord> = {},
): LedgerRecord {
  seq++;
  return {
    pk: `ROLE#${roleName}`,
    sk: `REC#${seq}`,
    seq,
    roleName,
    agentId,
    at,
    runId: 'r',
    actor: 'sweeper',
    decision,
    message: `${decision} ${fields.grant ?? ''}`,
    prevHash: '0',
    hash: String(seq),
    ...fields,
  };
}

/** Text an agent could write into its tags, each trying to run `window.__pwned=1` in the reader's browser. */
export const HOSTILE = [
  '<script>window.__pwned=1</script>',
  '"><img src=x onerror="window.__pwned=1">',
  "'><svg onload=window.__pwned=1>",
  '</title></text><script>window.__pwned=1</script>',
];

/** A ledger whose agent wrote hostile text into every field it can reach (ticket, requester, message, agent id). */
export function hostileLedger(agentId = 'agent-b', role = 'agent-b-role'): Map<string, LedgerRecord[]> {
  return new Map([
    [
      role,
      [
        rec(role, agentId, '2027-01-01T00:00:00Z', 'requested', {
          grant: 'g1',
          expiresAt: '2027-01-03T00:00:00Z',
          ticket: HOSTILE[0],
          requestedBy: HOSTILE[1],
        }),
        rec(role, agentId, '2027-01-02T00:00:00Z', 'drift', { grant: 'by-hand', expiresAt: '2027-01-09T00:00:00Z', message: HOSTILE[2] }),
        rec(role, agentId, '2027-01-03T00:00:00Z', 'revoked', { grant: 'g1', message: HOSTILE[3] }),
        rec(role, HOSTILE[3], '2027-01-03T00:00:00Z', 'tampering', { message: HOSTILE[0] }),
      ],
    ],
  ]);
}
