/**
 * Properties of the pure decision core (fast-check), over random roles
 * (baseline, tagged grants, untagged drift, malformed tags, case-twin tag keys,
 * expiries beyond the maximum grant duration, inline and managed), random
 * ledger memory (every status and origin, previousExpiresAt, revokedDocumentHash,
 * warnedFor), grants in the approved spec, several renewals per grant (valid and
 * not), spec errors, strict mode, checkpoints and a random clock:
 * - a baseline permission is never removed;
 * - a grant whose end has passed is removed unless a valid renewal moves it;
 * - a grant whose end is still ahead is never removed;
 * - the plan is idempotent: applied in memory, planning again yields nothing to do.
 *
 * The oracle is written here from the rules in the README ("What a sweep
 * decides"): when a grant ends (its tag, or the ledger's or the spec's earlier
 * record when the tag moved later) and which renewal is valid (approved by
 * someone other than the requester, ending in the future, within the maximum
 * duration from now, among the first maxRenewals by creation). It does not
 * call the renewal code under test.
 */
import * as fc from 'fast-check';
import {
  formatExpiry,
  formatGrantTag,
  GrantMemory,
  grantTagKey,
  LedgerRoleState,
  RenewalRecord,
  renewalPartition,
  SpecGrant,
} from '../../lib/contract';
import { documentHash } from '../../lib/sweeper/decide';
import { renewalKey } from '../../lib/sweeper/renewal';
import { RolePolicy } from '../../lib/sweeper/snapshot';
import { SpecLookup } from '../../lib/sweeper/specs';
import { emptyState } from '../../lib/sweeper/ledger';
import { applyInMemory, decide1, grantDoc, OPTIONS, plainDoc, role, ROLE, spec } from './decide-harness';

const RUNS = Number(process.env.RELIABILITY_PROPERTY_RUNS ?? (process.env.RELIABILITY_FULL === '1' ? 5000 : 500));
const BASE_MS = Date.UTC(2030, 0, 10);
const HOUR = 3600 * 1000;
const MAX_HOURS = 30 * 24; // the spec's maxGrantDurationSeconds (30 days)
const MAX_RENEWALS = 3;
const at = (hours: number) => formatExpiry(new Date(BASE_MS + hours * HOUR));
const hoursOf = (text: string) => (Date.parse(text) - BASE_MS) / HOUR;

interface RenewalSpec {
  h: number;
  approver: 'alice' | 'bob' | 'Bob@example.com';
  createdH: number;
}

interface GrantSpec {
  name: string;
  kind: 'inline' | 'managed';
  /** Hours from base of the tag's expiry, or a malformed tag, or no tag. */
  tag: { t: 'ok'; h: number } | { t: 'bad'; v: string } | { t: 'none' };
  /** A second tag key for the grant that differs only in case. */
  twin: boolean;
  /** Ledger memory of this grant. */
  memory: {
    status: GrantMemory['status'];
    origin: GrantMemory['origin'];
    h: number;
    previous: 'tag' | 'other' | null;
    revokedHash: 'match' | 'other' | null;
    warned: 'same' | 'other' | null;
  } | null;
  /** Hours of the expiry in the approved spec (a CDK grant), or null. */
  inSpec: number | null;
  renewals: RenewalSpec[];
}

/** Hours around the clock: past, inside the warning window (72 h), ahead, and beyond the maximum duration (720 h). */
const hours = fc.oneof(fc.integer({ min: -400, max: 1000 }), fc.constantFrom(-1, 0, 1, 71, 72, 73, 719, 720, 721, 800));

const grantArb: fc.Arbitrary<GrantSpec> = fc.record({
  name: fc.constantFrom('g1', 'g2', 'g3', 'g4'),
  kind: fc.constantFrom('inline' as const, 'managed' as const),
  tag: fc.oneof(
    { weight: 6, arbitrary: hours.map(h => ({ t: 'ok' as const, h })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('expires=never by=bob ticket=T', '', 'expires=2030-02-30T00:00:00Z by=bob ticket=T', 'by=bob')
        .map(v => ({ t: 'bad' as const, v })),
    },
    { weight: 1, arbitrary: fc.constant({ t: 'none' as const }) },
  ),
  twin: fc.boolean().map(b => b && Math.random() < 0.3),
  memory: fc.option(
    fc.record({
      status: fc.constantFrom('active' as const, 'revoked' as const, 'cleaned' as const),
      origin: fc.constantFrom('grant' as const, 'drift' as const),
      h: hours,
      previous: fc.constantFrom('tag' as const, 'other' as const, null),
      revokedHash: fc.constantFrom('match' as const, 'other' as const, null),
      warned: fc.constantFrom('same' as const, 'other' as const, null),
    }),
    { nil: null },
  ),
  inSpec: fc.option(hours, { nil: null }),
  renewals: fc.array(
    fc.record({
      h: fc.integer({ min: -100, max: 1000 }),
      approver: fc.constantFrom('alice' as const, 'bob' as const, 'Bob@example.com' as const),
      createdH: fc.integer({ min: -200, max: 0 }),
    }),
    { maxLength: 5 },
  ),
});

const scenarioArb = fc.record({
  grants: fc.uniqueArray(grantArb, { selector: g => g.name, maxLength: 4 }),
  baselineKinds: fc.subarray(['inline', 'managed'] as const),
  baselineTagged: fc.boolean(),
  nowH: fc.integer({ min: -100, max: 300 }),
  strict: fc.boolean(),
  /** The spec as the sweeper finds it. */
  specState: fc.constantFrom('ok', 'ok', 'ok', 'missing', 'mismatch', 'no-agent-tag'),
  /** A spec error the ledger remembers from an earlier sweep. */
  rememberedSpecError: fc.constantFrom(undefined, 'SPEC_MISSING', 'BAD_SPEC'),
  checkpointHours: fc.option(fc.constantFrom(1, 24, 240), { nil: undefined }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario) {
  const arn = (name: string) => `arn:aws:iam::123456789012:policy/${name}`;
  const policies: RolePolicy[] = [];
  const tags: Record<string, string> = {};
  const extraTags: Record<string, string> = {};
  const baseline = s.baselineKinds.map(kind => ({
    kind,
    name: kind === 'inline' ? 'base' : 'base-mp',
    ...(kind === 'managed' ? { arn: arn('base-mp') } : {}),
    document: plainDoc(),
  }));
  for (const b of baseline) {
    policies.push({ kind: b.kind, name: b.name, ...(b.arn ? { arn: b.arn } : {}), document: JSON.stringify(b.document) });
    // A grant tag naming a baseline policy (someone tagged it): the baseline must still never be removed.
    if (s.baselineTagged) tags[grantTagKey(b.name)] = formatGrantTag({ expiresAt: at(-300), requestedBy: 'bob', ticket: 'T' });
  }
  const grants: Record<string, GrantMemory> = {};
  const renewals = new Map<string, RenewalRecord[]>();
  const specGrants: SpecGrant[] = [];
  for (const g of s.grants) {
    const exp = g.tag.t === 'ok' ? at(g.tag.h) : at(100);
    const policy: RolePolicy = {
      kind: g.kind,
      name: g.name,
      ...(g.kind === 'managed' ? { arn: arn(g.name) } : {}),
      document: grantDoc(exp),
    };
    policies.push(policy);
    if (g.tag.t === 'ok') tags[grantTagKey(g.name)] = formatGrantTag({ expiresAt: exp, requestedBy: 'bob', ticket: 'T' });
    if (g.tag.t === 'bad') tags[grantTagKey(g.name)] = g.tag.v;
    // Twins are two keys for one grant: the twin goes beside a tag the grant already has.
    if (g.twin && g.tag.t !== 'none')
      extraTags[
        grantTagKey(g.name)
          .toUpperCase()
          .replace(/:([A-Z0-9]+)$/, (_m, n: string) => `:${n.toLowerCase()}`)
      ] = formatGrantTag({ expiresAt: at(50), requestedBy: 'bob', ticket: 'T' });
    if (g.memory) {
      const m = g.memory;
      grants[g.name] = {
        expiresAt: at(m.h),
        requestedBy: 'bob',
        ticket: 'T',
        status: m.status,
        origin: m.origin,
        firstSeenAt: at(-500),
        ...(m.previous ? { previousExpiresAt: m.previous === 'tag' ? exp : at(m.h - 24) } : {}),
        // The hash of the document as it is now ('match') is what a recorded revocation of this very policy holds.
        ...(m.revokedHash ? { revokedDocumentHash: m.revokedHash === 'match' ? documentHash(policy) : 'f'.repeat(64) } : {}),
        ...(m.warned ? { warnedFor: m.warned === 'same' ? at(m.h) : at(m.h + 1) } : {}),
      };
    }
    if (g.inSpec !== null)
      specGrants.push({
        kind: g.kind,
        name: g.name,
        ...(policy.arn ? { arn: policy.arn } : {}),
        document: JSON.parse(grantDoc(at(g.inSpec))),
        expiresAt: at(g.inSpec),
        requestedBy: 'bob',
        ticket: 'T',
        reason: 'r',
      });
    if (g.renewals.length) {
      renewals.set(
        renewalKey(ROLE, g.name),
        g.renewals.map((r, i) => ({
          pk: renewalPartition(ROLE, g.name),
          sk: `${at(s.nowH + r.createdH)}#r${String(i).padStart(2, '0')}`,
          renewalId: `r${i}`,
          roleName: ROLE,
          grant: g.name,
          until: at(r.h),
          ticket: 'T-2',
          requestedBy: 'bob',
          approvedBy: `arn:aws:iam::123456789012:user/${r.approver}`,
          createdAt: at(s.nowH + r.createdH),
        })),
      );
    }
  }
  const state: LedgerRoleState = {
    ...emptyState(ROLE),
    seq: Object.keys(grants).length ? 3 : 0,
    grants,
    ...(s.rememberedSpecError ? { specError: s.rememberedSpecError } : {}),
  };
  const okSpec = spec(baseline, specGrants);
  const lookup: SpecLookup =
    s.specState === 'ok'
      ? okSpec
      : s.specState === 'missing'
        ? { error: { code: 'SPEC_MISSING', message: 'no approved spec' } }
        : s.specState === 'mismatch'
          ? { error: { code: 'SPEC_ROLE_MISMATCH', message: 'spec names another role' } }
          : { error: { code: 'NO_AGENT_TAG', message: 'no agent tag' } };
  const r = role(policies, { ...tags, ...extraTags });
  const now = at(s.nowH);
  const options = { ...OPTIONS, strict: s.strict, ...(s.checkpointHours ? { checkpointIntervalSeconds: s.checkpointHours * 3600 } : {}) };
  return { r, state, lookup, renewals, now, options, baseline, specOk: s.specState === 'ok' };
}

function removed(plan: ReturnType<typeof decide1>): Set<string> {
  const out = new Set<string>();
  for (const a of plan.steps.flatMap(st => st.actions)) {
    if (a.type === 'delete-inline') out.add(a.policyName);
    if (a.type === 'detach') out.add(a.policyArn.slice(a.policyArn.lastIndexOf('/') + 1));
  }
  return out;
}

/** The oracle's valid renewal end (hours), from the README's rules; undefined when none is valid. */
function validRenewalEnd(g: GrantSpec, nowH: number): number | undefined {
  const ordered = g.renewals.map((r, i) => ({ ...r, i })).sort((a, b) => a.createdH - b.createdH || a.i - b.i);
  let best: number | undefined;
  ordered.forEach((r, ordinal) => {
    const approvedByAnother = r.approver === 'alice'; // 'bob' and 'Bob@example.com' are the requester, bob
    const ok = approvedByAnother && r.h > nowH && r.h - nowH <= MAX_HOURS && ordinal + 1 <= MAX_RENEWALS;
    if (ok && (best === undefined || r.h > best)) best = r.h;
  });
  return best;
}

/**
 * When a grant (well-formed tag, one key) ends, in hours, if it is judged as a grant at all;
 * undefined when it is drift (first seen beyond the maximum duration).
 */
function grantEnd(g: GrantSpec, s: Scenario): number | undefined {
  if (g.tag.t !== 'ok') return undefined;
  const tagH = g.tag.h;
  const recordedCandidates = [g.memory ? g.memory.h : undefined, s.specState === 'ok' && g.inSpec !== null ? g.inSpec : undefined].filter(
    (x): x is number => x !== undefined,
  );
  const recorded = recordedCandidates.length ? Math.max(...recordedCandidates) : undefined;
  const activeRecord = [
    g.memory?.status === 'active' ? g.memory.h : undefined,
    s.specState === 'ok' ? (g.inSpec ?? undefined) : undefined,
  ].some(x => x !== undefined);
  if (!activeRecord && tagH - s.nowH > MAX_HOURS) return undefined; // no request could give it: drift
  if (recorded === undefined) return tagH;
  if (tagH > recorded) return recorded; // moved later without the ledger knowing: ends at the record
  if (tagH < recorded && g.memory?.status === 'active' && g.memory.previous === 'tag') return recorded; // a renewal recorded, IAM not finished
  return tagH;
}

/** Grants whose fate the two grant properties judge: one well-formed tag key, a known spec. */
const judged = (g: GrantSpec, s: Scenario) => g.tag.t === 'ok' && !g.twin && s.specState === 'ok';

describe(`decision properties (${RUNS} runs each)`, () => {
  test('a baseline permission is never revoked (with the approved spec, or untagged)', () => {
    fc.assert(
      fc.property(scenarioArb, s => {
        const b = build(s);
        const plan = decide1(b.r, b.state, b.lookup, b.renewals, b.now, b.options);
        // Without the approved spec a baseline is indistinguishable from a grant: one carrying an expired grant
        // tag (someone tagged it) is revoked like any expired tagged grant (README: spec missing).
        if (!b.specOk && s.baselineTagged) return;
        for (const base of b.baseline) expect(removed(plan).has(base.name)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  test('a grant whose end has passed is removed unless a valid renewal moves its end', () => {
    fc.assert(
      fc.property(scenarioArb, s => {
        const b = build(s);
        const plan = decide1(b.r, b.state, b.lookup, b.renewals, b.now, b.options);
        for (const g of s.grants) {
          if (!judged(g, s)) continue;
          const end = grantEnd(g, s);
          if (end === undefined || end > s.nowH) continue;
          const renewed = validRenewalEnd(g, s.nowH);
          if (renewed !== undefined && renewed > end) continue;
          expect([g, s.nowH, removed(plan).has(g.name)]).toEqual([g, s.nowH, true]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('a grant whose end is still ahead is never removed (except finishing a revocation the ledger already holds)', () => {
    fc.assert(
      fc.property(scenarioArb, s => {
        const b = build(s);
        const plan = decide1(b.r, b.state, b.lookup, b.renewals, b.now, b.options);
        for (const g of s.grants) {
          if (!judged(g, s)) continue;
          const end = grantEnd(g, s);
          if (end === undefined || end <= s.nowH) continue;
          const tagH = (g.tag as { h: number }).h;
          // The ledger recorded the revocation of this very policy at this expiry: the sweep finishes it.
          if (g.memory?.status === 'revoked' && g.memory.h === tagH && g.memory.revokedHash === 'match') continue;
          expect([g, s.nowH, removed(plan).has(g.name)]).toEqual([g, s.nowH, false]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test("a renewed grant moves to the latest valid renewal's end, no later", () => {
    fc.assert(
      fc.property(scenarioArb, s => {
        const b = build(s);
        const plan = decide1(b.r, b.state, b.lookup, b.renewals, b.now, b.options);
        for (const st of plan.steps) {
          if (st.record?.decision !== 'renewed') continue;
          const g = s.grants.find(x => x.name === st.grant)!;
          expect([g.name, hoursOf(st.record.expiresAt!)]).toEqual([g.name, validRenewalEnd(g, s.nowH)]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('the plan is idempotent: applied, planning again yields nothing to do', () => {
    // Known, not fixed: a malformed tag (or a case twin) on a grant that also has a renewal is drift first
    // and renewed by the next sweep (two sweeps to converge; nothing wrongly removed or kept). Excluded here.
    // Known, not fixed (decide.test.ts holds it as a failing test): a spec grant whose tag ends before the
    // approved spec's expiry (shortened by hand, or re-tagged as drift at now + drift period) records
    // "kept: shortened" on every sweep, because the spec's later expiry stays the recorded one.
    const shortenedBelowSpec = (g: GrantSpec, s: Scenario) =>
      s.specState === 'ok' && g.inSpec !== null && (g.tag.t !== 'ok' || g.tag.h < g.inSpec || g.twin);
    fc.assert(
      fc.property(
        scenarioArb.filter(s => !s.grants.some(g => ((g.tag.t === 'bad' || g.twin) && g.renewals.length) || shortenedBelowSpec(g, s))),
        s => {
          const b = build(s);
          const plan = decide1(b.r, b.state, b.lookup, b.renewals, b.now, b.options);
          const applied = applyInMemory(b.r, b.state, plan, b.now);
          const again = decide1(applied.role, applied.state, b.lookup, b.renewals, b.now, b.options);
          expect(again.steps.map(st => ({ grant: st.grant, decision: st.record?.decision, actions: st.actions }))).toEqual([]);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
