/** Table-driven tests of the pure decision function. */
import {
  canonicalPolicyJson,
  formatGrantTag,
  grantDocumentWithExpiry,
  LedgerRoleState,
  RenewalRecord,
  renewalPartition,
} from '../../lib/contract';
import { decideForeignMarker, decideRole, DecideOptions, patchState, specLookupOf } from '../../lib/sweeper/decide';
import { emptyState, sha256 } from '../../lib/sweeper/ledger';
import { isSelfApproval } from '../../lib/sweeper/renewal';
import { GovernedRole } from '../../lib/sweeper/snapshot';
import { SpecLookup } from '../../lib/sweeper/specs';

const NOW = new Date('2030-01-10T00:00:00Z');
const OPTS: DecideOptions = { strict: false, driftPeriodSeconds: 7 * 86400, warningWindowSeconds: 3 * 86400 };
const DOC = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
const BASE_DOC = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: '*' }] };

function role(tags: Record<string, string>, policies: { name: string; document?: object }[]): GovernedRole {
  return {
    roleName: 'r',
    arn: 'arn:aws:iam::1:role/r',
    agentId: 'a',
    tags: { 'governance:managed-by': 'permission-decay', 'governance:agent': 'a', 'governance:owner': 'o', ...tags },
    policies: policies.map(p => ({ kind: 'inline' as const, name: p.name, document: JSON.stringify(p.document ?? DOC) })),
  };
}
const spec: SpecLookup = {
  spec: {
    v: 1,
    agentId: 'a',
    roleName: 'r',
    owner: 'o',
    maxGrantDurationSeconds: 30 * 86400,
    maxRenewals: 2,
    baseline: [{ kind: 'inline', name: 'base', document: BASE_DOC }],
    grants: [],
  },
};
const bounded = (expiresAt: string) => grantDocumentWithExpiry(DOC, expiresAt);
const tag = (expiresAt: string, by = 'bob') => formatGrantTag({ expiresAt, requestedBy: by, ticket: 'T-1' });
const remembered = (g: string, expiresAt: string, extra: object = {}): LedgerRoleState => ({
  ...emptyState('r'),
  seq: 1,
  grants: {
    [g]: { expiresAt, requestedBy: 'bob', ticket: 'T-1', status: 'active', origin: 'grant', firstSeenAt: '2030-01-01T00:00:00Z', ...extra },
  },
});
const renewal = (until: string, approvedBy: string, createdAt = '2030-01-08T00:00:00Z'): RenewalRecord => ({
  pk: renewalPartition('r', 'g'),
  sk: `${createdAt}#x`,
  renewalId: 'x',
  roleName: 'r',
  grant: 'g',
  until,
  ticket: 'T-2',
  requestedBy: 'bob',
  approvedBy,
  createdAt,
});

const cases: [string, GovernedRole, LedgerRoleState, SpecLookup, RenewalRecord[], DecideOptions, string[]][] = [
  ['baseline only: nothing', role({}, [{ name: 'base', document: BASE_DOC }]), emptyState('r'), spec, [], OPTS, []],
  [
    'new grant: kept',
    role({ 'governance:grant:g': tag('2030-02-01T00:00:00Z') }, [{ name: 'g', document: bounded('2030-02-01T00:00:00Z') }]),
    emptyState('r'),
    spec,
    [],
    OPTS,
    ['kept:g'],
  ],
  [
    'known grant: nothing',
    role({ 'governance:grant:g': tag('2030-02-01T00:00:00Z') }, [{ name: 'g', document: bounded('2030-02-01T00:00:00Z') }]),
    remembered('g', '2030-02-01T00:00:00Z'),
    spec,
    [],
    OPTS,
    [],
  ],
  [
    'expired: revoked',
    role({ 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, [{ name: 'g' }]),
    remembered('g', '2030-01-09T00:00:00Z'),
    spec,
    [],
    OPTS,
    ['revoked:g'],
  ],
  [
    'expired + valid renewal: renewed',
    role({ 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, [{ name: 'g' }]),
    remembered('g', '2030-01-09T00:00:00Z'),
    spec,
    [renewal('2030-01-20T00:00:00Z', 'arn:aws:iam::1:user/alice')],
    OPTS,
    ['renewed:g'],
  ],
  [
    'self-approved renewal: revoked',
    role({ 'governance:grant:g': tag('2030-01-09T00:00:00Z', 'Bob@example.com') }, [{ name: 'g' }]),
    remembered('g', '2030-01-09T00:00:00Z'),
    spec,
    [renewal('2030-01-20T00:00:00Z', 'arn:aws:sts::1:assumed-role/Admin/bob')],
    OPTS,
    ['revoked:g'],
  ],
  [
    'renewal past max duration: revoked',
    role({ 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, [{ name: 'g' }]),
    remembered('g', '2030-01-09T00:00:00Z'),
    spec,
    [renewal('2030-03-20T00:00:00Z', 'arn:aws:iam::1:user/alice')],
    OPTS,
    ['revoked:g'],
  ],
  [
    'third renewal beyond maxRenewals=2: revoked',
    role({ 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, [{ name: 'g' }]),
    remembered('g', '2030-01-09T00:00:00Z'),
    spec,
    [
      renewal('2030-01-08T12:00:00Z', 'arn:aws:iam::1:user/alice', '2030-01-01T00:00:00Z'),
      renewal('2030-01-09T00:00:00Z', 'arn:aws:iam::1:user/alice', '2030-01-02T00:00:00Z'),
      renewal('2030-01-20T00:00:00Z', 'arn:aws:iam::1:user/alice', '2030-01-03T00:00:00Z'),
    ],
    OPTS,
    ['revoked:g'],
  ],
  [
    'expired renewal: revoked',
    role({ 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, [{ name: 'g' }]),
    remembered('g', '2030-01-09T00:00:00Z'),
    spec,
    [renewal('2030-01-09T12:00:00Z', 'arn:aws:iam::1:user/alice')],
    OPTS,
    ['revoked:g'],
  ],
  [
    'tag moved later: tampering, then revoked at recorded expiry',
    role({ 'governance:grant:g': tag('2031-01-01T00:00:00Z') }, [{ name: 'g' }]),
    remembered('g', '2030-01-09T00:00:00Z'),
    spec,
    [],
    OPTS,
    ['tampering:g', 'revoked:g'],
  ],
  [
    'expiring: warned',
    role({ 'governance:grant:g': tag('2030-01-11T00:00:00Z') }, [{ name: 'g', document: bounded('2030-01-11T00:00:00Z') }]),
    remembered('g', '2030-01-11T00:00:00Z'),
    spec,
    [],
    OPTS,
    ['warned:g'],
  ],
  [
    'already warned for this expiry: nothing',
    role({ 'governance:grant:g': tag('2030-01-11T00:00:00Z') }, [{ name: 'g', document: bounded('2030-01-11T00:00:00Z') }]),
    remembered('g', '2030-01-11T00:00:00Z', { warnedFor: '2030-01-11T00:00:00Z' }),
    spec,
    [],
    OPTS,
    [],
  ],
  ['untagged policy: drift', role({}, [{ name: 'x' }]), emptyState('r'), spec, [], OPTS, ['drift:x']],
  [
    'untagged policy, strict: drift + revoked',
    role({}, [{ name: 'x' }]),
    emptyState('r'),
    spec,
    [],
    { ...OPTS, strict: true },
    ['drift:x', 'revoked:x'],
  ],
  [
    'malformed tag: drift',
    role({ 'governance:grant:g': 'expires=soon by=bob ticket=T' }, [{ name: 'g' }]),
    emptyState('r'),
    spec,
    [],
    OPTS,
    ['drift:g'],
  ],
  [
    'baseline changed: baseline-mismatch',
    role({}, [{ name: 'base', document: DOC }]),
    emptyState('r'),
    spec,
    [],
    OPTS,
    ['baseline-mismatch:base'],
  ],
  [
    'tag without policy: cleaned',
    role({ 'governance:grant:g': tag('2030-02-01T00:00:00Z') }, []),
    emptyState('r'),
    spec,
    [],
    OPTS,
    ['cleaned:g'],
  ],
  [
    'missing spec: error, expired grant still revoked, no drift',
    role({ 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, [{ name: 'g' }, { name: 'x' }]),
    emptyState('r'),
    { error: { code: 'SPEC_MISSING', message: 'm' } },
    [],
    OPTS,
    ['error:', 'revoked:g'],
  ],
  [
    'missing spec already recorded: only the revocation',
    role({ 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, [{ name: 'g' }]),
    { ...emptyState('r'), specError: 'SPEC_MISSING' },
    { error: { code: 'SPEC_MISSING', message: 'm' } },
    [],
    OPTS,
    ['revoked:g'],
  ],
  [
    'revocation recorded, IAM unfinished: converge without a record',
    role({ 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, [{ name: 'g' }]),
    remembered('g', '2030-01-09T00:00:00Z', { status: 'revoked', revokedDocumentHash: sha256(canonicalPolicyJson(DOC)) }),
    spec,
    [],
    OPTS,
    ['converge:g'],
  ],
  [
    'renewal recorded, IAM unfinished: converge',
    role({ 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, [
      { name: 'g', document: grantDocumentWithExpiry(DOC, '2030-01-09T00:00:00Z') },
    ]),
    remembered('g', '2030-01-20T00:00:00Z', { previousExpiresAt: '2030-01-09T00:00:00Z' }),
    spec,
    [],
    OPTS,
    ['converge:g'],
  ],
];

describe('decideRole', () => {
  test.each(cases)('%s', (_name, r, state, lookup, renewals, options, expected) => {
    const frozen = JSON.stringify([r, state, lookup, renewals]);
    const plan = decideRole(r, state, lookup, new Map([[renewalPartition('r', 'g'), renewals]]), NOW, options);
    expect(plan.steps.map(s => `${s.record?.decision ?? 'converge'}:${s.grant ?? ''}`)).toEqual(expected);
    expect(JSON.stringify([r, state, lookup, renewals])).toBe(frozen); // decide mutates nothing
  });

  test('a revocation removes the policy before its tag, after its record carries the document', () => {
    const plan = decideRole(
      role({ 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, [{ name: 'g' }]),
      emptyState('r'),
      spec,
      new Map(),
      NOW,
      OPTS,
    );
    const step = plan.steps[0];
    expect(step.record?.policy).toEqual({ kind: 'inline', name: 'g', document: JSON.stringify(DOC) });
    expect(step.actions.map(a => a.type)).toEqual(['delete-inline', 'untag']);
  });
});

describe('isSelfApproval', () => {
  test.each([
    ['arn:aws:iam::1:user/bob', 'bob', true],
    ['arn:aws:iam::1:user/Bob', 'bob@example.com', true],
    ['arn:aws:sts::1:assumed-role/Admin/bob@example.com', 'BOB', true],
    ['arn:aws:iam::1:user/alice', 'bob', false],
    ['arn:aws:sts::1:assumed-role/bob/alice', 'bob', false],
  ])('%s vs %s -> %s', (approver, requester, expected) => {
    expect(isSelfApproval(approver, requester)).toBe(expected);
  });
});

describe('governance that holds against the governed', () => {
  const decideOf = (r: GovernedRole, state = emptyState('r'), lookup = spec) => decideRole(r, state, lookup, new Map(), NOW, OPTS);
  const steps = (r: GovernedRole, state = emptyState('r'), lookup = spec) =>
    decideOf(r, state, lookup).steps.map(s => ({
      decision: s.record?.decision ?? 'converge',
      grant: s.grant ?? '',
      actions: s.actions.map(a => (a.type === 'tag' ? `tag ${a.key}=${a.value}` : a.type)),
    }));
  const without = (key: string): GovernedRole => {
    const r = role({}, []);
    const tags = { ...r.tags };
    delete tags[key];
    return { ...r, tags, ...(key === 'governance:agent' ? { agentId: undefined } : {}) };
  };
  const otherSpecs = new Map([
    ['a', spec],
    ['b', { spec: { ...spec.spec!, agentId: 'b', roleName: 'other-role' } }],
  ]);

  const tagCases: [string, GovernedRole, SpecLookup, string[]][] = [
    ['managed-by removed', without('governance:managed-by'), spec, ['tag governance:managed-by=permission-decay']],
    ['managed-by changed', role({ 'governance:managed-by': 'nobody' }, []), spec, ['tag governance:managed-by=permission-decay']],
    ['agent removed: put back from the spec', without('governance:agent'), spec, ['tag governance:agent=a']],
    ['owner removed', without('governance:owner'), spec, ['tag governance:owner=o']],
    ['owner relabelled', role({ 'governance:owner': 'mallory' }, []), spec, ['tag governance:owner=o']],
    [
      'managed-by removed, spec missing: the marker alone is put back',
      without('governance:managed-by'),
      { error: { code: 'SPEC_MISSING', message: 'm' } },
      ['tag governance:managed-by=permission-decay'],
    ],
  ];
  test.each(tagCases)('a governance tag %s: tampering, tag put back, role still governed', (_name, r, lookup, actions) => {
    const planned = steps(r, { ...emptyState('r'), specError: lookup.error?.code }, lookup);
    expect(planned).toEqual([{ decision: 'tampering', grant: '', actions }]);
    const record = decideOf(r, { ...emptyState('r'), specError: lookup.error?.code }, lookup).steps[0].record!;
    expect(record.governanceTags).toEqual(Object.fromEntries(Object.entries(r.tags).sort()));
  });

  test('the spec is found by role name when the agent tag is gone or names another agent', () => {
    expect(specLookupOf(without('governance:agent'), otherSpecs).spec?.agentId).toBe('a');
    expect(specLookupOf({ ...role({ 'governance:agent': 'b' }, []), agentId: 'b' }, otherSpecs).spec?.agentId).toBe('a');
    expect(specLookupOf({ ...without('governance:agent'), roleName: 'unknown' }, otherSpecs).error?.code).toBe('NO_AGENT_TAG');
  });

  test('a foreign marker is recorded once per distinct tag set and never changed', () => {
    const marked = {
      roleName: 'x',
      arn: 'arn:aws:iam::1:role/x',
      path: '/',
      tags: { 'governance:managed-by': 'permission-decay', 'governance:agent': 'a', 'cost-center': '7' },
    };
    const first = decideForeignMarker(marked, emptyState('x'));
    expect(first.steps.map(s => [s.record?.decision, s.actions.length])).toEqual([['foreign-marker', 0]]);
    expect(first.steps[0].record!.governanceTags).toEqual({ 'governance:agent': 'a', 'governance:managed-by': 'permission-decay' });
    const recorded = { ...emptyState('x'), seq: 1, ...patchState(emptyState('x'), first.steps[0].memory) } as LedgerRoleState;
    expect(decideForeignMarker(marked, recorded).steps).toEqual([]);
    // A tag that is not a governance tag changes nothing; a changed claim is recorded again.
    expect(decideForeignMarker({ ...marked, tags: { ...marked.tags, 'cost-center': '8' } }, recorded).steps).toEqual([]);
    expect(decideForeignMarker({ ...marked, tags: { ...marked.tags, 'governance:agent': 'b' } }, recorded).steps).toHaveLength(1);
  });

  const exp = '2030-02-01T00:00:00Z';
  const withCondition = (at: string) => ({
    ...DOC,
    Statement: [{ ...DOC.Statement[0], Condition: { DateLessThan: { 'aws:CurrentTime': at } } }],
  });
  const known = remembered('g', exp);
  const boundCases: [string, object, string[]][] = [
    ['no date condition: repaired', DOC, ['repaired:g']],
    ['a later date condition: repaired', withCondition('2099-01-01T00:00:00Z'), ['repaired:g']],
    ['a date condition that is no instant: repaired', withCondition('someday'), ['repaired:g']],
    ['the expiry as condition: nothing', withCondition(exp), []],
    ['an earlier condition: nothing (stricter is kept)', withCondition('2030-01-20T00:00:00Z'), []],
  ];
  test.each(boundCases)('a known grant with %s', (_name, document, expected) => {
    const plan = decideOf(role({ 'governance:grant:g': tag(exp) }, [{ name: 'g', document }]), known);
    expect(plan.steps.map(s => `${s.record?.decision}:${s.grant}`)).toEqual(expected);
    if (expected.length) {
      expect(plan.steps[0].record!.policy!.document).toBe(JSON.stringify(document));
      const put = plan.steps[0].actions[0];
      expect(put.type).toBe('put-inline');
      const written = JSON.parse((put as { document: string }).document);
      expect(
        written.Statement.map((x: { Condition: { DateLessThan: Record<string, string> } }) => x.Condition.DateLessThan['aws:CurrentTime']),
      ).toEqual([exp]);
    }
  });

  test('a bounding recorded but not applied (crash, or a concurrent sweep) is finished without a second record', () => {
    const docHash = sha256(canonicalPolicyJson(DOC));
    const repairedBefore = remembered('g', exp, { boundedDocumentHash: docHash });
    expect(steps(role({ 'governance:grant:g': tag(exp) }, [{ name: 'g', document: DOC }]), repairedBefore)).toEqual([
      { decision: 'converge', grant: 'g', actions: ['put-inline'] },
    ]);
    // Drift recorded (its document remembered), then nothing applied: tag and bound without a new record.
    const driftBefore = remembered('x', '2030-01-17T00:00:00Z', {
      origin: 'drift',
      requestedBy: 'permission-decay/drift',
      ticket: 'none',
      boundedDocumentHash: docHash,
    });
    expect(steps(role({}, [{ name: 'x' }]), driftBefore).map(x => [x.decision, x.actions.map(a => a.split(' ')[0])])).toEqual([
      ['converge', ['tag']],
      ['converge', ['put-inline']],
    ]);
    // A different document than the one recorded is recorded again.
    expect(
      steps(
        role({ 'governance:grant:g': tag(exp) }, [
          { name: 'g', document: { ...DOC, Statement: [{ ...DOC.Statement[0], Action: 's3:*' }] } },
        ]),
        repairedBefore,
      ).map(x => x.decision),
    ).toEqual(['repaired']);
  });

  test('only the statements that need it are bounded', () => {
    const mixed = {
      Version: '2012-10-17',
      Statement: [withCondition('2030-01-15T00:00:00Z').Statement[0], { Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }],
    };
    const put = decideOf(role({ 'governance:grant:g': tag(exp) }, [{ name: 'g', document: mixed }]), known).steps[0].actions[0] as {
      document: string;
    };
    expect(
      JSON.parse(put.document).Statement.map(
        (x: { Condition: { DateLessThan: Record<string, string> } }) => x.Condition.DateLessThan['aws:CurrentTime'],
      ),
    ).toEqual(['2030-01-15T00:00:00Z', exp]);
  });

  test('AWS-managed policies (no document) and customer-managed drift are not versioned; a customer-managed grant is', () => {
    const managed = (document: string | undefined, arn: string): GovernedRole => ({
      ...role({ 'governance:grant:g': tag(exp) }, []),
      policies: [{ kind: 'managed', name: 'g', arn, ...(document !== undefined ? { document } : {}) }],
    });
    expect(decideOf(managed(undefined, 'arn:aws:iam::aws:policy/ReadOnlyAccess'), known).steps).toEqual([]);
    expect(
      decideOf(
        managed(JSON.stringify(DOC), 'arn:aws:iam::1:policy/g'),
        remembered('g', exp, { origin: 'drift', requestedBy: 'permission-decay/drift' }),
      ).steps,
    ).toEqual([]);
    expect(decideOf(managed(JSON.stringify(DOC), 'arn:aws:iam::1:policy/g'), known).steps.map(s => s.actions.map(a => a.type))).toEqual([
      ['create-policy-version'],
    ]);
  });

  test('drift and a malformed tag: the drift record (old document) first, then the bounded document, then the canonical tag', () => {
    const driftTag = 'tag governance:grant:x=expires=2030-01-17T00:00:00Z by=permission-decay/drift ticket=none';
    expect(steps(role({}, [{ name: 'x' }]))).toEqual([{ decision: 'drift', grant: 'x', actions: ['put-inline', driftTag] }]);
    expect(steps(role({ 'governance:grant:x': 'expires=2099-01-01T00:00:00Z by=bob ticket=T-1' }, [{ name: 'x' }]))).toEqual([
      { decision: 'drift', grant: 'x', actions: ['put-inline', driftTag] },
    ]);
    const plan = decideOf(role({}, [{ name: 'x' }]));
    expect(plan.steps[0].record!.policy!.document).toBe(JSON.stringify(DOC));
  });
});
