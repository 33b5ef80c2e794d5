/** history --at from checkpoints: the latest checkpoint at or before the instant, plus the records after it. Pure. */
import { heldAt, pointInTime } from '../../lib/cli/sweep-commands';
import { CheckpointBody, CheckpointPolicy, LedgerRecord } from '../../lib/contract';

let seq = 0;
function rec(
  at: string,
  decision: LedgerRecord['decision'],
  grant?: string,
  expiresAt?: string,
  checkpoint?: CheckpointBody,
): LedgerRecord {
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
    checkpoint,
    prevHash: '',
    hash: '',
  };
}
const pol = (name: string, standing: CheckpointPolicy['standing'], expiresAt?: string): CheckpointPolicy => ({
  kind: 'inline',
  name,
  standing,
  documentHash: 'h',
  document: '{}',
  ...(expiresAt ? { expiresAt } : {}),
});
const body = (policies: CheckpointPolicy[], flagged: string[] = []): CheckpointBody => ({
  v: 1,
  intervalSeconds: 30 * 86400,
  dueAt: '',
  policies,
  documentsOmitted: 0,
  flags: flagged.map(p => ({ code: 'NOT_IN_SPEC', policy: p, kind: 'inline', message: '' })),
});

const records = [
  rec('2030-01-01T00:00:00Z', 'kept', 'g', '2030-01-25T00:00:00Z'),
  rec('2030-01-01T00:00:00Z', 'kept', 'short', '2030-01-05T00:00:00Z'),
  rec('2030-01-05T00:00:01Z', 'revoked', 'short', '2030-01-05T00:00:00Z'),
  // The checkpoint knows what no record mentions: a hand-added policy and the baseline.
  rec(
    '2030-01-31T00:00:00Z',
    'checkpoint',
    undefined,
    undefined,
    body([pol('base', 'baseline'), pol('g', 'grant', '2030-01-25T00:00:00Z'), pol('sneaky', 'unapproved')], ['sneaky']),
  ),
  rec('2030-01-31T00:00:00Z', 'revoked', 'g', '2030-01-25T00:00:00Z'),
  rec('2030-02-02T00:00:00Z', 'drift', 'sneaky', '2030-02-09T00:00:00Z'),
  rec(
    '2030-03-02T00:00:00Z',
    'checkpoint',
    undefined,
    undefined,
    body([pol('base', 'baseline'), pol('sneaky', 'drift', '2030-02-09T00:00:00Z')], ['sneaky']),
  ),
];

test.each([
  // at, checkpoint seq used, held grant@source
  ['2030-01-02T00:00:00Z', undefined, ['g@records', 'short@records']],
  ['2030-01-30T23:59:59Z', undefined, ['g@records']],
  ['2030-01-31T00:00:00Z', 4, ['sneaky@checkpoint']], // g revoked right after the checkpoint, same instant
  ['2030-02-05T00:00:00Z', 4, ['sneaky@records']],
  ['2030-03-10T00:00:00Z', 7, ['sneaky@checkpoint']],
])('at %s', (at, cpSeq, expected) => {
  const p = pointInTime(records, at);
  expect(p.checkpoint?.seq).toBe(cpSeq);
  expect(p.held.map(h => `${h.grant}@${h.source}`)).toEqual(expected);
  if (cpSeq) expect(p.baseline.map(b => b.name)).toEqual(['base']);
});

test('a checkpoint entry keeps the since of the records before it, and its flags', () => {
  const p = pointInTime([...records.slice(0, 4)], '2030-01-31T00:00:00Z');
  expect(p.held.find(h => h.grant === 'g')).toMatchObject({
    since: '2030-01-01T00:00:00Z',
    source: 'checkpoint',
    standing: 'grant',
    expiresAt: '2030-01-25T00:00:00Z',
  });
  expect(p.held.find(h => h.grant === 'sneaky')).toMatchObject({
    since: '2030-01-31T00:00:00Z',
    flags: ['NOT_IN_SPEC'],
    standing: 'unapproved',
  });
  expect(pointInTime(records, '2030-02-05T00:00:00Z').held[0]).toMatchObject({
    standing: 'drift',
    flags: ['NOT_IN_SPEC'],
    expiresAt: '2030-02-09T00:00:00Z',
  });
});

test('without checkpoints, heldAt is the replay it always was', () => {
  const plain = records.filter(r => r.decision !== 'checkpoint');
  expect(heldAt(plain, '2030-02-05T00:00:00Z').map(h => h.grant)).toEqual(['sneaky']);
  expect(pointInTime(plain, '2030-02-05T00:00:00Z').checkpoint).toBeUndefined();
});
