/**
 * One role, policy by policy: which decision family each policy belongs to
 * (baseline, drift, grant), the grant tag as the sweep reads it, the renewal
 * records a sweep must read, and the role's plan with its checkpoint first.
 */
import {
  AgentSpec,
  canonicalPolicyJson,
  DEFAULT_MAX_GRANT_DURATION_SECONDS,
  GrantMemory,
  GrantTag,
  grantTagKey,
  LedgerRoleState,
} from '../../contract';
import { checkpointStep } from '../checkpoint';
import { sha256 } from '../../contract';
import { PlanStep, RolePlan } from '../plan';
import { RenewalIndex, renewalKey } from '../renewal';
import { AccountSnapshot, GovernedRole, RolePolicy } from '../snapshot';
import { SpecIndex, SpecLookup } from '../specs';
import { attachmentOf, boundingAction, documentHash, parseDocument, removalActions } from './documents';
import { driftSteps } from './drift';
import { governanceTagSteps } from './governance-tags';
import { grantSteps } from './grant-expiry';
import { expiryMs, formatMs, grantTagsOf, isDoubleTagged, isFirstKeyOf, laterOf, MS, parsedTagAt, RoleGrantTags, tagIndexOf } from './memo';
import { DecideOptions, RoleContext } from './role-context';
import { isBaseline, SpecGrant, specDocumentText, specExpiryOf, specGrantOf, specLookupOf } from './spec-lookup';

/** The grants a sweep must read renewal records for: expired or expiring (by tag or by record), or whose tag moved later. */
export function renewalKeysNeeded(
  snapshot: AccountSnapshot,
  ledgerState: ReadonlyMap<string, LedgerRoleState>,
  specs: SpecIndex,
  clock: { readonly now: Date },
  options: DecideOptions,
): string[] {
  const horizon = formatMs(clock.now.getTime() + options.warningWindowSeconds * MS);
  const keys: string[] = [];
  for (const role of snapshot.roles) {
    const state = ledgerState.get(role.roleName);
    const spec = specLookupOf(role, specs).spec;
    const tags = grantTagsOf(role.tags);
    for (let i = 0; i < tags.parsed.length; i++) {
      const grant = tags.pairs[2 * i];
      if (!grant) continue;
      const parsed = parsedTagAt(tags, i);
      if (typeof parsed === 'string') continue;
      const tagExp = parsed.expiresAt;
      const mem = state?.grants[grant];
      const recorded = laterOf(mem?.expiresAt, spec ? specExpiryOf(specGrantOf(spec, grant), mem) : undefined);
      const needed = tagExp <= horizon || (recorded !== undefined && (recorded <= horizon || tagExp > recorded));
      if (needed) keys.push(renewalKey(role.roleName, grant));
    }
  }
  return keys;
}

/** Decides one role. Pure. */
export function decideRole(
  role: GovernedRole,
  state: LedgerRoleState,
  lookup: SpecLookup,
  renewals: RenewalIndex,
  now: Date,
  options: DecideOptions,
): RolePlan {
  const steps: PlanStep[] = [];
  const nowMs = now.getTime();
  const nowText = formatMs(nowMs);
  const spec = lookup.spec;
  const driftUntil = formatMs(nowMs + options.driftPeriodSeconds * MS);
  const horizonMs = nowMs + options.warningWindowSeconds * MS;
  const roleName = role.roleName;
  const owner = spec?.owner ?? role.owner ?? 'unknown';
  const agentId = spec?.agentId ?? role.agentId;

  if (lookup.error) {
    if (state.specError !== lookup.error.code) {
      steps.push({
        roleName,
        actions: [],
        record: {
          decision: 'error',
          errorCode: lookup.error.code,
          message: `${lookup.error.message}; drift and baseline checks skipped for this role`,
        },
        memory: { specError: lookup.error.code },
      });
    }
  }

  // Governance tags are hints the path outranks: one taken or changed is recorded and put back, and the role stays governed.
  steps.push(...governanceTagSteps(role, spec));

  const tags = grantTagsOf(role.tags);

  // Grant tags whose policy is gone (each grant once, in the order its first key comes).
  for (let first = 0; first < tags.parsed.length; first++) {
    const grant = tags.pairs[2 * first];
    if (hasPolicy(role, grant) || !isFirstKeyOf(tags, first)) continue;
    const i = tagIndexOf(tags, grant);
    const mem = state.grants[grant];
    if (mem && (mem.status === 'revoked' || mem.status === 'cleaned')) {
      // Already recorded (revoked, or cleaned by a sweep interrupted before its untag): finish without a new record.
      steps.push({ roleName, grant, actions: [{ type: 'untag', key: grantTagKey(grant) }] });
      continue;
    }
    const tagOrProblem = parsedTagAt(tags, i);
    const parsed = typeof tagOrProblem === 'string' ? undefined : tagOrProblem;
    const memory: GrantMemory | undefined = mem
      ? { ...mem, status: 'cleaned' }
      : parsed
        ? {
            expiresAt: parsed.expiresAt,
            requestedBy: parsed.requestedBy,
            ticket: parsed.ticket,
            status: 'cleaned',
            origin: 'grant',
            firstSeenAt: nowText,
          }
        : undefined;
    steps.push({
      roleName,
      grant,
      actions: [{ type: 'untag', key: grantTagKey(grant) }],
      record: {
        decision: 'cleaned',
        grant,
        expiresAt: parsed?.expiresAt,
        requestedBy: parsed?.requestedBy,
        ticket: parsed?.ticket,
        message: `grant tag of ${grant} removed: its policy is no longer on the role`,
      },
      memory: memory ? { grants: { [grant]: memory } } : undefined,
    });
  }

  const r: RoleContext = {
    roleName,
    state,
    spec,
    owner,
    renewals,
    options,
    nowMs,
    nowText,
    driftUntil,
    horizonMs,
    tags,
    steps,
  };
  for (const p of role.policies) decidePolicy(r, p);

  // A due freeze checkpoint comes first: it holds the role as read, before this sweep's changes.
  const checkpoint = checkpointStep(
    role,
    state,
    lookup,
    now,
    options.checkpointIntervalSeconds,
    steps.some(s => s.record),
  );
  if (checkpoint) steps.unshift(checkpoint);

  // A spec error that is gone is cleared with the role's next record.
  if (!lookup.error && state.specError !== undefined) {
    const i = steps.findIndex(s => s.record);
    if (i >= 0) steps[i] = { ...steps[i], memory: { ...steps[i].memory, specError: null } };
  }
  return { roleName, agentId, steps };
}

function hasPolicy(role: GovernedRole, name: string): boolean {
  for (const p of role.policies) if (p.name === name) return true;
  return false;
}

/** Decides one policy of a role: baseline, drift or grant. */
function decidePolicy(r: RoleContext, p: RolePolicy): void {
  const { roleName, state, spec, nowMs, horizonMs, steps } = r;
  const grant = p.name;
  const tagIndex = tagIndexOf(r.tags, grant);
  const tagValue = tagIndex >= 0 ? r.tags.pairs[2 * tagIndex + 1] : undefined;
  const mem = state.grants[grant];
  const specGrant = spec ? specGrantOf(spec, grant) : undefined;

  // Baseline: held against the approved spec, never removed.
  const base = spec ? isBaseline(spec, p) : undefined;
  if (base) {
    // Same text as the spec's document: equal without canonicalising (the usual case: the deploy wrote it).
    if (base.document && p.document !== undefined && p.document !== specDocumentText(base.document)) {
      const actual = parseDocument(p.document);
      const actualCanon = actual ? canonicalPolicyJson(actual) : p.document;
      if (actualCanon !== canonicalPolicyJson(base.document)) {
        const h = sha256(actualCanon);
        if (state.baselineFlags?.[grant] !== h) {
          steps.push({
            roleName,
            grant,
            actions: [],
            record: {
              decision: 'baseline-mismatch',
              grant,
              policy: attachmentOf(p),
              message: `baseline policy ${grant} no longer matches the approved spec; left in place for review`,
            },
            memory: { baselineFlags: { [grant]: h } },
          });
        }
      }
    }
    return;
  }

  if (tagValue === undefined && !spec) return; // may be baseline: the spec is unknown
  const { parsedTag, malformed } = readGrantTag(r.tags, tagIndex, grant, mem, specGrant, spec, nowMs);

  if (malformed !== undefined || (tagValue === undefined && !specGrant && !(mem && mem.status === 'active'))) {
    if (!spec) return; // drift decisions need the approved spec
    driftSteps(r, p, tagValue, malformed, mem, specGrant);
    return;
  }

  // A tagged grant (or a known grant whose tag was removed).
  // The document hash is only needed to match or write a revocation: most grants never pay for it.
  if (
    mem &&
    mem.status === 'revoked' &&
    parsedTag &&
    mem.expiresAt === parsedTag.expiresAt &&
    mem.revokedDocumentHash === documentHash(p)
  ) {
    // Revocation recorded, IAM not finished (interrupted or concurrent sweep): finish without a new record.
    steps.push({ roleName, grant, actions: removalActions(p, true) });
    return;
  }
  const requestedBy = parsedTag?.requestedBy ?? mem?.requestedBy ?? specGrant?.requestedBy ?? 'unknown';
  const ticket = parsedTag?.ticket ?? mem?.ticket ?? specGrant?.ticket ?? 'none';
  const recorded = laterOf(mem?.expiresAt, specExpiryOf(specGrant, mem));
  const firstSeen = !mem || mem.status !== 'active';
  // The common case: a known grant whose tag says what the ledger says, not yet inside the warning window. Nothing to do.
  if (
    !firstSeen &&
    parsedTag !== undefined &&
    parsedTag.expiresAt === recorded &&
    expiryMs(recorded) > horizonMs &&
    horizonMs >= nowMs &&
    boundingAction(p, recorded, mem.origin) === undefined
  )
    return;
  grantSteps(r, p, tagValue, parsedTag, mem, requestedBy, ticket, recorded, firstSeen);
}

/** What a grant's expiry tag says, as the sweep reads it: the parsed tag, or why it is no expiry at all. */
export interface GrantTagReading {
  readonly tagValue?: string;
  readonly parsedTag?: GrantTag;
  /** Why the tag is not an expiry (malformed, doubled, or further away than any request could make it). */
  readonly malformed?: string;
}

function readGrantTag(
  tags: RoleGrantTags,
  tagIndex: number,
  grant: string,
  mem: GrantMemory | undefined,
  specGrant: SpecGrant | undefined,
  spec: AgentSpec | undefined,
  nowMs: number,
): GrantTagReading {
  if (tagIndex < 0) return {};
  const tagValue = tags.pairs[2 * tagIndex + 1];
  const parsed = parsedTagAt(tags, tagIndex);
  // Two tag keys for one grant (they differ only in case): neither can be trusted, so the grant is drift.
  if (isDoubleTagged(tags, grant)) {
    return { tagValue, malformed: `grant ${grant} has more than one expiry tag (keys that differ only in case)` };
  }
  if (typeof parsed === 'string') return { tagValue, malformed: parsed };
  const maxSeconds = spec?.maxGrantDurationSeconds ?? DEFAULT_MAX_GRANT_DURATION_SECONDS;
  if (
    laterOf(mem?.status === 'active' ? mem.expiresAt : undefined, specExpiryOf(specGrant, mem)) === undefined &&
    expiryMs(parsed.expiresAt) - nowMs > maxSeconds * MS
  ) {
    // First seen with an expiry no request could have given it: not a grant, drift.
    return { tagValue, malformed: `expiry ${parsed.expiresAt} is more than the maximum grant duration (${maxSeconds}s) from now` };
  }
  return { tagValue, parsedTag: parsed };
}

/**
 * How the sweep reads one grant's tag on a role at `now` (the CLI's status
 * shows the same reading the sweep acts on), with the expiry the ledger or the
 * approved spec recorded for it.
 */
export function grantTagReading(
  role: GovernedRole,
  grant: string,
  state: LedgerRoleState,
  lookup: SpecLookup,
  now: Date,
): GrantTagReading & { readonly recorded?: string; readonly memory?: GrantMemory } {
  const tags = grantTagsOf(role.tags);
  const mem = state.grants[grant];
  const specGrant = lookup.spec ? specGrantOf(lookup.spec, grant) : undefined;
  const reading = readGrantTag(tags, tagIndexOf(tags, grant), grant, mem, specGrant, lookup.spec, now.getTime());
  const recorded = laterOf(mem?.status === 'active' ? mem.expiresAt : undefined, specExpiryOf(specGrant, mem));
  return { ...reading, ...(recorded !== undefined ? { recorded } : {}), ...(mem ? { memory: mem } : {}) };
}
