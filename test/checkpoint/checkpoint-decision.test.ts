/** Table-driven tests of the pure checkpoint decision: when one is due, and what it flags. */
import {
  CHECKPOINT_DOCUMENT_BUDGET_CHARS,
  formatGrantTag,
  grantDocumentWithExpiry,
  GrantMemory,
  LedgerRoleState,
  PolicyDocumentJson,
} from '../../lib/contract';
import { addedPermissions, checkpointDueAt, checkpointOf } from '../../lib/sweeper/checkpoint';
import { decide, DecideOptions, decideRole, patchState } from '../../lib/sweeper/decide';
import { emptyState } from '../../lib/sweeper/ledger';
import { GovernedRole } from '../../lib/sweeper/snapshot';
import { SpecLookup } from '../../lib/sweeper/specs';

const DAY = 86400;
const OPTS: DecideOptions = {
  strict: false,
  driftPeriodSeconds: 7 * DAY,
  warningWindowSeconds: 3 * DAY,
  checkpointIntervalSeconds: 30 * DAY,
};
const doc = (actions: string | string[], resource = '*'): PolicyDocumentJson => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: actions, Resource: resource }],
});
const BASE = doc('logs:PutLogEvents');
const GRANT = doc('s3:GetObject', 'arn:aws:s3:::b/*');

function role(
  policies: { name: string; document?: PolicyDocumentJson | string; kind?: 'inline' | 'managed'; arn?: string }[],
  tags: Record<string, string> = {},
): GovernedRole {
  return {
    roleName: 'r',
    arn: 'arn:aws:iam::1:role/r',
    agentId: 'a',
    tags: { 'governance:managed-by': 'permission-decay', 'governance:agent': 'a', 'governance:owner': 'o', ...tags },
    policies: policies.map(p => ({
      kind: p.kind ?? 'inline',
      name: p.name,
      ...(p.arn ? { arn: p.arn } : {}),
      document: typeof p.document === 'string' ? p.document : JSON.stringify(p.document ?? GRANT),
    })),
  };
}
const spec = (extra: Partial<NonNullable<SpecLookup['spec']>> = {}): SpecLookup => ({
  spec: {
    v: 1,
    agentId: 'a',
    roleName: 'r',
    owner: 'o',
    maxGrantDurationSeconds: 30 * DAY,
    maxRenewals: 3,
    baseline: [{ kind: 'inline', name: 'base', document: BASE }],
    grants: [],
    ...extra,
  },
});
const mem = (firstSeenAt: string, extra: Partial<GrantMemory> = {}): GrantMemory => ({
  expiresAt: '2030-06-01T00:00:00Z',
  requestedBy: 'bob',
  ticket: 'T-1',
  status: 'active',
  origin: 'grant',
  firstSeenAt,
  ...extra,
});
const state = (extra: Partial<LedgerRoleState> = {}): LedgerRoleState => ({ ...emptyState('r'), seq: 1, ...extra });
const tag = (expiresAt: string) => formatGrantTag({ expiresAt, requestedBy: 'bob', ticket: 'T-1' });

describe('when a checkpoint is due', () => {
  const seenJan1 = state({ firstSeenAt: '2030-01-01T00:00:00Z' });
  const g = { g: mem('2030-01-01T00:00:00Z') };
  const cases: [string, LedgerRoleState, number | undefined, string, boolean, string | undefined][] = [
    // name, STATE, interval, now, recordingOtherwise, expected dueAt
    ['checkpoints off (undefined)', seenJan1, undefined, '2031-01-01T00:00:00Z', false, undefined],
    ['checkpoints off (0)', seenJan1, 0, '2031-01-01T00:00:00Z', false, undefined],
    ['first: interval after the first record', seenJan1, 30 * DAY, '2030-01-20T00:00:00Z', false, '2030-01-31T00:00:00Z'],
    [
      'first, older STATE: interval after the earliest grant first seen',
      state({ grants: { ...g, h: mem('2030-01-05T00:00:00Z') } }),
      30 * DAY,
      '2030-01-20T00:00:00Z',
      false,
      '2030-01-31T00:00:00Z',
    ],
    [
      'later: interval after the last checkpoint',
      state({ firstSeenAt: '2030-01-01T00:00:00Z', lastCheckpointAt: '2030-02-03T10:00:00Z' }),
      30 * DAY,
      '2030-02-10T00:00:00Z',
      false,
      '2030-03-05T10:00:00Z',
    ],
    [
      'never seen, other records this sweep: first sight now, due an interval later',
      emptyState('r'),
      30 * DAY,
      '2030-01-10T00:00:00Z',
      true,
      '2030-02-09T00:00:00Z',
    ],
    ['never seen, nothing else to record: due now', emptyState('r'), 30 * DAY, '2030-01-10T00:00:00Z', false, '2030-01-10T00:00:00Z'],
    [
      'an anchor that is no instant is ignored',
      state({ firstSeenAt: 'garbage', grants: g }),
      30 * DAY,
      '2030-01-10T00:00:00Z',
      false,
      '2030-01-31T00:00:00Z',
    ],
  ];
  test.each(cases)('%s', (_name, st, interval, now, recording, expected) => {
    expect(checkpointDueAt(st, interval, new Date(now), recording)).toBe(expected);
  });
});

describe('the checkpoint step in a role plan', () => {
  const clean = role([{ name: 'base', document: BASE }]);
  const withGrant = role(
    [
      { name: 'base', document: BASE },
      { name: 'g', document: grantDocumentWithExpiry(GRANT, '2030-02-05T00:00:00Z') },
    ],
    { 'governance:grant:g': tag('2030-02-05T00:00:00Z') },
  );
  const expired = role([{ name: 'g' }], { 'governance:grant:g': tag('2030-01-09T00:00:00Z') });
  const cases: [string, GovernedRole, LedgerRoleState, DecideOptions, string, string[]][] = [
    ['off: no checkpoint', clean, emptyState('r'), { ...OPTS, checkpointIntervalSeconds: undefined }, '2030-01-10T00:00:00Z', []],
    ['clean role, never seen: checkpointed at first sight', clean, emptyState('r'), OPTS, '2030-01-10T00:00:00Z', ['checkpoint:']],
    [
      'grant first seen: kept now, first checkpoint an interval later',
      withGrant,
      emptyState('r'),
      OPTS,
      '2030-01-10T00:00:00Z',
      ['kept:g'],
    ],
    [
      'not due yet',
      withGrant,
      state({ firstSeenAt: '2030-01-01T00:00:00Z', grants: { g: mem('2030-01-01T00:00:00Z', { expiresAt: '2030-02-05T00:00:00Z' }) } }),
      OPTS,
      '2030-01-30T23:59:59Z',
      [],
    ],
    [
      'due exactly 30 days after the first record',
      withGrant,
      state({ firstSeenAt: '2030-01-01T00:00:00Z', grants: { g: mem('2030-01-01T00:00:00Z', { expiresAt: '2030-02-05T00:00:00Z' }) } }),
      OPTS,
      '2030-01-31T00:00:00Z',
      ['checkpoint:'],
    ],
    [
      "the checkpoint comes before the sweep's changes",
      expired,
      state({ firstSeenAt: '2029-01-01T00:00:00Z', grants: { g: mem('2029-12-01T00:00:00Z', { expiresAt: '2030-01-09T00:00:00Z' }) } }),
      OPTS,
      '2030-01-10T00:00:00Z',
      ['checkpoint:', 'revoked:g'],
    ],
    [
      'not again before an interval after the last',
      clean,
      state({ firstSeenAt: '2029-01-01T00:00:00Z', lastCheckpointAt: '2030-01-01T00:00:00Z' }),
      OPTS,
      '2030-01-30T00:00:00Z',
      [],
    ],
    [
      'again an interval after the last',
      clean,
      state({ firstSeenAt: '2029-01-01T00:00:00Z', lastCheckpointAt: '2030-01-01T00:00:00Z' }),
      OPTS,
      '2030-01-31T00:00:00Z',
      ['checkpoint:'],
    ],
    [
      'a missing spec: still checkpointed (with the error recorded once)',
      clean,
      state({ firstSeenAt: '2029-01-01T00:00:00Z' }),
      OPTS,
      '2030-01-10T00:00:00Z',
      ['checkpoint:', 'error:'],
    ],
  ];
  test.each(cases)('%s', (name, r, st, options, now, expected) => {
    const lookup = name.includes('missing spec') ? { error: { code: 'SPEC_MISSING', message: 'm' } } : spec();
    const frozen = JSON.stringify([r, st, lookup]);
    const plan = decideRole(r, st, lookup, new Map(), new Date(now), options);
    expect(plan.steps.map(s => `${s.record?.decision ?? 'converge'}:${s.grant ?? ''}`)).toEqual(expected);
    expect(JSON.stringify([r, st, lookup])).toBe(frozen); // pure
    const cp = plan.steps.find(s => s.record?.decision === 'checkpoint');
    if (cp) expect(cp.memory?.lastCheckpointAt).toBe(now);
  });

  test('idempotent: after the plan is applied, the same instant plans no second checkpoint', () => {
    const st = state({ firstSeenAt: '2029-01-01T00:00:00Z' });
    const now = new Date('2030-01-10T00:00:00Z');
    const plan = decideRole(clean, st, spec(), new Map(), now, OPTS);
    expect(plan.steps.map(s => s.record?.decision)).toEqual(['checkpoint']);
    const applied = { ...st, ...patchState(st, plan.steps[0].memory), seq: 2 } as LedgerRoleState;
    expect(applied.lastCheckpointAt).toBe('2030-01-10T00:00:00Z');
    expect(decideRole(clean, applied, spec(), new Map(), now, OPTS).steps).toEqual([]);
    // ...and a later record keeps lastCheckpointAt (patchState carries it).
    expect(patchState(applied, { grants: {} }).lastCheckpointAt).toBe('2030-01-10T00:00:00Z');
  });

  test("decide(): the benchmark's options (no checkpoint field) plan no checkpoint", () => {
    const { checkpointIntervalSeconds: _off, ...legacy } = OPTS;
    const plan = decide(
      { roles: [clean] },
      new Map(),
      new Map([['a', spec()]]),
      new Map(),
      { now: new Date('2030-01-10T00:00:00Z') },
      legacy,
    );
    expect(plan.roles[0].steps).toEqual([]);
    const dry = decide({ roles: [clean] }, new Map(), new Map([['a', spec()]]), new Map(), { now: new Date('2030-01-10T00:00:00Z') }, OPTS);
    expect(dry.roles[0].steps.map(s => s.record?.decision)).toEqual(['checkpoint']);
  });
});

describe('what a checkpoint holds and flags', () => {
  const st = state({
    firstSeenAt: '2030-01-01T00:00:00Z',
    grants: {
      requested: mem('2030-01-02T00:00:00Z'),
      handmade: mem('2030-01-03T00:00:00Z', { origin: 'drift', requestedBy: 'permission-decay/drift', expiresAt: '2030-01-10T00:00:00Z' }),
      gone: mem('2030-01-02T00:00:00Z', { status: 'revoked' }),
    },
  });
  const cdkGrantDoc = grantDocumentWithExpiry(GRANT, '2030-03-01T00:00:00Z');
  const s = spec({
    grants: [
      {
        kind: 'inline',
        name: 'cdk',
        document: cdkGrantDoc,
        expiresAt: '2030-03-01T00:00:00Z',
        requestedBy: 'bob',
        ticket: 'T',
        reason: 'r',
      },
    ],
  });
  type Row = [
    string,
    { name: string; document?: PolicyDocumentJson | string; kind?: 'inline' | 'managed'; arn?: string },
    Record<string, string>,
    string,
    string | undefined,
  ];
  const rows: Row[] = [
    // name, policy, extra tags, standing, flag code
    ['approved baseline: no flag', { name: 'base', document: BASE }, {}, 'baseline', undefined],
    [
      'baseline with an action added by hand',
      { name: 'base', document: doc(['logs:PutLogEvents', 'iam:PassRole']) },
      {},
      'baseline',
      'BASELINE_CHANGED',
    ],
    ['a CDK grant as approved: no flag', { name: 'cdk', document: cdkGrantDoc }, {}, 'grant', undefined],
    [
      'a CDK grant renewed (only its date condition moved): no flag',
      { name: 'cdk', document: grantDocumentWithExpiry(GRANT, '2030-04-01T00:00:00Z') },
      {},
      'grant',
      undefined,
    ],
    [
      'a CDK grant with a statement added',
      {
        name: 'cdk',
        document: {
          Version: '2012-10-17',
          Statement: [...(cdkGrantDoc.Statement as object[]), { Effect: 'Allow', Action: 's3:DeleteObject', Resource: '*' }],
        } as PolicyDocumentJson,
      },
      {},
      'grant',
      'GRANT_CHANGED',
    ],
    [
      'a grant the ledger recorded: no flag',
      { name: 'requested' },
      { 'governance:grant:requested': tag('2030-06-01T00:00:00Z') },
      'grant',
      undefined,
    ],
    [
      'recorded drift',
      { name: 'handmade', document: doc('iam:PassRole') },
      { 'governance:grant:handmade': tag('2030-01-10T00:00:00Z') },
      'drift',
      'DRIFT',
    ],
    ['a policy added by hand', { name: 'sneaky', document: doc('*') }, {}, 'unapproved', 'NOT_IN_SPEC'],
    [
      'a hand-added policy with a hand-made grant tag',
      { name: 'tagged', document: doc('*') },
      { 'governance:grant:tagged': tag('2030-02-01T00:00:00Z') },
      'unapproved',
      'UNRECORDED_GRANT',
    ],
    ['revoked but still attached', { name: 'gone' }, {}, 'unapproved', 'NOT_IN_SPEC'],
    [
      'an AWS-managed policy attached by hand',
      { name: 'AdministratorAccess', kind: 'managed', arn: 'arn:aws:iam::aws:policy/AdministratorAccess', document: undefined },
      {},
      'unapproved',
      'NOT_IN_SPEC',
    ],
  ];
  test.each(rows)('%s', (_name, policy, tags, standing, code) => {
    const r = role(
      [policy.document === undefined && policy.kind === 'managed' ? { ...policy, document: undefined as unknown as string } : policy],
      tags,
    );
    if (policy.kind === 'managed' && policy.document === undefined) (r.policies[0] as { document?: string }).document = undefined;
    const c = checkpointOf(r, st, s, 30 * DAY, '2030-01-31T00:00:00Z');
    expect(c.policies).toHaveLength(1);
    expect(c.policies[0]).toMatchObject({ name: policy.name, standing });
    expect(c.policies[0].documentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(c.flags.map(f => f.code)).toEqual(code ? [code] : []);
  });

  test('a changed baseline names the actions added', () => {
    const c = checkpointOf(
      role([{ name: 'base', document: doc(['logs:PutLogEvents', 'iam:PassRole', 's3:*']) }]),
      st,
      spec(),
      30 * DAY,
      '2030-01-31T00:00:00Z',
    );
    expect(c.flags[0]).toMatchObject({ code: 'BASELINE_CHANGED', addedStatements: 1, addedActions: ['iam:passrole', 's3:*'] });
    expect(c.flags[0].message).toMatch(/iam:passrole/);
  });

  test('added actions: an approved wildcard covers narrower actions', () => {
    expect(addedPermissions(doc(['s3:GetObject', 'sqs:SendMessage']), doc('s3:*')).addedActions).toEqual(['sqs:sendmessage']);
    expect(addedPermissions(doc('s3:Get*'), doc('s3:Get*')).addedStatements).toBe(0);
  });

  test('no spec: every policy the ledger does not record as a grant is flagged', () => {
    const c = checkpointOf(
      role([{ name: 'base', document: BASE }, { name: 'requested' }]),
      st,
      { error: { code: 'BAD_SPEC', message: 'm' } },
      30 * DAY,
      '2030-01-31T00:00:00Z',
    );
    expect(c.flags.map(f => `${f.policy}:${f.code}`)).toEqual(['base:SPEC_UNAVAILABLE']);
    expect(c.specError).toBe('BAD_SPEC');
  });

  test('odd documents never throw; JSON is kept canonical, anything else as it was', () => {
    const c = checkpointOf(
      role([
        { name: 'x', document: 'not json' },
        { name: 'y', document: '{"Statement":"nope"}' },
        { name: 'base', document: '[]' },
      ]),
      st,
      spec(),
      30 * DAY,
      '2030-01-31T00:00:00Z',
    );
    expect(c.policies.map(p => p.document)).toEqual(['not json', '{"Statement":["nope"]}', '[]']);
    expect(c.flags.map(f => f.code).sort()).toEqual(['BASELINE_CHANGED', 'NOT_IN_SPEC', 'NOT_IN_SPEC']);
  });

  test('past the document budget, policies keep only their sha256; the record stays well under 400 KB', () => {
    const big = (i: number) => doc(Array.from({ length: 400 }, (_, k) => `service${i}:Action${k}WithAVeryLongName`));
    const r = role(Array.from({ length: 20 }, (_, i) => ({ name: `p${String(i).padStart(2, '0')}`, document: big(i) })));
    const c = checkpointOf(r, st, spec(), 30 * DAY, '2030-01-31T00:00:00Z');
    const kept = c.policies.filter(p => p.document !== undefined);
    expect(c.documentsOmitted).toBeGreaterThan(0);
    expect(kept.length + c.documentsOmitted).toBe(20);
    expect(kept.reduce((n, p) => n + p.document!.length, 0)).toBeLessThanOrEqual(CHECKPOINT_DOCUMENT_BUDGET_CHARS);
    expect(c.flags.every(f => (f.addedActions?.length ?? 0) <= 51)).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(c))).toBeLessThan(200 * 1024);
  });
});
