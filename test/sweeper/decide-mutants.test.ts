/**
 * Decision paths the table, path and property suites did not reach (found by mutation testing): foreign
 * markers through decide(), grant tags whose policy is gone, the tag reading the CLI's status shows, baseline
 * lookup, documents IAM accepts in their short forms, and a ledger memory missing its requester. Expected
 * plans are written out here (tag values, messages, documents), not computed with the code under test.
 */
import { AgentSpec, GrantMemory, LedgerRoleState } from '../../lib/contract';
import { decide, decideRole, DecideOptions, grantTagReading, isBaselinePolicy, patchState } from '../../lib/sweeper/decide';
import { emptyState } from '../../lib/sweeper/ledger';
import { ForeignMarkedRole, GovernedRole, RolePolicy } from '../../lib/sweeper/snapshot';
import { SpecLookup } from '../../lib/sweeper/specs';

const NOW = new Date('2030-01-10T00:00:00Z');
const OPTS: DecideOptions = { strict: false, driftPeriodSeconds: 7 * 86400, warningWindowSeconds: 3 * 86400 };
const STATEMENT = { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' };
const DOC = { Version: '2012-10-17', Statement: [STATEMENT] };
const bounded = (expiresAt: string) => ({ ...STATEMENT, Condition: { DateLessThan: { 'aws:CurrentTime': expiresAt } } });
const GOVERNANCE = { 'governance:managed-by': 'permission-decay', 'governance:agent': 'a', 'governance:owner': 'o' };

function role(tags: Record<string, string>, policies: RolePolicy[]): GovernedRole {
  const arn = 'arn:aws:iam::1:role/permission-decay/agents/r';
  return { roleName: 'r', arn, agentId: 'a', owner: 'o', tags: { ...GOVERNANCE, ...tags }, policies };
}
const inline = (name: string, document: unknown): RolePolicy => ({ kind: 'inline', name, document: JSON.stringify(document) });
function specOf(grants: AgentSpec['grants'] = [], baseline: AgentSpec['baseline'] = []): AgentSpec {
  return { v: 1, agentId: 'a', roleName: 'r', owner: 'o', maxGrantDurationSeconds: 30 * 86400, maxRenewals: 2, baseline, grants };
}
const grantMemory = (extra: Partial<GrantMemory> = {}): GrantMemory => ({
  expiresAt: '2030-01-20T00:00:00Z',
  requestedBy: 'bob',
  ticket: 'T-1',
  status: 'active',
  origin: 'grant',
  firstSeenAt: '2030-01-01T00:00:00Z',
  ...extra,
});
const stateWith = (grants: Record<string, GrantMemory>): LedgerRoleState => ({ ...emptyState('r'), seq: 1, grants });
const plan = (r: GovernedRole, state: LedgerRoleState, lookup: SpecLookup = { spec: specOf() }) =>
  decideRole(r, state, lookup, new Map(), NOW, OPTS);
const sweepOf = (marked: ForeignMarkedRole, ledger: ReadonlyMap<string, LedgerRoleState> = new Map()) =>
  decide({ roles: [], foreignMarkers: [marked] }, ledger, new Map(), new Map(), { now: NOW }, OPTS);

describe('foreign markers, through decide()', () => {
  const marked = (tags: Record<string, string>): ForeignMarkedRole => ({ roleName: 'x', arn: 'arn:aws:iam::1:role/x', path: '/', tags });
  const MESSAGE_TAIL =
    ' carries governance tags but is not under the governed path /permission-decay/agents/:' +
    ' the sweeper does not govern it and changed nothing; remove the tags, or recreate the role with GovernedAgentRole';

  test.each([
    [
      'claiming an agent',
      { 'governance:agent': 'a', team: 'z' },
      'role x (path /) claiming agent a' + MESSAGE_TAIL,
      { 'governance:agent': 'a' },
    ],
    ['with a grant tag only', { 'Governance:Grant:g': 'v' }, 'role x (path /)' + MESSAGE_TAIL, { 'Governance:Grant:g': 'v' }],
  ])('%s: recorded once, nothing changed, only the governance tags kept', (_name, tags, message, governanceTags) => {
    const first = sweepOf(marked(tags));
    expect(first.roles).toHaveLength(1);
    const [step] = first.roles[0].steps;
    expect(step.actions).toEqual([]);
    expect(step.record).toEqual({ decision: 'foreign-marker', governanceTags, message });
    expect(step.memory?.foreignMarker).toMatch(/^[0-9a-f]{64}$/);

    // The marker recorded, the same claim decides nothing.
    const state = { ...emptyState('x'), ...patchState(emptyState('x'), step.memory) };
    const again = sweepOf(marked(tags), new Map([['x', state]]));
    expect(again.roles).toEqual([{ roleName: 'x', steps: [] }]);
  });

  test('a changed claim is recorded again', () => {
    const first = sweepOf(marked({ 'governance:agent': 'a' }));
    const state = { ...emptyState('x'), ...patchState(emptyState('x'), first.roles[0].steps[0].memory) };
    const changed = sweepOf(marked({ 'governance:agent': 'b' }), new Map([['x', state]]));
    expect(changed.roles[0].steps.map(s => s.record?.decision)).toEqual(['foreign-marker']);
  });
});

describe('grant tags whose policy is gone', () => {
  const UNTAG = { type: 'untag', key: 'governance:grant:gone' };
  // Another policy on the role: the gone grant is found by name, not by the role having no policy at all.
  const OTHER = { kind: 'managed', name: 'ReadOnlyAccess', arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' } as const;
  const TAG = { 'governance:grant:gone': 'expires=2030-01-20T00:00:00Z by=bob ticket=T-1' };

  test.each(['revoked', 'cleaned'] as const)('already %s in the ledger: untag only, no new record', status => {
    const steps = plan(role(TAG, []), stateWith({ gone: grantMemory({ status }) })).steps;
    expect(steps).toEqual([{ roleName: 'r', grant: 'gone', actions: [UNTAG] }]);
  });

  test('active in the ledger: recorded as cleaned, the memory kept with its status changed', () => {
    const steps = plan(role(TAG, [OTHER]), stateWith({ gone: grantMemory({ ticket: 'T-old' }) }), { spec: specOf([], [OTHER]) }).steps;
    expect(steps).toEqual([
      {
        roleName: 'r',
        grant: 'gone',
        actions: [UNTAG],
        record: {
          decision: 'cleaned',
          grant: 'gone',
          expiresAt: '2030-01-20T00:00:00Z',
          requestedBy: 'bob',
          ticket: 'T-1',
          message: 'grant tag of gone removed: its policy is no longer on the role',
        },
        memory: { grants: { gone: grantMemory({ ticket: 'T-old', status: 'cleaned' }) } },
      },
    ]);
  });

  test('unknown to the ledger: the memory is made from the tag, first seen now', () => {
    const steps = plan(role(TAG, []), emptyState('r')).steps;
    expect(steps[0].memory).toEqual({
      grants: {
        gone: {
          expiresAt: '2030-01-20T00:00:00Z',
          requestedBy: 'bob',
          ticket: 'T-1',
          status: 'cleaned',
          origin: 'grant',
          firstSeenAt: '2030-01-10T00:00:00Z',
        },
      },
    });
  });

  test('unknown to the ledger and malformed: recorded without an expiry or a memory', () => {
    const steps = plan(role({ 'governance:grant:gone': 'forever' }, []), emptyState('r')).steps;
    expect(steps).toEqual([
      {
        roleName: 'r',
        grant: 'gone',
        actions: [UNTAG],
        memory: undefined,
        record: {
          decision: 'cleaned',
          grant: 'gone',
          expiresAt: undefined,
          requestedBy: undefined,
          ticket: undefined,
          message: 'grant tag of gone removed: its policy is no longer on the role',
        },
      },
    ]);
  });

  test('two keys that differ in case name one grant: it is cleaned once', () => {
    const tags = { ...TAG, 'Governance:Grant:gone': 'expires=2030-01-21T00:00:00Z by=eve ticket=T-2' };
    const steps = plan(role(tags, []), emptyState('r')).steps;
    expect(steps.map(s => [s.record?.decision, s.grant])).toEqual([['cleaned', 'gone']]);
  });

  test('each gone grant once, in the order of its first key', () => {
    const tags = { 'governance:grant:b': 'x', 'governance:grant:a': 'y', 'GOVERNANCE:GRANT:b': 'z' };
    const steps = plan(role(tags, []), emptyState('r')).steps;
    expect(steps.map(s => s.grant)).toEqual(['b', 'a']);
  });
});

describe('grantTagReading (what the CLI status shows)', () => {
  const TAGGED = { 'governance:grant:g': 'expires=2030-01-20T00:00:00Z by=bob ticket=T-1' };
  const PARSED = { expiresAt: '2030-01-20T00:00:00Z', requestedBy: 'bob', ticket: 'T-1' };
  const reading = (tags: Record<string, string>, state: LedgerRoleState, lookup: SpecLookup = { spec: specOf() }) =>
    grantTagReading(role(tags, [inline('g', DOC)]), 'g', state, lookup, NOW);

  test('no tag, no memory, no spec grant: nothing', () => {
    expect(reading({}, emptyState('r'))).toStrictEqual({});
  });

  test('a tag and an active memory: the parsed tag, the recorded expiry and the memory', () => {
    const mem = grantMemory({ expiresAt: '2030-01-18T00:00:00Z' });
    expect(reading(TAGGED, stateWith({ g: mem }))).toEqual({
      tagValue: TAGGED['governance:grant:g'],
      parsedTag: PARSED,
      recorded: '2030-01-18T00:00:00Z',
      memory: mem,
    });
  });

  test('a revoked memory records no expiry, and is still shown', () => {
    const mem = grantMemory({ status: 'revoked' });
    expect(reading(TAGGED, stateWith({ g: mem }))).toStrictEqual({
      tagValue: TAGGED['governance:grant:g'],
      parsedTag: PARSED,
      memory: mem,
    });
  });

  test('the spec grant ending later than the memory is the recorded expiry', () => {
    const specGrant = {
      kind: 'inline' as const,
      name: 'g',
      expiresAt: '2030-01-25T00:00:00Z',
      requestedBy: 'bob',
      ticket: 'T-1',
      reason: 'x',
    };
    const out = reading(TAGGED, stateWith({ g: grantMemory() }), { spec: specOf([specGrant]) });
    expect(out.recorded).toBe('2030-01-25T00:00:00Z');
  });

  test.each([
    [
      'further than the maximum duration, first seen',
      { 'governance:grant:g': 'expires=2030-03-01T00:00:00Z by=bob ticket=T-1' },
      'expiry 2030-03-01T00:00:00Z is more than the maximum grant duration (2592000s) from now',
    ],
    [
      'two keys',
      { ...TAGGED, 'GOVERNANCE:grant:g': 'expires=2030-01-20T00:00:00Z by=bob ticket=T-1' },
      'grant g has more than one expiry tag (keys that differ only in case)',
    ],
    [
      'malformed',
      { 'governance:grant:g': 'expires=never by=bob ticket=T-1' },
      'grant tag "expires=never by=bob ticket=T-1": expires "never" is not an instant of the form YYYY-MM-DDTHH:MM:SSZ (UTC)',
    ],
  ])('%s: not an expiry, and why', (_name, tags, malformed) => {
    const out = reading(tags, emptyState('r'));
    expect(out.malformed).toBe(malformed);
    expect(out.parsedTag).toBeUndefined();
  });
});

describe('the maximum grant duration a first-seen tag is held to', () => {
  const far = (expiresAt: string) => ({ 'governance:grant:g': `expires=${expiresAt} by=bob ticket=T-1` });
  const readingOf = (tags: Record<string, string>, lookup: SpecLookup) =>
    grantTagReading(role(tags, [inline('g', DOC)]), 'g', emptyState('r'), lookup, NOW);

  test.each([
    [
      "the spec's own maximum (5 days)",
      '2030-01-16T00:00:00Z',
      5 * 86400,
      'expiry 2030-01-16T00:00:00Z is more than the maximum grant duration (432000s) from now',
    ],
    ["the spec's own maximum (5 days), just inside", '2030-01-15T00:00:00Z', 5 * 86400, undefined],
  ])('%s', (_name, expiresAt, maxGrantDurationSeconds, malformed) => {
    const out = readingOf(far(expiresAt), { spec: { ...specOf(), maxGrantDurationSeconds } });
    expect(out.malformed).toBe(malformed);
  });

  test('without a spec, the default of 30 days', () => {
    const lookup: SpecLookup = { error: { code: 'SPEC_MISSING', message: 'm' } };
    expect(readingOf(far('2030-02-09T00:00:01Z'), lookup).malformed).toBe(
      'expiry 2030-02-09T00:00:01Z is more than the maximum grant duration (2592000s) from now',
    );
    expect(readingOf(far('2030-02-09T00:00:00Z'), lookup).malformed).toBeUndefined();
  });
});

describe('isBaselinePolicy', () => {
  const spec = specOf(
    [],
    [
      { kind: 'inline', name: 'base' },
      { kind: 'managed', name: 'ReadOnly', arn: 'arn:aws:iam::1:policy/ReadOnly' },
    ],
  );
  test.each([
    ['the inline baseline', { kind: 'inline', name: 'base' }, { spec }, true],
    [
      'a managed policy named like the inline baseline',
      { kind: 'managed', name: 'base', arn: 'arn:aws:iam::1:policy/base' },
      { spec },
      false,
    ],
    ['the managed baseline, by ARN', { kind: 'managed', name: 'ReadOnly', arn: 'arn:aws:iam::1:policy/ReadOnly' }, { spec }, true],
    [
      'a managed policy of the same name at another ARN',
      { kind: 'managed', name: 'ReadOnly', arn: 'arn:aws:iam::1:policy/x/ReadOnly' },
      { spec },
      false,
    ],
    ['any policy when the spec is unknown', { kind: 'inline', name: 'base' }, { error: { code: 'SPEC_MISSING', message: 'm' } }, false],
  ] as [string, RolePolicy, SpecLookup, boolean][])('%s', (_name, p, lookup, expected) => {
    expect(isBaselinePolicy(lookup, p)).toBe(expected);
  });
});

describe('documents in the short forms IAM accepts', () => {
  const TAG = { 'governance:grant:g': 'expires=2030-01-20T00:00:00Z by=bob ticket=T-1' };

  test('one statement as an object and no Version: bounded with the 2012-10-17 version', () => {
    const steps = plan(role(TAG, [inline('g', { Statement: STATEMENT })]), stateWith({ g: grantMemory() })).steps;
    expect(steps.map(s => s.record?.decision)).toEqual(['repaired']);
    const [action] = steps[0].actions;
    expect(action.type).toBe('put-inline');
    expect(JSON.parse((action as { document: string }).document)).toEqual({
      Version: '2012-10-17',
      Statement: [bounded('2030-01-20T00:00:00Z')],
    });
  });

  test.each([
    ['a statement list that is empty', { Version: '2012-10-17', Statement: [] }],
    ['a statement that is a string', { Version: '2012-10-17', Statement: ['Allow'] }],
    ['a statement that is a list', { Version: '2012-10-17', Statement: [[STATEMENT]] }],
    ['a condition that is a string', { Version: '2012-10-17', Statement: [{ ...STATEMENT, Condition: 'x' }] }],
    ['a condition that is null', { Version: '2012-10-17', Statement: [{ ...STATEMENT, Condition: null }] }],
    ['a document that is a list', [DOC]],
    ['a document that is null', null],
  ])('%s cannot take the condition: left alone, no repair', (_name, document) => {
    const steps = plan(role(TAG, [inline('g', document)]), stateWith({ g: grantMemory() })).steps;
    expect(steps).toEqual([]);
  });
});

describe('a ledger memory missing its requester and ticket (an item written by hand or by an older sweeper)', () => {
  test('the tag put back names requester "unknown" and ticket "none"', () => {
    const mem = { expiresAt: '2030-01-20T00:00:00Z', status: 'active', origin: 'grant', firstSeenAt: '2030-01-01T00:00:00Z' };
    const document = { Version: '2012-10-17', Statement: [bounded('2030-01-20T00:00:00Z')] };
    const steps = plan(role({}, [inline('g', document)]), stateWith({ g: mem as unknown as GrantMemory })).steps;
    expect(steps.map(s => s.record?.decision)).toEqual(['tampering']);
    const value = 'expires=2030-01-20T00:00:00Z by=unknown ticket=none';
    expect(steps[0].actions).toEqual([{ type: 'tag', key: 'governance:grant:g', value }]);
    expect(steps[0].record).toMatchObject({ requestedBy: 'unknown', ticket: 'none' });
  });
});

describe('a spec error that is gone', () => {
  test('with nothing else to record: no step (the error is cleared with the next record)', () => {
    const state = { ...emptyState('r'), seq: 3, specError: 'SPEC_MISSING' };
    expect(plan(role({}, []), state).steps).toEqual([]);
  });

  test('cleared with the first record of the sweep', () => {
    const state = { ...emptyState('r'), seq: 3, specError: 'SPEC_MISSING' };
    const steps = plan(role({}, [inline('handmade', DOC)]), state).steps;
    expect(steps.map(s => [s.record?.decision, s.memory?.specError])).toEqual([['drift', null]]);
  });
});

describe('a baseline policy held against the approved spec', () => {
  const BASE_STATEMENT = { Sid: 'Read', Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' };
  const BASE_DOC = { Version: '2012-10-17', Statement: [BASE_STATEMENT] };
  const BASELINE = [{ kind: 'inline' as const, name: 'base', document: BASE_DOC }];
  const MANAGED_ARN = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
  const withBaseline = (baseline: AgentSpec['baseline']) => ({ spec: specOf([], baseline) });

  test.each([
    ['the same text', inline('base', BASE_DOC)],
    [
      'the same policy written differently (keys, order, no Sid, one-element list, whitespace)',
      {
        kind: 'inline',
        name: 'base',
        document:
          '{ "Statement": { "Resource": ["*"], "Action": ["s3:ListBucket", "s3:GetObject"], "Effect": "Allow" },' +
          ' "Version": "2012-10-17" }',
      },
    ],
    ['a document the snapshot could not read', { kind: 'inline', name: 'base' }],
  ] as [string, RolePolicy][])('%s: nothing to record', (_name, p) => {
    expect(plan(role({}, [p]), emptyState('r'), withBaseline(BASELINE)).steps).toEqual([]);
  });

  test('an AWS-managed baseline (no document in the spec) is never judged by its document', () => {
    const p: RolePolicy = { kind: 'managed', name: 'ReadOnlyAccess', arn: MANAGED_ARN, document: JSON.stringify(DOC) };
    const lookup = withBaseline([{ kind: 'managed', name: 'ReadOnlyAccess', arn: MANAGED_ARN }]);
    expect(plan(role({}, [p]), emptyState('r'), lookup).steps).toEqual([]);
  });

  test('a changed document is flagged once, and left in place', () => {
    const changed = inline('base', { ...BASE_DOC, Statement: [{ ...BASE_STATEMENT, Action: 's3:*' }] });
    const lookup = withBaseline(BASELINE);
    const steps = plan(role({}, [changed]), emptyState('r'), lookup).steps;
    expect(steps.map(s => [s.record?.decision, s.actions])).toEqual([['baseline-mismatch', []]]);
    expect(steps[0].record?.message).toBe('baseline policy base no longer matches the approved spec; left in place for review');
    const flagged = { ...emptyState('r'), ...patchState(emptyState('r'), steps[0].memory) };
    expect(plan(role({}, [changed]), flagged, lookup).steps).toEqual([]);
  });
});

describe('what is drift, and when it cannot be judged', () => {
  const SPEC_MISSING: SpecLookup = { error: { code: 'SPEC_MISSING', message: 'no approved spec for agent a' } };
  const ERROR_ONLY = [['error', 'SPEC_MISSING']];
  const judged = (steps: readonly { record?: { decision: string; errorCode?: string } }[]) =>
    steps.map(s => [s.record?.decision, s.record?.errorCode]);

  test('spec unknown, a known grant whose tag was removed: not re-tagged (it may be baseline)', () => {
    const steps = plan(role({}, [inline('g', DOC)]), stateWith({ g: grantMemory() }), SPEC_MISSING).steps;
    expect(judged(steps)).toEqual(ERROR_ONLY);
  });

  test('spec unknown, a malformed expiry tag: no drift decision', () => {
    const steps = plan(role({ 'governance:grant:g': 'forever' }, [inline('g', DOC)]), emptyState('r'), SPEC_MISSING).steps;
    expect(judged(steps)).toEqual(ERROR_ONLY);
  });

  test.each(['revoked', 'cleaned'] as const)('a policy put back by hand after it was %s, without a tag: drift', status => {
    const steps = plan(role({}, [inline('g', DOC)]), stateWith({ g: grantMemory({ status }) })).steps;
    expect(judged(steps)).toEqual([['drift', undefined]]);
    expect(steps[0].record?.message).toBe('policy g is neither baseline nor a tagged grant; it decays at 2030-01-17T00:00:00Z');
  });
});

describe('a revocation recorded but not finished in IAM', () => {
  const EXPIRED_TAG = { 'governance:grant:g': 'expires=2030-01-09T00:00:00Z by=bob ticket=T-1' };
  const REMOVE = [
    { type: 'delete-inline', policyName: 'g' },
    { type: 'untag', key: 'governance:grant:g' },
  ];
  const expired = grantMemory({ expiresAt: '2030-01-09T00:00:00Z' });
  const grantDoc = inline('g', { Version: '2012-10-17', Statement: [bounded('2030-01-09T00:00:00Z')] });
  /** The ledger after the sweep that revoked g, whose IAM calls never ran. */
  function afterRevocation(): LedgerRoleState {
    const steps = plan(role(EXPIRED_TAG, [grantDoc]), stateWith({ g: expired })).steps;
    expect(steps.map(s => [s.record?.decision, s.actions])).toEqual([['revoked', REMOVE]]);
    return { ...emptyState('r'), ...patchState(stateWith({ g: expired }), steps[0].memory) };
  }

  test('the same policy and tag: removed and untagged again, without a second record', () => {
    expect(plan(role(EXPIRED_TAG, [grantDoc]), afterRevocation()).steps).toEqual([{ roleName: 'r', grant: 'g', actions: REMOVE }]);
  });

  test('another document under the same name: a new revocation, recorded', () => {
    const other = inline('g', { Version: '2012-10-17', Statement: [{ ...bounded('2030-01-09T00:00:00Z'), Action: 's3:*' }] });
    expect(plan(role(EXPIRED_TAG, [other]), afterRevocation()).steps.map(s => s.record?.decision)).toEqual(['revoked']);
  });

  test('the tag moved later without a renewal: tampering, then revoked again (recorded)', () => {
    const moved = { 'governance:grant:g': 'expires=2030-01-15T00:00:00Z by=bob ticket=T-1' };
    expect(plan(role(moved, [grantDoc]), afterRevocation()).steps.map(s => s.record?.decision)).toEqual(['tampering', 'revoked']);
  });

  test('an active grant carrying a stale revocation hash is not removed', () => {
    const state = afterRevocation();
    const stale = stateWith({ g: { ...state.grants.g, status: 'active', expiresAt: '2030-01-20T00:00:00Z' } });
    const live = { 'governance:grant:g': 'expires=2030-01-20T00:00:00Z by=bob ticket=T-1' };
    const steps = plan(role(live, [grantDoc]), stale).steps;
    expect(steps.flatMap(s => s.actions).filter(a => a.type === 'delete-inline' || a.type === 'untag')).toEqual([]);
  });
});

describe('a grant the ledger knows only as cleaned comes back', () => {
  test('with its policy and the same tag: first seen again (kept, active, seen now), not silently trusted', () => {
    const tags = { 'governance:grant:g': 'expires=2030-01-20T00:00:00Z by=bob ticket=T-1' };
    const document = { Version: '2012-10-17', Statement: [bounded('2030-01-20T00:00:00Z')] };
    const cleaned = grantMemory({ status: 'cleaned', warnedFor: '2030-01-20T00:00:00Z' });
    const steps = plan(role(tags, [inline('g', document)]), stateWith({ g: cleaned })).steps;
    expect(steps).toEqual([
      {
        roleName: 'r',
        grant: 'g',
        actions: [],
        record: {
          decision: 'kept',
          grant: 'g',
          expiresAt: '2030-01-20T00:00:00Z',
          requestedBy: 'bob',
          ticket: 'T-1',
          message: 'grant g first seen; expires at 2030-01-20T00:00:00Z',
        },
        memory: {
          grants: {
            g: {
              expiresAt: '2030-01-20T00:00:00Z',
              requestedBy: 'bob',
              ticket: 'T-1',
              status: 'active',
              origin: 'grant',
              firstSeenAt: '2030-01-10T00:00:00Z',
            },
          },
        },
      },
    ]);
  });
});

describe('governance tags taken or changed on a governed role', () => {
  test('each one named, put back from the spec, the tags as found recorded', () => {
    const tags = { 'governance:managed-by': 'permission-decay', 'governance:owner': 'eve', team: 'x' };
    const r: GovernedRole = { ...role({}, []), tags };
    const steps = plan(r, emptyState('r')).steps;
    expect(steps).toEqual([
      {
        roleName: 'r',
        actions: [
          { type: 'tag', key: 'governance:agent', value: 'a' },
          { type: 'tag', key: 'governance:owner', value: 'o' },
        ],
        record: {
          decision: 'tampering',
          governanceTags: { 'governance:managed-by': 'permission-decay', 'governance:owner': 'eve' },
          message:
            'governed role r: governance:agent was removed (put back: a); governance:owner was changed to "eve" (put back: o);' +
            ' the role stays governed by its path /permission-decay/agents/',
        },
      },
    ]);
  });

  test('without a spec only the marker is held', () => {
    const r: GovernedRole = { ...role({}, []), tags: { 'governance:owner': 'eve' } };
    const lookup: SpecLookup = { error: { code: 'SPEC_MISSING', message: 'm' } };
    const steps = plan(r, emptyState('r'), lookup).steps;
    expect(steps.map(s => s.actions)).toEqual([[], [{ type: 'tag', key: 'governance:managed-by', value: 'permission-decay' }]]);
  });
});

describe('drift, each step whole', () => {
  const DRIFT_TAG = (until: string) => ({
    type: 'tag',
    key: 'governance:grant:hand',
    value: `expires=${until} by=permission-decay/drift ticket=none`,
  });
  const driftMemory = (until: string, extra: Partial<GrantMemory> = {}) => ({
    expiresAt: until,
    requestedBy: 'permission-decay/drift',
    ticket: 'none',
    status: 'active',
    origin: 'drift',
    firstSeenAt: '2030-01-10T00:00:00Z',
    ...extra,
  });

  test('a hand-made inline policy: decays at the drift period, bounded by the date condition, its document recorded', () => {
    const p = inline('hand', DOC);
    const steps = plan(role({}, [p]), emptyState('r')).steps;
    expect(steps).toStrictEqual([
      {
        roleName: 'r',
        grant: 'hand',
        actions: [
          {
            type: 'put-inline',
            policyName: 'hand',
            document: JSON.stringify({ Version: '2012-10-17', Statement: [bounded('2030-01-17T00:00:00Z')] }),
          },
          DRIFT_TAG('2030-01-17T00:00:00Z'),
        ],
        record: {
          decision: 'drift',
          grant: 'hand',
          policy: { kind: 'inline', name: 'hand', document: JSON.stringify(DOC) },
          expiresAt: '2030-01-17T00:00:00Z',
          requestedBy: 'permission-decay/drift',
          ticket: 'none',
          message: 'policy hand is neither baseline nor a tagged grant; it decays at 2030-01-17T00:00:00Z',
        },
        memory: { grants: { hand: driftMemory('2030-01-17T00:00:00Z', { boundedDocumentHash: expect.stringMatching(/^[0-9a-f]{64}$/) }) } },
        notify: {
          subject: 'Drift found on r',
          message:
            'policy hand is neither baseline nor a tagged grant. It now expires at 2030-01-17T00:00:00Z' +
            ' unless it is requested properly (owner o).',
        },
      },
    ]);
  });

  test('a customer-managed policy attached by hand: tagged only (the sweeper has no standing to version it), no document hash', () => {
    const p: RolePolicy = { kind: 'managed', name: 'hand', arn: 'arn:aws:iam::1:policy/hand', document: JSON.stringify(DOC) };
    const [step] = plan(role({}, [p]), emptyState('r')).steps;
    expect(step.actions).toStrictEqual([DRIFT_TAG('2030-01-17T00:00:00Z')]);
    expect(step.memory).toStrictEqual({ grants: { hand: driftMemory('2030-01-17T00:00:00Z') } });
  });

  test.each([
    ['recorded later than the drift period: the drift period wins', '2030-01-25T00:00:00Z', '2030-01-17T00:00:00Z', {}],
    [
      'recorded earlier: the record wins, and inside the warning window it is the warning',
      '2030-01-12T00:00:00Z',
      '2030-01-12T00:00:00Z',
      { warnedFor: '2030-01-12T00:00:00Z' },
    ],
    [
      'recorded at the end of the warning window exactly: warned',
      '2030-01-13T00:00:00Z',
      '2030-01-13T00:00:00Z',
      { warnedFor: '2030-01-13T00:00:00Z' },
    ],
    ['recorded a second after the warning window: not warned', '2030-01-13T00:00:01Z', '2030-01-13T00:00:01Z', {}],
  ])('a known grant whose tag became malformed, %s', (_name, recorded, until, extra) => {
    const p = inline('hand', { Version: '2012-10-17', Statement: [bounded('2030-01-01T00:00:00Z')] });
    const state = stateWith({ hand: grantMemory({ expiresAt: recorded }) });
    const [step] = plan(role({ 'governance:grant:hand': 'forever' }, [p]), state).steps;
    expect(step.actions).toStrictEqual([DRIFT_TAG(until)]);
    expect(step.memory).toStrictEqual({ grants: { hand: driftMemory(until, { firstSeenAt: '2030-01-01T00:00:00Z', ...extra }) } });
  });

  test('a malformed tag names itself and why in the record', () => {
    const state = stateWith({ hand: grantMemory({ expiresAt: '2030-01-25T00:00:00Z' }) });
    const [step] = plan(role({ 'governance:grant:hand': 'forever' }, [inline('hand', DOC)]), state).steps;
    expect(step.record?.message).toBe(
      'malformed expiry tag "forever" (grant tag "forever": "forever" is not a field=value pair);' + ' it decays at 2030-01-17T00:00:00Z',
    );
  });

  test('a malformed tag on a grant recorded as already expired: drift, then revoked in the same sweep', () => {
    const state = stateWith({ hand: grantMemory({ expiresAt: '2030-01-09T00:00:00Z' }) });
    const steps = plan(role({ 'governance:grant:hand': 'forever' }, [inline('hand', DOC)]), state).steps;
    expect(steps.map(s => [s.record?.decision, s.actions.map(a => a.type)])).toEqual([
      ['drift', ['put-inline', 'tag']],
      ['revoked', ['delete-inline', 'untag']],
    ]);
    expect(steps[1].record).toStrictEqual({
      decision: 'revoked',
      grant: 'hand',
      expiresAt: '2030-01-09T00:00:00Z',
      policy: { kind: 'inline', name: 'hand', document: JSON.stringify(DOC) },
      requestedBy: 'permission-decay/drift',
      ticket: 'none',
      message: 'drift policy hand expired at 2030-01-09T00:00:00Z and was revoked',
    });
  });
});

describe('drift recorded by a sweep interrupted before its re-tag (the tag still malformed)', () => {
  const MALFORMED = { 'governance:grant:hand': 'forever' };
  const REVOKED = ['revoked', ['delete-inline', 'untag']];
  const handDoc = inline('hand', { Version: '2012-10-17', Statement: [bounded('2030-01-01T00:00:00Z')] });
  const recordedDrift = (expiresAt: string, extra: Partial<GrantMemory> = {}) =>
    stateWith({ hand: grantMemory({ expiresAt, origin: 'drift', requestedBy: 'permission-decay/drift', ticket: 'none', ...extra }) });
  const shape = (steps: readonly { record?: { decision: string }; actions: readonly { type: string }[] }[]) =>
    steps.map(s => [s.record?.decision ?? 'converge', s.actions.map(a => a.type)]);

  test.each([
    ['the same expiry, not yet due: re-tagged without a record', recordedDrift('2030-01-15T00:00:00Z'), [['converge', ['tag']]]],
    [
      'the same expiry, already passed: re-tagged, then revoked (recorded)',
      recordedDrift('2030-01-09T00:00:00Z', { warnedFor: '2030-01-09T00:00:00Z' }),
      [['converge', ['tag']], REVOKED],
    ],
    [
      'the same expiry, due this very second: revoked too',
      recordedDrift('2030-01-10T00:00:00Z', { warnedFor: '2030-01-10T00:00:00Z' }),
      [['converge', ['tag']], REVOKED],
    ],
    [
      'a grant, not drift, with that expiry: drift recorded',
      stateWith({ hand: grantMemory({ expiresAt: '2030-01-15T00:00:00Z' }) }),
      [['drift', ['tag']]],
    ],
    [
      'drift recorded with a later expiry than the drift period: drift recorded again',
      recordedDrift('2030-01-25T00:00:00Z'),
      [['drift', ['tag']]],
    ],
  ] as [string, LedgerRoleState, [string, string[]][]][])('%s', (_name, state, expected) => {
    expect(shape(plan(role(MALFORMED, [handDoc]), state).steps)).toEqual(expected);
  });
});

describe('strict mode', () => {
  const STRICT: DecideOptions = { ...OPTS, strict: true };
  const strictMemory = (extra: Partial<GrantMemory> = {}) => ({
    expiresAt: '2030-01-10T00:00:00Z',
    requestedBy: 'permission-decay/drift',
    ticket: 'none',
    status: 'active',
    origin: 'drift',
    firstSeenAt: '2030-01-10T00:00:00Z',
    boundedDocumentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    ...extra,
  });

  test.each([
    ['an untagged hand-made policy: removed, nothing to untag', {}, [{ type: 'delete-inline', policyName: 'hand' }]],
    [
      'a malformed tag: removed and untagged',
      { 'governance:grant:hand': 'forever' },
      [
        { type: 'delete-inline', policyName: 'hand' },
        { type: 'untag', key: 'governance:grant:hand' },
      ],
    ],
  ])('%s; recorded as expired now first, so an interrupted sweep revokes it next time', (_name, tags, removal) => {
    const steps = decideRole(role(tags, [inline('hand', DOC)]), emptyState('r'), { spec: specOf() }, new Map(), NOW, STRICT).steps;
    expect(steps.map(s => [s.record?.decision, s.actions])).toStrictEqual([
      ['drift', []],
      ['revoked', removal],
    ]);
    expect(steps[0].memory).toStrictEqual({ grants: { hand: strictMemory() } });
    expect(steps.map(s => s.record?.message)).toEqual([
      expect.stringMatching(/; strict mode revokes it at once$/),
      'drift policy hand revoked (strict mode)',
    ]);
    const notice = expect.stringMatching(/\. Strict mode revoked it at once \(owner o\)\.$/);
    expect(steps[0].notify).toEqual({ subject: 'Drift revoked on r', message: notice });
    const revokedDocumentHash = expect.stringMatching(/^[0-9a-f]{64}$/);
    expect(steps[1].memory).toStrictEqual({ grants: { hand: strictMemory({ status: 'revoked', revokedDocumentHash }) } });
  });
});

describe('strict mode turned on after a drift sweep was interrupted before its re-tag', () => {
  test('the recorded drift is revoked at once, not re-tagged to decay later', () => {
    const state = stateWith({
      hand: grantMemory({ expiresAt: '2030-01-17T00:00:00Z', origin: 'drift', requestedBy: 'permission-decay/drift', ticket: 'none' }),
    });
    const r = role({ 'governance:grant:hand': 'forever' }, [inline('hand', DOC)]);
    const steps = decideRole(r, state, { spec: specOf() }, new Map(), NOW, { ...OPTS, strict: true }).steps;
    expect(steps.map(s => s.record?.decision)).toEqual(['drift', 'revoked']);
  });
});

describe('what a grant memory carries from one sweep to the next', () => {
  const TAG = (expiresAt: string) => ({ 'governance:grant:g': `expires=${expiresAt} by=bob ticket=T-1` });
  const grantDocAt = (expiresAt: string) => inline('g', { Version: '2012-10-17', Statement: [bounded(expiresAt)] });

  test('a grant first seen with no memory at all: origin grant', () => {
    const [step] = plan(role(TAG('2030-01-20T00:00:00Z'), [grantDocAt('2030-01-20T00:00:00Z')]), emptyState('r')).steps;
    expect(step.memory).toStrictEqual({ grants: { g: grantMemory({ firstSeenAt: '2030-01-10T00:00:00Z' }) } });
  });

  test('a known grant keeps the expiry it was renewed from when it is warned', () => {
    const mem = grantMemory({ expiresAt: '2030-01-12T00:00:00Z', previousExpiresAt: '2030-01-05T00:00:00Z' });
    const [step] = plan(role(TAG('2030-01-12T00:00:00Z'), [grantDocAt('2030-01-12T00:00:00Z')]), stateWith({ g: mem })).steps;
    expect(step.record?.decision).toBe('warned');
    expect(step.memory).toStrictEqual({ grants: { g: { ...mem, warnedFor: '2030-01-12T00:00:00Z' } } });
  });

  test('a malformed tag on a grant recorded to end this very second: drift, and revoked in the same sweep', () => {
    const state = stateWith({ g: grantMemory({ expiresAt: '2030-01-10T00:00:00Z' }) });
    const steps = plan(role({ 'governance:grant:g': 'forever' }, [grantDocAt('2030-01-01T00:00:00Z')]), state).steps;
    expect(steps.map(s => s.record?.decision)).toEqual(['drift', 'revoked']);
  });
});
