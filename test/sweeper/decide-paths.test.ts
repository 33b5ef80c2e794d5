/**
 * Table tests of decision paths the main table does not reach: spec lookup
 * (role mismatch, missing agent tag), one role's failure isolated from the
 * others, a removed or shortened expiry tag, drift whose recorded expiry has
 * passed, a spec error cleared, and what each step writes and changes.
 *
 * Roles are as a deploy leaves them: under the governed path, with the
 * managed-by, agent and owner tags, and each grant's document ending at its
 * expiry by IAM's date condition (a role short of any of these opens its plan
 * with a tampering or repaired step, which the tests that want it say).
 */
import { AgentSpec, formatGrantTag, GrantMemory, LedgerRoleState } from '../../lib/contract';
import { decide, decideRole, DecideOptions, patchState, renewalKeysNeeded, specLookupOf } from '../../lib/sweeper/decide';
import { emptyState } from '../../lib/sweeper/ledger';
import { GovernedRole } from '../../lib/sweeper/snapshot';
import { SpecIndex, SpecLookup } from '../../lib/sweeper/specs';

const NOW = new Date('2030-01-10T00:00:00Z');
const OPTS: DecideOptions = { strict: false, driftPeriodSeconds: 7 * 86400, warningWindowSeconds: 3 * 86400 };
const DOC = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
const tag = (expiresAt: string, by = 'bob') => formatGrantTag({ expiresAt, requestedBy: by, ticket: 'T-1' });
/** DOC as request and the construct write a grant: ends at `expiresAt` by IAM's date condition (written out here, not by the library). */
const boundedDoc = (expiresAt: string) => ({
  Version: '2012-10-17',
  Statement: [{ ...DOC.Statement[0], Condition: { DateLessThan: { 'aws:CurrentTime': expiresAt } } }],
});
/** A policy of a role fixture: a bare name is a hand-made policy (DOC, no date condition); a granted one ends at its expiry. */
type FixturePolicy = string | { readonly name: string; readonly boundedAt: string };
const granted = (name: string, expiresAt: string): FixturePolicy => ({ name, boundedAt: expiresAt });

function role(name: string, agentId: string | undefined, tags: Record<string, string>, policies: FixturePolicy[]): GovernedRole {
  return {
    roleName: name,
    arn: `arn:aws:iam::1:role/permission-decay/agents/${name}`,
    ...(agentId ? { agentId } : {}),
    owner: 'o',
    tags: {
      'governance:managed-by': 'permission-decay',
      ...(agentId ? { 'governance:agent': agentId } : {}),
      'governance:owner': 'o',
      ...tags,
    },
    policies: policies.map(p =>
      typeof p === 'string'
        ? { kind: 'inline' as const, name: p, document: JSON.stringify(DOC) }
        : { kind: 'inline' as const, name: p.name, document: JSON.stringify(boundedDoc(p.boundedAt)) },
    ),
  };
}
function specOf(agentId: string, roleName: string, grants: AgentSpec['grants'] = [], owner = 'o'): AgentSpec {
  return { v: 1, agentId, roleName, owner, maxGrantDurationSeconds: 30 * 86400, maxRenewals: 2, baseline: [], grants };
}
const memory = (g: string, expiresAt: string, extra: Partial<GrantMemory> = {}): LedgerRoleState => ({
  ...emptyState('r'),
  seq: 1,
  grants: {
    [g]: { expiresAt, requestedBy: 'bob', ticket: 'T-1', status: 'active', origin: 'grant', firstSeenAt: '2030-01-01T00:00:00Z', ...extra },
  },
});
const decisions = (steps: readonly { record?: { decision: string }; grant?: string }[]) =>
  steps.map(s => `${s.record?.decision ?? 'converge'}:${s.grant ?? ''}`);

describe('the spec a role is judged against', () => {
  test('a role without an agent tag that no spec names: NO_AGENT_TAG, and no drift decisions', () => {
    const r = role('r', undefined, {}, ['handmade']);
    const lookup = specLookupOf(r, new Map([['a', { spec: specOf('a', 'other') }]]));
    expect(lookup.error?.code).toBe('NO_AGENT_TAG');
    expect(lookup.error?.message).toMatch(/role r has no governance:agent tag and no approved spec names it: deploy its agent's stack/);
    const plan = decideRole(r, emptyState('r'), lookup, new Map(), NOW, OPTS);
    expect(decisions(plan.steps)).toEqual(['error:']);
    expect(plan.steps[0].record).toMatchObject({ errorCode: 'NO_AGENT_TAG' });
  });

  test('a role whose agent tag was removed is judged by the spec that names it; the tag is put back as tampering', () => {
    const r = role('r', undefined, {}, ['handmade']);
    const lookup = specLookupOf(r, new Map([['a', { spec: specOf('a', 'r') }]]));
    expect(lookup.error).toBeUndefined();
    expect(lookup.spec?.agentId).toBe('a');
    const plan = decideRole(r, emptyState('r'), lookup, new Map(), NOW, OPTS);
    expect(decisions(plan.steps)).toEqual(['tampering:', 'drift:handmade']);
    expect(plan.steps[0].actions).toEqual([{ type: 'tag', key: 'governance:agent', value: 'a' }]);
    expect(plan.steps[0].record!.message).toMatch(/governance:agent was removed \(put back: a\)/);
  });

  test("a spec that names another role: SPEC_ROLE_MISMATCH (a role cannot borrow another agent's spec)", () => {
    const r = role('impostor', 'a', { 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, ['g', 'handmade']);
    const lookup = specLookupOf(r, new Map([['a', { spec: specOf('a', 'agent-a') }]]));
    expect(lookup.error?.code).toBe('SPEC_ROLE_MISMATCH');
    expect(lookup.error?.message).toMatch(/names role agent-a, not impostor/);
    // The expired grant is still revoked; the untagged policy is not judged as drift without the spec.
    expect(decisions(decideRole(r, emptyState('impostor'), lookup, new Map(), NOW, OPTS).steps)).toEqual(['error:', 'revoked:g']);
  });

  test('an agent with no spec: SPEC_MISSING naming the parameter', () => {
    const lookup = specLookupOf(role('r', 'ghost', {}, []), new Map());
    expect(lookup.error).toEqual({ code: 'SPEC_MISSING', message: expect.stringContaining('/permission-decay/agents/ghost') });
  });

  test("a spec error that is gone is cleared with the role's next record", () => {
    const r = role('r', 'a', { 'governance:grant:g': tag('2030-02-01T00:00:00Z') }, [granted('g', '2030-02-01T00:00:00Z')]);
    const state: LedgerRoleState = { ...emptyState('r'), specError: 'SPEC_MISSING' };
    const plan = decideRole(r, state, { spec: specOf('a', 'r') }, new Map(), NOW, OPTS);
    expect(decisions(plan.steps)).toEqual(['kept:g']);
    expect(plan.steps[0].memory).toMatchObject({ specError: null });
  });

  test('the same spec error already recorded is not recorded again', () => {
    const r = role('r', undefined, {}, []);
    const state: LedgerRoleState = { ...emptyState('r'), specError: 'NO_AGENT_TAG' };
    expect(decideRole(r, state, specLookupOf(r, new Map()), new Map(), NOW, OPTS).steps).toEqual([]);
  });
});

describe("one role's failure", () => {
  test("a role whose decision throws becomes that role's DECIDE_FAILED error; the other roles are decided", () => {
    const good = role('good', 'a', { 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, ['g']);
    // A snapshot entry the decision cannot read (no policy list): decideRole throws on it.
    const broken = { ...role('broken', 'b', {}, []), policies: null } as unknown as GovernedRole;
    const specs: SpecIndex = new Map<string, SpecLookup>([
      ['a', { spec: specOf('a', 'good') }],
      ['b', { spec: specOf('b', 'broken') }],
    ]);
    const plan = decide({ roles: [broken, good] }, new Map(), specs, new Map(), { now: NOW }, OPTS);
    expect(plan.roles.map(r => r.roleName)).toEqual(['broken', 'good']);
    expect(plan.roles[0].steps).toEqual([
      { roleName: 'broken', actions: [], record: expect.objectContaining({ decision: 'error', errorCode: 'DECIDE_FAILED' }) },
    ]);
    expect(plan.roles[0].steps[0].record!.message).toMatch(/role broken: the sweeper could not decide .*nothing changed on this role/);
    expect(decisions(plan.roles[1].steps)).toEqual(['revoked:g']);
  });
});

describe('expiry tags changed by hand', () => {
  test('a removed expiry tag is tampering: re-tagged with the recorded expiry, no other change', () => {
    const r = role('r', 'a', {}, [granted('g', '2030-02-01T00:00:00Z')]);
    const plan = decideRole(r, memory('g', '2030-02-01T00:00:00Z'), { spec: specOf('a', 'r') }, new Map(), NOW, OPTS);
    expect(decisions(plan.steps)).toEqual(['tampering:g']);
    expect(plan.steps[0].record!.message).toMatch(/was removed; re-tagged with its recorded expiry 2030-02-01T00:00:00Z/);
    expect(plan.steps[0].actions).toEqual([{ type: 'tag', key: 'governance:grant:g', value: tag('2030-02-01T00:00:00Z') }]);
  });

  test('a removed expiry tag on an expired grant: tampering re-tags it, and the revocation removes policy and tag', () => {
    const r = role('r', 'a', {}, [granted('g', '2030-01-09T00:00:00Z')]);
    const plan = decideRole(r, memory('g', '2030-01-09T00:00:00Z'), { spec: specOf('a', 'r') }, new Map(), NOW, OPTS);
    expect(decisions(plan.steps)).toEqual(['tampering:g', 'revoked:g']);
    expect(plan.steps[1].actions).toEqual([
      { type: 'delete-inline', policyName: 'g' },
      { type: 'untag', key: 'governance:grant:g' },
    ]);
  });

  test('a removed tag on active drift is put back without a new record', () => {
    // The sweep that recorded the drift gave it the date condition of its decay.
    const r = role('r', 'a', {}, [granted('hand', '2030-01-15T00:00:00Z')]);
    const plan = decideRole(
      r,
      memory('hand', '2030-01-15T00:00:00Z', { origin: 'drift' }),
      { spec: specOf('a', 'r') },
      new Map(),
      NOW,
      OPTS,
    );
    expect(plan.steps).toEqual([
      { roleName: 'r', grant: 'hand', actions: [{ type: 'tag', key: 'governance:grant:hand', value: tag('2030-01-15T00:00:00Z') }] },
    ]);
  });

  test('a shortened expiry tag is kept with the earlier expiry (the ledger remembers it) and the date condition moves to it', () => {
    const r = role('r', 'a', { 'governance:grant:g': tag('2030-01-20T00:00:00Z') }, [granted('g', '2030-02-01T00:00:00Z')]);
    const plan = decideRole(r, memory('g', '2030-02-01T00:00:00Z'), { spec: specOf('a', 'r') }, new Map(), NOW, OPTS);
    expect(decisions(plan.steps)).toEqual(['kept:g', 'repaired:g']);
    expect(plan.steps[0].record).toMatchObject({
      expiresAt: '2030-01-20T00:00:00Z',
      message: 'expiry of g shortened from 2030-02-01T00:00:00Z to 2030-01-20T00:00:00Z',
    });
    expect(plan.steps[0].memory!.grants!.g).toMatchObject({ expiresAt: '2030-01-20T00:00:00Z' });
    expect(plan.steps[0].actions).toEqual([]);
    // The condition still says 2030-02-01: the old document is recorded, then the condition is moved to the shorter expiry.
    const repaired = plan.steps[1];
    expect(repaired.record).toMatchObject({
      expiresAt: '2030-01-20T00:00:00Z',
      policy: { kind: 'inline', name: 'g', document: JSON.stringify(boundedDoc('2030-02-01T00:00:00Z')) },
    });
    expect(repaired.actions).toHaveLength(1);
    const put = repaired.actions[0] as { type: string; policyName: string; document: string };
    expect({ type: put.type, policyName: put.policyName }).toEqual({ type: 'put-inline', policyName: 'g' });
    expect(JSON.parse(put.document)).toEqual(boundedDoc('2030-01-20T00:00:00Z'));
    expect(repaired.memory!.grants!.g).toMatchObject({
      expiresAt: '2030-01-20T00:00:00Z',
      boundedDocumentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  // The ledger remembers the spec expiry the tag was shortened from, so that expiry no longer counts as recorded.
  test("a tag shortened below the approved spec's expiry is recorded once, then nothing", () => {
    const r = role('r', 'a', { 'governance:grant:g': tag('2030-01-20T00:00:00Z') }, [granted('g', '2030-02-01T00:00:00Z')]);
    const spec = specOf('a', 'r', [
      {
        kind: 'inline',
        name: 'g',
        document: boundedDoc('2030-02-01T00:00:00Z'),
        expiresAt: '2030-02-01T00:00:00Z',
        requestedBy: 'bob',
        ticket: 'T-1',
        reason: 'r',
      },
    ]);
    const first = decideRole(r, emptyState('r'), { spec }, new Map(), NOW, OPTS);
    expect(decisions(first.steps)).toEqual(['kept:g', 'repaired:g']);
    const state: LedgerRoleState = { ...emptyState('r'), seq: 2, grants: { g: first.steps[1].memory!.grants!.g! } };
    // The role as the first sweep left it: the condition moved to the shorter expiry.
    const after = role('r', 'a', { 'governance:grant:g': tag('2030-01-20T00:00:00Z') }, [granted('g', '2030-01-20T00:00:00Z')]);
    expect(decideRole(after, state, { spec }, new Map(), NOW, OPTS).steps).toEqual([]);
  });
});

describe('drift whose recorded expiry has passed', () => {
  test('a malformed tag on drift that already decayed: re-tagged and revoked in the same sweep', () => {
    const r = role('r', 'a', { 'governance:grant:hand': 'expires=never by=x ticket=y' }, ['hand']);
    const plan = decideRole(
      r,
      memory('hand', '2030-01-09T00:00:00Z', { origin: 'drift' }),
      { spec: specOf('a', 'r') },
      new Map(),
      NOW,
      OPTS,
    );
    expect(decisions(plan.steps)).toEqual(['drift:hand', 'revoked:hand']);
    expect(plan.steps[0].record!.expiresAt).toBe('2030-01-09T00:00:00Z');
    expect(plan.steps[1].actions).toEqual([
      { type: 'delete-inline', policyName: 'hand' },
      { type: 'untag', key: 'governance:grant:hand' },
    ]);
    expect(plan.steps[1].memory!.grants!.hand).toMatchObject({ status: 'revoked' });
  });

  test('the same drift already recorded (interrupted before its re-tag) is re-tagged and revoked without a second drift record', () => {
    const r = role('r', 'a', { 'governance:grant:hand': 'expires=never by=x ticket=y' }, ['hand']);
    const state = memory('hand', '2030-01-09T00:00:00Z', {
      origin: 'drift',
      requestedBy: 'permission-decay/drift',
      ticket: 'none',
      warnedFor: '2030-01-09T00:00:00Z',
    });
    const plan = decideRole(r, state, { spec: specOf('a', 'r') }, new Map(), NOW, OPTS);
    expect(decisions(plan.steps)).toEqual(['converge:hand', 'revoked:hand']);
  });

  test('drift inside the warning window carries its warning (no separate warned record later)', () => {
    const r = role('r', 'a', {}, ['hand']);
    const plan = decideRole(r, emptyState('r'), { spec: specOf('a', 'r') }, new Map(), NOW, { ...OPTS, driftPeriodSeconds: 86400 });
    expect(plan.steps[0].memory!.grants!.hand).toMatchObject({ expiresAt: '2030-01-11T00:00:00Z', warnedFor: '2030-01-11T00:00:00Z' });
    expect(plan.steps[0].notify?.subject).toBe('Drift found on r');
  });
});

describe('leftovers and odd input', () => {
  test('a grant tag whose policy is gone, already revoked in the ledger: untagged without a new record', () => {
    const r = role('r', 'a', { 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, []);
    const plan = decideRole(
      r,
      memory('g', '2030-01-09T00:00:00Z', { status: 'revoked' }),
      { spec: specOf('a', 'r') },
      new Map(),
      NOW,
      OPTS,
    );
    expect(plan.steps).toEqual([{ roleName: 'r', grant: 'g', actions: [{ type: 'untag', key: 'governance:grant:g' }] }]);
  });

  test('a malformed tag whose policy is gone is cleaned, recording no expiry', () => {
    const r = role('r', 'a', { 'governance:grant:g': 'expires=never' }, []);
    const plan = decideRole(r, emptyState('r'), { spec: specOf('a', 'r') }, new Map(), NOW, OPTS);
    expect(decisions(plan.steps)).toEqual(['cleaned:g']);
    expect(plan.steps[0].record!.expiresAt).toBeUndefined();
    expect(plan.steps[0].memory).toBeUndefined();
  });

  test('an expired grant whose document is not JSON is revoked with the text recorded as it was', () => {
    const r: GovernedRole = {
      ...role('r', 'a', { 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, []),
      policies: [{ kind: 'inline', name: 'g', document: '{not json' }],
    };
    const plan = decideRole(r, emptyState('r'), { spec: specOf('a', 'r') }, new Map(), NOW, OPTS);
    expect(decisions(plan.steps)).toEqual(['revoked:g']);
    expect(plan.steps[0].record!.policy).toEqual({ kind: 'inline', name: 'g', document: '{not json' });
    expect(plan.steps[0].memory!.grants!.g!.revokedDocumentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  test('patchState: null removes a grant memory and a baseline flag; an absent patch keeps both', () => {
    const state: LedgerRoleState = { ...memory('g', '2030-01-09T00:00:00Z'), baselineFlags: { base: 'h' }, specError: 'SPEC_MISSING' };
    expect(patchState(state, { grants: { g: null }, baselineFlags: { base: null }, specError: null })).toEqual({
      grants: {},
      baselineFlags: {},
    });
    expect(patchState(state, undefined)).toEqual({ grants: state.grants, baselineFlags: { base: 'h' }, specError: 'SPEC_MISSING' });
  });

  test.each([
    ['expired by tag', { 'governance:grant:g': tag('2030-01-09T00:00:00Z') }, undefined, true],
    ['inside the warning window', { 'governance:grant:g': tag('2030-01-12T00:00:00Z') }, undefined, true],
    ['well ahead', { 'governance:grant:g': tag('2030-02-01T00:00:00Z') }, undefined, false],
    ['well ahead, but recorded as expiring', { 'governance:grant:g': tag('2030-02-01T00:00:00Z') }, '2030-01-11T00:00:00Z', true],
    ['tag moved later than the record', { 'governance:grant:g': tag('2030-02-01T00:00:00Z') }, '2030-01-25T00:00:00Z', true],
    ['tag matches a record well ahead', { 'governance:grant:g': tag('2030-02-01T00:00:00Z') }, '2030-02-01T00:00:00Z', false],
    ['malformed tag', { 'governance:grant:g': 'expires=never' }, undefined, false],
  ])('renewalKeysNeeded: %s -> %s', (_why, tags, recorded, needed) => {
    const r = role('r', 'a', tags, ['g']);
    const state = new Map(recorded ? [['r', memory('g', recorded)]] : []);
    const keys = renewalKeysNeeded({ roles: [r] }, state, new Map([['a', { spec: specOf('a', 'r') }]]), { now: NOW }, OPTS);
    expect(keys).toEqual(needed ? ['RENEWAL#r#g'] : []);
  });
});

describe('each step, whole: record, memory, notice and actions', () => {
  const renewalBy = (until: string, approver: string, id = 'rn-1') => ({
    pk: 'RENEWAL#r#g',
    sk: `2030-01-08T00:00:00Z#${id}`,
    renewalId: id,
    roleName: 'r',
    grant: 'g',
    until,
    ticket: 'T-RENEW',
    requestedBy: 'bob',
    approvedBy: `arn:aws:iam::1:user/${approver}`,
    createdAt: '2030-01-08T00:00:00Z',
  });
  const expiring = (expiresAt: string) => role('r', 'a', { 'governance:grant:g': tag(expiresAt) }, [granted('g', expiresAt)]);

  test("renewed: the renewal's end and ticket, the previous expiry remembered, a warning forgotten, tag and condition moved", () => {
    const state = memory('g', '2030-01-09T00:00:00Z', { warnedFor: '2030-01-09T00:00:00Z' });
    const plan = decideRole(
      expiring('2030-01-09T00:00:00Z'),
      state,
      { spec: specOf('a', 'r') },
      new Map([['RENEWAL#r#g', [renewalBy('2030-01-20T00:00:00Z', 'alice')]]]),
      NOW,
      OPTS,
    );
    expect(plan.steps).toHaveLength(1);
    const step = plan.steps[0];
    expect(step.record).toEqual({
      decision: 'renewed',
      grant: 'g',
      expiresAt: '2030-01-20T00:00:00Z',
      requestedBy: 'bob',
      ticket: 'T-RENEW',
      message: 'g renewed until 2030-01-20T00:00:00Z (renewal rn-1, approved by arn:aws:iam::1:user/alice)',
    });
    expect(step.memory!.grants!.g).toEqual({
      expiresAt: '2030-01-20T00:00:00Z',
      previousExpiresAt: '2030-01-09T00:00:00Z',
      requestedBy: 'bob',
      ticket: 'T-1',
      status: 'active',
      origin: 'grant',
      firstSeenAt: '2030-01-01T00:00:00Z',
    });
    expect(step.actions.map(a => a.type)).toEqual(['put-inline', 'tag']);
    expect(JSON.parse((step.actions[0] as { document: string }).document)).toEqual(boundedDoc('2030-01-20T00:00:00Z'));
    expect(step.actions[1]).toEqual({ type: 'tag', key: 'governance:grant:g', value: tag('2030-01-20T00:00:00Z') });
    expect(step.notify).toBeUndefined();
  });

  test('renewed to an instant inside the warning window: renewed, then warned for the new end in the same sweep', () => {
    const plan = decideRole(
      expiring('2030-01-09T00:00:00Z'),
      memory('g', '2030-01-09T00:00:00Z'),
      { spec: specOf('a', 'r') },
      new Map([['RENEWAL#r#g', [renewalBy('2030-01-12T00:00:00Z', 'alice')]]]),
      NOW,
      OPTS,
    );
    expect(decisions(plan.steps)).toEqual(['renewed:g', 'warned:g']);
    expect(plan.steps[1].record!.expiresAt).toBe('2030-01-12T00:00:00Z');
    expect(plan.steps[1].memory!.grants!.g).toMatchObject({
      expiresAt: '2030-01-12T00:00:00Z',
      warnedFor: '2030-01-12T00:00:00Z',
      previousExpiresAt: '2030-01-09T00:00:00Z',
    });
  });

  test('renewed exactly to the edge of the warning window is warned; one second later is not', () => {
    const edge = decideRole(
      expiring('2030-01-09T00:00:00Z'),
      memory('g', '2030-01-09T00:00:00Z'),
      { spec: specOf('a', 'r') },
      new Map([['RENEWAL#r#g', [renewalBy('2030-01-13T00:00:00Z', 'alice')]]]),
      NOW,
      OPTS,
    );
    expect(decisions(edge.steps)).toEqual(['renewed:g', 'warned:g']);
    const after = decideRole(
      expiring('2030-01-09T00:00:00Z'),
      memory('g', '2030-01-09T00:00:00Z'),
      { spec: specOf('a', 'r') },
      new Map([['RENEWAL#r#g', [renewalBy('2030-01-13T00:00:01Z', 'alice')]]]),
      NOW,
      OPTS,
    );
    expect(decisions(after.steps)).toEqual(['renewed:g']);
  });

  test('a valid renewal that ends before the grant does is not a renewal: the grant is warned as before', () => {
    const plan = decideRole(
      expiring('2030-01-12T00:00:00Z'),
      memory('g', '2030-01-12T00:00:00Z'),
      { spec: specOf('a', 'r') },
      new Map([['RENEWAL#r#g', [renewalBy('2030-01-11T00:00:00Z', 'alice')]]]),
      NOW,
      OPTS,
    );
    expect(decisions(plan.steps)).toEqual(['warned:g']);
  });

  test("warned: the record, the remembered warning, and the owner's notice with the renew command", () => {
    const exp = '2030-01-12T00:00:00Z';
    const tags = { 'governance:owner': 'team@example.com', 'governance:grant:g': tag(exp) };
    const r = { ...role('r', 'a', tags, [granted('g', exp)]), owner: 'team@example.com' };
    const plan = decideRole(r, memory('g', exp), { spec: specOf('a', 'r', [], 'team@example.com') }, new Map(), NOW, OPTS);
    expect(plan.steps).toEqual([
      {
        roleName: 'r',
        grant: 'g',
        actions: [],
        record: {
          decision: 'warned',
          grant: 'g',
          expiresAt: '2030-01-12T00:00:00Z',
          requestedBy: 'bob',
          ticket: 'T-1',
          message: 'g expires at 2030-01-12T00:00:00Z (in about 48h); warning for owner team@example.com',
        },
        memory: {
          grants: {
            g: {
              expiresAt: '2030-01-12T00:00:00Z',
              requestedBy: 'bob',
              ticket: 'T-1',
              status: 'active',
              origin: 'grant',
              firstSeenAt: '2030-01-01T00:00:00Z',
              warnedFor: '2030-01-12T00:00:00Z',
            },
          },
        },
        notify: {
          subject: 'Grant g on r expires at 2030-01-12T00:00:00Z',
          message:
            'Grant g (requested by bob, ticket T-1) on role r expires at 2030-01-12T00:00:00Z. ' +
            'Renew it with: permission-decay renew --role r --grant g --until <instant> --ticket <ticket>',
        },
      },
    ]);
  });

  test("the owner notified is the approved spec's, not an owner tag changed by hand (which is put back as tampering)", () => {
    const exp = '2030-01-12T00:00:00Z';
    const tags = { 'governance:owner': 'agent@example.com', 'governance:grant:g': tag(exp) };
    const r = { ...role('r', 'a', tags, [granted('g', exp)]), owner: 'agent@example.com' };
    const plan = decideRole(r, memory('g', exp), { spec: specOf('a', 'r', [], 'team@example.com') }, new Map(), NOW, OPTS);
    expect(decisions(plan.steps)).toEqual(['tampering:', 'warned:g']);
    expect(plan.steps[0].actions).toEqual([{ type: 'tag', key: 'governance:owner', value: 'team@example.com' }]);
    expect(plan.steps[1].record!.message).toBe('g expires at 2030-01-12T00:00:00Z (in about 48h); warning for owner team@example.com');
  });

  test("revoked: the record holds the policy and the expiry; memory is revoked with the document's hash", () => {
    const plan = decideRole(
      expiring('2030-01-10T00:00:00Z'),
      memory('g', '2030-01-10T00:00:00Z'),
      { spec: specOf('a', 'r') },
      new Map(),
      NOW,
      OPTS,
    );
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0].record).toEqual({
      decision: 'revoked',
      grant: 'g',
      expiresAt: '2030-01-10T00:00:00Z',
      requestedBy: 'bob',
      ticket: 'T-1',
      policy: { kind: 'inline', name: 'g', document: JSON.stringify(boundedDoc('2030-01-10T00:00:00Z')) },
      message: 'g expired at 2030-01-10T00:00:00Z and was revoked',
    });
    expect(plan.steps[0].memory!.grants!.g).toMatchObject({
      status: 'revoked',
      revokedDocumentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  test('an expiry exactly at the end of the warning window is warned; a second later it is not', () => {
    expect(
      decisions(
        decideRole(expiring('2030-01-13T00:00:00Z'), memory('g', '2030-01-13T00:00:00Z'), { spec: specOf('a', 'r') }, new Map(), NOW, OPTS)
          .steps,
      ),
    ).toEqual(['warned:g']);
    expect(
      decideRole(expiring('2030-01-13T00:00:01Z'), memory('g', '2030-01-13T00:00:01Z'), { spec: specOf('a', 'r') }, new Map(), NOW, OPTS)
        .steps,
    ).toEqual([]);
  });

  test('first seen beyond the maximum duration is drift naming the expiry; exactly at the maximum it is a grant', () => {
    const tooFar = '2030-02-09T00:00:01Z';
    const beyondRole = role('r', 'a', { 'governance:grant:g': tag(tooFar) }, [granted('g', tooFar)]);
    const beyond = decideRole(beyondRole, emptyState('r'), { spec: specOf('a', 'r') }, new Map(), NOW, OPTS);
    expect(decisions(beyond.steps)).toEqual(['drift:g']);
    expect(beyond.steps[0].record!.message).toContain(
      'expiry 2030-02-09T00:00:01Z is more than the maximum grant duration (2592000s) from now',
    );
    const max = '2030-02-09T00:00:00Z';
    const atMaxRole = role('r', 'a', { 'governance:grant:g': tag(max) }, [granted('g', max)]);
    const atMax = decideRole(atMaxRole, emptyState('r'), { spec: specOf('a', 'r') }, new Map(), NOW, OPTS);
    expect(decisions(atMax.steps)).toEqual(['kept:g']);
  });

  test('case-twin tag keys make the grant drift, naming why', () => {
    const r = role('r', 'a', { 'governance:grant:g': tag('2030-01-20T00:00:00Z'), 'Governance:Grant:g': tag('2030-01-25T00:00:00Z') }, [
      'g',
    ]);
    const plan = decideRole(r, emptyState('r'), { spec: specOf('a', 'r') }, new Map(), NOW, OPTS);
    expect(decisions(plan.steps)).toEqual(['drift:g']);
    expect(plan.steps[0].record!.message).toContain('grant g has more than one expiry tag (keys that differ only in case)');
  });
});
