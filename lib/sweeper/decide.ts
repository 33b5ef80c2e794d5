/**
 * Decide: a pure function of the account snapshot, the ledger's STATE items,
 * the approved specs, the renewal records and the clock, returning a plan. It
 * performs no I/O and mutates none of its inputs.
 *
 * Record policy (so that a second sweep in a row changes nothing): `kept` is
 * recorded when the ledger first sees a grant (or its expiry is shortened);
 * afterwards only changes are recorded. Steps without a record ("converge")
 * finish IAM work whose record already exists (a sweep interrupted between its
 * ledger write and its IAM call); they never write to the ledger.
 */
import {
  AgentSpec, canonicalPolicyJson, CheckpointBody, ContractError, Decision, DEFAULT_MAX_GRANT_DURATION_SECONDS, DRIFT_REQUESTER, DRIFT_TICKET,
  EXPIRY_CONDITION_KEY, EXPIRY_CONDITION_OPERATOR, formatExpiry, formatGrantTag, GOVERNED_ROLE_PATH, GrantMemory, GrantTag,
  grantDocumentWithExpiry, grantTagKey, LedgerRoleState, MANAGED_BY_VALUE, parseExpiry, parseGrantTag, PolicyAttachment,
  PolicyDocumentJson, policyNameOfGrantTag, specParameterName, SpecPolicy, StatementJson, statementsOf, TAG_AGENT, TAG_GRANT_PREFIX,
  TAG_MANAGED_BY, TAG_OWNER, withExpiryCondition,
} from '../private/contract';
import { checkpointStep } from './checkpoint';
import { emptyState, sha256 } from './ledger';
import { chooseRenewal, RenewalIndex, renewalKey } from './renewal';
import { AccountSnapshot, ForeignMarkedRole, GovernedRole, RolePolicy } from './snapshot';
import { SpecIndex, SpecLookup } from './specs';

export interface DecideOptions {
  /** Revoke drift at once instead of letting it decay. */
  readonly strict: boolean;
  readonly driftPeriodSeconds: number;
  readonly warningWindowSeconds: number;
  /** Seconds between freeze checkpoints of a role (lib/sweeper/checkpoint.ts). @default none */
  readonly checkpointIntervalSeconds?: number;
}

/** One IAM change. Every action is idempotent when applied again. */
export type IamAction =
  | { readonly type: 'put-inline'; readonly policyName: string; readonly document: string }
  | { readonly type: 'create-policy-version'; readonly policyArn: string; readonly document: string }
  | { readonly type: 'delete-inline'; readonly policyName: string }
  | { readonly type: 'detach'; readonly policyArn: string }
  | { readonly type: 'tag'; readonly key: string; readonly value: string }
  | { readonly type: 'untag'; readonly key: string };

/** What a step changes in the role's STATE item (null removes an entry). */
export interface StatePatch {
  readonly grants?: { readonly [grant: string]: GrantMemory | null };
  readonly baselineFlags?: { readonly [policy: string]: string | null };
  readonly specError?: string | null;
  /** The instant of a checkpoint this step records. */
  readonly lastCheckpointAt?: string;
  /** sha256 of the foreign marker this step records. */
  readonly foreignMarker?: string;
}

/** The record a step writes (the ledger adds role, time, run, actor and chain fields). */
export interface PlannedRecord {
  readonly decision: Decision;
  readonly grant?: string;
  readonly expiresAt?: string;
  readonly requestedBy?: string;
  readonly ticket?: string;
  readonly policy?: PolicyAttachment;
  readonly message: string;
  readonly errorCode?: string;
  readonly checkpoint?: CheckpointBody;
  /** The governance tags as found (foreign markers, governance tag tampering). */
  readonly governanceTags?: { readonly [key: string]: string };
}

/**
 * One step of a role's plan: write the record (with the STATE patch), then
 * make the IAM changes. Record first, so nothing is removed before it is
 * written down. A step without a record only converges IAM to the ledger.
 */
export interface PlanStep {
  readonly roleName: string;
  readonly grant?: string;
  readonly record?: PlannedRecord;
  readonly memory?: StatePatch;
  readonly actions: readonly IamAction[];
  /** Tell the owner (SNS). For `warned`, sent before the record so a failed send is retried. */
  readonly notify?: { readonly subject: string; readonly message: string };
}

export interface RolePlan {
  readonly roleName: string;
  readonly agentId?: string;
  readonly steps: readonly PlanStep[];
}

export interface SweepPlan {
  readonly at: string;
  readonly roles: readonly RolePlan[];
}

const MS = 1000;

/*
 * Memos of pure functions of strings. Tag values and instants repeat: across
 * roles (grants declared with one expiry literal and one ticket) and across
 * the sweeps of a warm Lambda (a tag keeps its value until it is renewed).
 * Bounded, and emptied when full, so a container never grows without end.
 */
const MEMO_LIMIT = 1 << 15;

function remember<K, V>(memo: Map<K, V>, key: K, value: V): V {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, value);
  return value;
}

/** A role's grant tags, read once per snapshot: renewalKeysNeeded and decide both need them. */
interface RoleGrantTags {
  /** grant, tag value, grant, tag value, ...: every grant tag key in the tags' order (two keys may name one grant: they differ in case). */
  readonly pairs: readonly string[];
  /** parseGrantTag of each pair's value, filled when first needed: the tag, or the error's message. */
  readonly parsed: (GrantTag | string | undefined)[];
}

/*
 * Keyed by the role's tags object. A snapshot is read once and never changed
 * (every field is readonly), so the tags parsed for renewalKeysNeeded serve
 * decide, and the entry goes when the snapshot does.
 */
const grantTagsMemo = new WeakMap<object, RoleGrantTags>();

function grantTagsOf(tags: { readonly [key: string]: string }): RoleGrantTags {
  const known = typeof tags === 'object' && tags !== null ? grantTagsMemo.get(tags) : undefined;
  if (known) return known;
  const pairs: string[] = [];
  for (const key of Object.keys(tags)) {
    const grant = policyNameOfGrantTag(key);
    if (grant !== undefined) pairs.push(grant, tags[key]);
  }
  const found: RoleGrantTags = { pairs, parsed: new Array(pairs.length / 2) };
  if (typeof tags === 'object' && tags !== null) grantTagsMemo.set(tags, found);
  return found;
}

/** The i-th grant tag, parsed: the tag, or why it is malformed. */
function parsedTagAt(t: RoleGrantTags, i: number): GrantTag | string {
  let parsed = t.parsed[i];
  if (parsed === undefined) {
    const value = t.pairs[2 * i + 1];
    parsed = tagValueMemo.get(value);
    if (parsed === undefined) {
      try { parsed = parseGrantTag(value); } catch (e) { parsed = (e as ContractError).message; }
      remember(tagValueMemo, value, parsed);
    }
    t.parsed[i] = parsed;
  }
  return parsed;
}

/** Tag value -> parseGrantTag, as a value: the tag, or the error's message. */
const tagValueMemo = new Map<string, GrantTag | string>();

/** The index of the grant's tag (the last key naming it), or -1. */
function tagIndexOf(t: RoleGrantTags, grant: string): number {
  for (let i = t.pairs.length / 2 - 1; i >= 0; i--) if (t.pairs[2 * i] === grant) return i;
  return -1;
}

/** True when more than one tag key names the grant. */
function isDoubleTagged(t: RoleGrantTags, grant: string): boolean {
  let n = 0;
  for (let i = 0; i < t.pairs.length; i += 2) if (t.pairs[i] === grant && ++n > 1) return true;
  return false;
}

const expiryMemo = new Map<string, number>();

/** parseExpiry(text).getTime(); throws as parseExpiry does. */
function expiryMs(text: string): number {
  const known = expiryMemo.get(text);
  return known !== undefined ? known : remember(expiryMemo, text, parseExpiry(text).getTime());
}

const formattedMemo = new Map<number, string>();

/** formatExpiry(new Date(ms)) (every role of a sweep formats the same few instants). */
function formatMs(ms: number): string {
  const known = formattedMemo.get(ms);
  return known !== undefined ? known : remember(formattedMemo, ms, formatExpiry(new Date(ms)));
}

/** Decides the whole sweep. */
export function decide(
  snapshot: AccountSnapshot, ledgerState: ReadonlyMap<string, LedgerRoleState>, specs: SpecIndex, renewals: RenewalIndex,
  clock: { readonly now: Date }, options: DecideOptions,
): SweepPlan {
  const at = formatExpiry(clock.now);
  const roles: RolePlan[] = snapshot.roles.map(role => {
    try {
      const state = ledgerState.get(role.roleName) ?? emptyState(role.roleName);
      return decideRole(role, state, specLookupOf(role, specs), renewals, clock.now, options);
    } catch (e) {
      // One role's unexpected input must not stop the sweep of the others.
      const message = `role ${role.roleName}: the sweeper could not decide (${(e as Error).message}); nothing changed on this role`;
      const record: PlannedRecord = { decision: 'error', errorCode: 'DECIDE_FAILED', message };
      return { roleName: role.roleName, agentId: role.agentId, steps: [{ roleName: role.roleName, actions: [], record }] };
    }
  });
  for (const marked of snapshot.foreignMarkers ?? []) {
    roles.push(decideForeignMarker(marked, ledgerState.get(marked.roleName) ?? emptyState(marked.roleName)));
  }
  return { at, roles };
}

/** The governance tags of a role (marker, agent, owner and grant tags), the claim a foreign marker makes. */
function governanceTagsOf(tags: { readonly [key: string]: string }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(tags).sort()) {
    const governance = key === TAG_MANAGED_BY || key === TAG_AGENT || key === TAG_OWNER || key.toLowerCase().startsWith(TAG_GRANT_PREFIX);
    if (governance) out[key] = tags[key];
  }
  return out;
}

/**
 * A role outside the governed path that carries governance tags: anyone who may
 * tag a role can make that claim, so it gives the sweeper no right to change the
 * role. Recorded (with an event) once per distinct set of tags, and never changed.
 */
export function decideForeignMarker(role: ForeignMarkedRole, state: LedgerRoleState): RolePlan {
  const governanceTags = governanceTagsOf(role.tags);
  const marker = sha256(`${role.path}\n${JSON.stringify(governanceTags)}`);
  if (state.foreignMarker === marker) return { roleName: role.roleName, steps: [] };
  const claimed = role.tags[TAG_AGENT] !== undefined ? ` claiming agent ${role.tags[TAG_AGENT]}` : '';
  return {
    roleName: role.roleName,
    steps: [{
      roleName: role.roleName, actions: [],
      record: {
        decision: 'foreign-marker', governanceTags,
        message: `role ${role.roleName} (path ${role.path})${claimed} carries governance tags but is not under the governed path `
          + `${GOVERNED_ROLE_PATH}: the sweeper does not govern it and changed nothing; `
          + 'remove the tags, or recreate the role with GovernedAgentRole',
      },
      memory: { foreignMarker: marker },
    }],
  };
}

/**
 * The spec lookup for a role: by its agent tag, checked against its name; when
 * the tag is missing or names another agent's spec, the spec whose roleName is
 * this role's (the path makes the role governed, the spec says as what).
 */
export function specLookupOf(role: GovernedRole, specs: SpecIndex): SpecLookup {
  const tagged = role.agentId !== undefined ? specs.get(role.agentId) : undefined;
  if (tagged?.spec && tagged.spec.roleName === role.roleName) return tagged;
  if (tagged?.error) return tagged;
  for (const found of specs.values()) if (found.spec && found.spec.roleName === role.roleName) return found;
  if (!role.agentId) {
    const message = `role ${role.roleName} has no governance:agent tag and no approved spec names it: deploy its agent's stack`;
    return { error: { code: 'NO_AGENT_TAG', message } };
  }
  if (!tagged) {
    const message = `no approved spec for agent ${role.agentId} (parameter ${specParameterName(role.agentId)}): deploy the agent's stack`;
    return { error: { code: 'SPEC_MISSING', message } };
  }
  const message = `approved spec of agent ${role.agentId} names role ${tagged.spec!.roleName}, not ${role.roleName}`;
  return { error: { code: 'SPEC_ROLE_MISMATCH', message } };
}

/**
 * The governance tags a governed role must carry: the marker always, the agent
 * and owner from the approved spec. A missing or changed one was taken by
 * someone, not by a deploy (CloudFormation writes them with the spec).
 */
function governanceTagSteps(role: GovernedRole, spec: AgentSpec | undefined): PlanStep[] {
  const expected: [string, string][] = [[TAG_MANAGED_BY, MANAGED_BY_VALUE]];
  if (spec) expected.push([TAG_AGENT, spec.agentId], [TAG_OWNER, spec.owner]);
  const wrong = expected.filter(([key, value]) => role.tags[key] !== value);
  if (wrong.length === 0) return [];
  const found = governanceTagsOf(role.tags);
  const described = wrong
    .map(([key, value]) => `${role.tags[key] === undefined ? `${key} was removed` : `${key} was changed to "${role.tags[key]}"`} (put back: ${value})`)
    .join('; ');
  return [{
    roleName: role.roleName, actions: wrong.map(([key, value]): IamAction => ({ type: 'tag', key, value })),
    record: {
      decision: 'tampering', governanceTags: found,
      message: `governed role ${role.roleName}: ${described}; the role stays governed by its path ${GOVERNED_ROLE_PATH}`,
    },
  }];
}

function isBaseline(spec: AgentSpec, p: RolePolicy): SpecPolicy | undefined {
  for (const b of spec.baseline) if (b.kind === p.kind && (p.kind === 'managed' && b.arn ? b.arn === p.arn : b.name === p.name)) return b;
  return undefined;
}

function parseDocument(text: string | undefined): PolicyDocumentJson | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as PolicyDocumentJson;
  } catch {
    return undefined;
  }
}

/** sha256 of a policy's canonical document (or of its ARN when the document is unknown). */
export function documentHash(p: RolePolicy): string {
  const doc = parseDocument(p.document);
  return sha256(doc ? canonicalPolicyJson(doc) : (p.document ?? p.arn ?? p.name));
}

export function attachmentOf(p: RolePolicy): PolicyAttachment {
  return { kind: p.kind, name: p.name, ...(p.arn ? { arn: p.arn } : {}), ...(p.document !== undefined ? { document: p.document } : {}) };
}

function removalActions(p: RolePolicy, withUntag: boolean): IamAction[] {
  const remove: IamAction = p.kind === 'inline' ? { type: 'delete-inline', policyName: p.name } : { type: 'detach', policyArn: p.arn! };
  return withUntag ? [remove, { type: 'untag', key: grantTagKey(p.name) }] : [remove];
}

/** Actions that move a grant's expiry to `until`: the policy's date condition, then the tag. */
function expiryActions(p: RolePolicy, until: string, requestedBy: string, ticket: string): IamAction[] {
  const actions: IamAction[] = [];
  const doc = parseDocument(p.document);
  if (doc && documentTakesCondition(doc)) {
    const document = JSON.stringify(grantDocumentWithExpiry(doc, until));
    if (canonicalPolicyJson(JSON.parse(document)) !== canonicalPolicyJson(doc)) {
      if (p.kind === 'inline') actions.push({ type: 'put-inline', policyName: p.name, document });
      else if (p.arn) actions.push({ type: 'create-policy-version', policyArn: p.arn, document });
    }
  }
  actions.push({ type: 'tag', key: grantTagKey(p.name), value: formatGrantTag({ expiresAt: until, requestedBy, ticket }) });
  return actions;
}

/** True when every statement is an object that can carry the expiry condition (IAM refuses anything else; a hand-made value must not stop the sweep). */
function documentTakesCondition(doc: PolicyDocumentJson): boolean {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return false;
  const s = doc.Statement;
  const list = Array.isArray(s) ? s : [s];
  return list.length > 0 && list.every(x => x !== null && typeof x === 'object' && !Array.isArray(x)
    && (x.Condition === undefined || (x.Condition !== null && typeof x.Condition === 'object')));
}

/** The expiry a statement's own date condition gives it, or undefined when it has none IAM would read as one. */
function statementExpiry(statement: StatementJson): string | undefined {
  const condition = statement.Condition as Record<string, Record<string, unknown>> | undefined;
  const value = condition?.[EXPIRY_CONDITION_OPERATOR]?.[EXPIRY_CONDITION_KEY];
  if (typeof value !== 'string') return undefined;
  try { return formatExpiry(parseExpiry(value)); } catch { return undefined; }
}

/** document text + expiry -> true when some statement has no date condition, or one later than the expiry. */
const unboundedMemo = new Map<string, boolean>();

/** True when the document does not end at `expiry` on its own: a statement lacks the date condition or carries a later one. */
export function isUnboundedBy(documentText: string, expiry: string): boolean {
  const key = `${expiry}\n${documentText}`;
  const known = unboundedMemo.get(key);
  if (known !== undefined) return known;
  const doc = parseDocument(documentText);
  let unbounded = false;
  if (doc && documentTakesCondition(doc)) {
    for (const st of statementsOf(doc)) {
      const own = statementExpiry(st);
      if (own === undefined || own > expiry) { unbounded = true; break; }
    }
  }
  return remember(unboundedMemo, key, unbounded);
}

/** The document with the date condition at `expiry` on every statement that lacks it or ends later; earlier ones are kept. */
export function documentBoundedBy(doc: PolicyDocumentJson, expiry: string): PolicyDocumentJson {
  return {
    ...doc, Version: doc.Version ?? '2012-10-17',
    Statement: statementsOf(doc).map(st => {
      const own = statementExpiry(st);
      return own !== undefined && own <= expiry ? st : withExpiryCondition(st, expiry);
    }),
  };
}

/**
 * The IAM change that makes a policy end at `expiry` on its own, or undefined
 * when it already does or cannot: AWS-managed policies have no document we may
 * change (they end by detachment at expiry), and customer-managed drift is a
 * policy the sweeper has no standing to version (it may be shared; it is
 * detached at expiry).
 */
function boundingAction(p: RolePolicy, expiry: string, origin: 'grant' | 'drift'): IamAction | undefined {
  if (p.document === undefined || !isUnboundedBy(p.document, expiry)) return undefined;
  if (p.kind === 'managed' && (origin === 'drift' || !p.arn)) return undefined;
  const document = JSON.stringify(documentBoundedBy(parseDocument(p.document)!, expiry));
  return p.kind === 'inline'
    ? { type: 'put-inline', policyName: p.name, document }
    : { type: 'create-policy-version', policyArn: p.arn!, document };
}

function laterOf(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b; // the expiry form sorts as text
}

/** The grants a sweep must read renewal records for: expired or expiring (by tag or by record), or whose tag moved later. */
export function renewalKeysNeeded(
  snapshot: AccountSnapshot, ledgerState: ReadonlyMap<string, LedgerRoleState>, specs: SpecIndex, clock: { readonly now: Date }, options: DecideOptions,
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
      const recorded = laterOf(state?.grants[grant]?.expiresAt, spec ? specGrantOf(spec, grant)?.expiresAt : undefined);
      if (tagExp <= horizon || (recorded !== undefined && (recorded <= horizon || tagExp > recorded))) keys.push(renewalKey(role.roleName, grant));
    }
  }
  return keys;
}

/** Decides one role. Pure. */
export function decideRole(
  role: GovernedRole, state: LedgerRoleState, lookup: SpecLookup, renewals: RenewalIndex, now: Date, options: DecideOptions,
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
        roleName, actions: [],
        record: { decision: 'error', errorCode: lookup.error.code, message: `${lookup.error.message}; drift and baseline checks skipped for this role` },
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
      : parsed ? { expiresAt: parsed.expiresAt, requestedBy: parsed.requestedBy, ticket: parsed.ticket, status: 'cleaned', origin: 'grant', firstSeenAt: nowText } : undefined;
    steps.push({
      roleName, grant, actions: [{ type: 'untag', key: grantTagKey(grant) }],
      record: { decision: 'cleaned', grant, expiresAt: parsed?.expiresAt, requestedBy: parsed?.requestedBy, ticket: parsed?.ticket, message: `grant tag of ${grant} removed: its policy is no longer on the role` },
      memory: memory ? { grants: { [grant]: memory } } : undefined,
    });
  }

  const r: RoleContext = {
    roleName, state, spec, owner, renewals, options, nowMs, nowText, driftUntil, horizonMs, tags, steps,
  };
  for (const p of role.policies) decidePolicy(r, p);

  // A due freeze checkpoint comes first: it holds the role as read, before this sweep's changes.
  const checkpoint = checkpointStep(role, state, lookup, now, options.checkpointIntervalSeconds, steps.some(s => s.record));
  if (checkpoint) steps.unshift(checkpoint);

  // A spec error that is gone is cleared with the role's next record.
  if (!lookup.error && state.specError !== undefined) {
    const i = steps.findIndex(s => s.record);
    if (i >= 0) steps[i] = { ...steps[i], memory: { ...steps[i].memory, specError: null } };
  }
  return { roleName, agentId, steps };
}

/** What every policy of one role is decided against: one object per role, so the common per-policy path allocates nothing. */
interface RoleContext {
  readonly roleName: string;
  readonly state: LedgerRoleState;
  readonly spec?: AgentSpec;
  readonly owner: string;
  readonly renewals: RenewalIndex;
  readonly options: DecideOptions;
  readonly nowMs: number;
  readonly nowText: string;
  readonly driftUntil: string;
  readonly horizonMs: number;
  readonly tags: RoleGrantTags;
  /** The role's plan so far; the functions below append to it. */
  readonly steps: PlanStep[];
}

type SpecGrant = AgentSpec['grants'][number];

function hasPolicy(role: GovernedRole, name: string): boolean {
  for (const p of role.policies) if (p.name === name) return true;
  return false;
}

/** True when the i-th grant tag is the first key naming its grant. */
function isFirstKeyOf(t: RoleGrantTags, i: number): boolean {
  for (let j = 0; j < i; j++) if (t.pairs[2 * j] === t.pairs[2 * i]) return false;
  return true;
}

function specGrantOf(spec: AgentSpec, grant: string): SpecGrant | undefined {
  for (const g of spec.grants) if (g.name === grant) return g;
  return undefined;
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
    if (base.document && p.document !== undefined && p.document !== JSON.stringify(base.document)) {
      const actual = parseDocument(p.document);
      const actualCanon = actual ? canonicalPolicyJson(actual) : p.document;
      if (actualCanon !== canonicalPolicyJson(base.document)) {
        const h = sha256(actualCanon);
        if (state.baselineFlags?.[grant] !== h) {
          steps.push({
            roleName, grant, actions: [],
            record: { decision: 'baseline-mismatch', grant, policy: attachmentOf(p), message: `baseline policy ${grant} no longer matches the approved spec; left in place for review` },
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
  if (mem && mem.status === 'revoked' && parsedTag && mem.expiresAt === parsedTag.expiresAt && mem.revokedDocumentHash === documentHash(p)) {
    // Revocation recorded, IAM not finished (interrupted or concurrent sweep): finish without a new record.
    steps.push({ roleName, grant, actions: removalActions(p, true) });
    return;
  }
  const requestedBy = parsedTag?.requestedBy ?? (mem?.requestedBy ?? specGrant?.requestedBy ?? 'unknown');
  const ticket = parsedTag?.ticket ?? (mem?.ticket ?? specGrant?.ticket ?? 'none');
  const recorded = laterOf(mem?.expiresAt, specGrant?.expiresAt);
  const firstSeen = !mem || mem.status !== 'active';
  // The common case: a known grant whose tag says what the ledger says, not yet inside the warning window. Nothing to do.
  if (!firstSeen && parsedTag !== undefined && parsedTag.expiresAt === recorded && expiryMs(recorded) > horizonMs && horizonMs >= nowMs
    && boundingAction(p, recorded, mem.origin) === undefined) return;
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
  tags: RoleGrantTags, tagIndex: number, grant: string, mem: GrantMemory | undefined, specGrant: SpecGrant | undefined,
  spec: AgentSpec | undefined, nowMs: number,
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
  if (laterOf(mem?.status === 'active' ? mem.expiresAt : undefined, specGrant?.expiresAt) === undefined
    && expiryMs(parsed.expiresAt) - nowMs > maxSeconds * MS) {
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
  role: GovernedRole, grant: string, state: LedgerRoleState, lookup: SpecLookup, now: Date,
): GrantTagReading & { readonly recorded?: string; readonly memory?: GrantMemory } {
  const tags = grantTagsOf(role.tags);
  const mem = state.grants[grant];
  const specGrant = lookup.spec ? specGrantOf(lookup.spec, grant) : undefined;
  const reading = readGrantTag(tags, tagIndexOf(tags, grant), grant, mem, specGrant, lookup.spec, now.getTime());
  const recorded = laterOf(mem?.status === 'active' ? mem.expiresAt : undefined, specGrant?.expiresAt);
  return { ...reading, ...(recorded !== undefined ? { recorded } : {}), ...(mem ? { memory: mem } : {}) };
}

/** True when `p` is one of the approved spec's baseline policies. */
export function isBaselinePolicy(lookup: SpecLookup, p: RolePolicy): boolean {
  return lookup.spec !== undefined && isBaseline(lookup.spec, p) !== undefined;
}

/** Drift: an untagged policy, or a malformed expiry tag (never "no expiry"). */
function driftSteps(
  r: RoleContext, p: RolePolicy, tagValue: string | undefined, malformed: string | undefined, mem: GrantMemory | undefined, specGrant: SpecGrant | undefined,
): void {
  const { roleName, owner, options, nowText, driftUntil, horizonMs, steps } = r;
  const grant = p.name;
  // Drift: an untagged policy, or a malformed expiry tag (never "no expiry").
  const recorded = laterOf(mem?.status === 'active' ? mem.expiresAt : undefined, specGrant?.expiresAt);
  const until = recorded !== undefined && recorded < driftUntil ? recorded : driftUntil;
  const bounds = boundingAction(p, until, 'drift') !== undefined;
  const memory: GrantMemory = {
    expiresAt: until, requestedBy: DRIFT_REQUESTER, ticket: DRIFT_TICKET, status: 'active', origin: 'drift', firstSeenAt: mem?.firstSeenAt ?? nowText,
    ...(bounds ? { boundedDocumentHash: documentHash(p) } : {}),
    // The drift notice already tells the owner when it decays: inside the warning window that is the warning.
    ...(expiryMs(until) <= horizonMs ? { warnedFor: until } : {}),
  };
  const expiredDriftRevocation = (m: GrantMemory): PlanStep => ({
    roleName, grant, actions: removalActions(p, true),
    record: { decision: 'revoked', grant, expiresAt: m.expiresAt, policy: attachmentOf(p), requestedBy: DRIFT_REQUESTER, ticket: DRIFT_TICKET, message: `drift policy ${grant} expired at ${m.expiresAt} and was revoked` },
    memory: { grants: { [grant]: { ...m, status: 'revoked', revokedDocumentHash: documentHash(p) } } },
  });
  const why = malformed !== undefined ? `malformed expiry tag "${tagValue}" (${malformed})` : `policy ${grant} is neither baseline nor a tagged grant`;
  if (!options.strict && malformed !== undefined && mem?.status === 'active' && mem.origin === 'drift' && mem.expiresAt === until && mem.warnedFor === memory.warnedFor) {
    // Drift already recorded with this expiry (a sweep interrupted before its re-tag): re-tag without a new record.
    steps.push({ roleName, grant, actions: driftDecayActions(p, until) });
    if (until <= nowText) steps.push(expiredDriftRevocation(memory));
    return;
  }
  if (options.strict) {
    // Remembered as already expired, so an interrupted strict sweep revokes it next time.
    const strictMemory: GrantMemory = { ...memory, expiresAt: nowText };
    steps.push({
      roleName, grant, actions: [],
      record: { decision: 'drift', grant, policy: attachmentOf(p), requestedBy: DRIFT_REQUESTER, ticket: DRIFT_TICKET, message: `${why}; strict mode revokes it at once` },
      memory: { grants: { [grant]: strictMemory } },
      notify: { subject: `Drift revoked on ${roleName}`, message: `${why}. Strict mode revoked it at once (owner ${owner}).` },
    });
    steps.push({
      roleName, grant, actions: removalActions(p, tagValue !== undefined),
      record: { decision: 'revoked', grant, policy: attachmentOf(p), requestedBy: DRIFT_REQUESTER, ticket: DRIFT_TICKET, message: `drift policy ${grant} revoked (strict mode)` },
      memory: { grants: { [grant]: { ...strictMemory, status: 'revoked', revokedDocumentHash: documentHash(p) } } },
    });
  } else {
    steps.push({
      roleName, grant, actions: driftDecayActions(p, until),
      record: { decision: 'drift', grant, policy: attachmentOf(p), expiresAt: until, requestedBy: DRIFT_REQUESTER, ticket: DRIFT_TICKET, message: `${why}; it decays at ${until}` },
      memory: { grants: { [grant]: memory } },
      notify: { subject: `Drift found on ${roleName}`, message: `${why}. It now expires at ${until} unless it is requested properly (owner ${owner}).` },
    });
    // The recorded expiry this drift keeps has already passed: revoke in this sweep, not the next.
    if (until <= nowText) steps.push(expiredDriftRevocation(memory));
  }
}

/**
 * Drift decays like a grant: the date condition of its expiry on an inline
 * document (IAM ends it even if no sweep runs), then the canonical drift tag,
 * which replaces a malformed or too-far one.
 */
function driftDecayActions(p: RolePolicy, until: string): IamAction[] {
  const bound = boundingAction(p, until, 'drift');
  const value = formatGrantTag({ expiresAt: until, requestedBy: DRIFT_REQUESTER, ticket: DRIFT_TICKET });
  const tag: IamAction = { type: 'tag', key: grantTagKey(p.name), value };
  return bound ? [bound, tag] : [tag];
}

/** A tagged grant (or a known grant whose tag was removed) with something to record or converge. */
function grantSteps(
  r: RoleContext, p: RolePolicy, tagValue: string | undefined, parsedTag: GrantTag | undefined, mem: GrantMemory | undefined,
  requestedBy: string, ticket: string, recorded: string | undefined, firstSeen: boolean,
): void {
  const { roleName, spec, owner, renewals, nowMs, nowText, horizonMs } = r;
  const grant = p.name;
  let current: GrantMemory = {
    expiresAt: recorded ?? parsedTag!.expiresAt, requestedBy, ticket, status: 'active', origin: mem?.origin ?? 'grant',
    firstSeenAt: firstSeen ? nowText : mem!.firstSeenAt,
    ...(mem?.warnedFor && !firstSeen ? { warnedFor: mem.warnedFor } : {}),
    ...(mem?.previousExpiresAt && !firstSeen ? { previousExpiresAt: mem.previousExpiresAt } : {}),
    ...(mem?.boundedDocumentHash && !firstSeen ? { boundedDocumentHash: mem.boundedDocumentHash } : {}),
  };
  const grantSteps: PlanStep[] = [];
  const tagExp = parsedTag?.expiresAt;

  if (recorded !== undefined && tagExp === undefined) {
    if (mem?.origin === 'drift' && mem.status === 'active') {
      grantSteps.push({ roleName, grant, actions: expiryActions(p, recorded, requestedBy, ticket).filter(a => a.type === 'tag') });
    } else {
      grantSteps.push({
        roleName, grant, actions: expiryActions(p, recorded, requestedBy, ticket).filter(a => a.type === 'tag'),
        record: { decision: 'tampering', grant, expiresAt: recorded, requestedBy, ticket, message: `expiry tag of ${grant} was removed; re-tagged with its recorded expiry ${recorded}` },
        memory: { grants: { [grant]: current } },
      });
    }
  } else if (recorded !== undefined && tagExp !== undefined && tagExp > recorded) {
    // A tag moved to a renewal's end is not tampering, even once that renewal has ended (a restore the sweeper saw late).
    const covering = chooseRenewal(renewals.get(renewalKey(roleName, grant)), roleName, grant, requestedBy, nowMs, spec, true);
    if (!covering || covering.until < tagExp) {
      grantSteps.push({
        roleName, grant, actions: [{ type: 'tag', key: grantTagKey(grant), value: formatGrantTag({ expiresAt: recorded, requestedBy, ticket }) }],
        record: { decision: 'tampering', grant, expiresAt: recorded, requestedBy, ticket, message: `expiry tag of ${grant} moved from ${recorded} to ${tagExp} without a renewal; the grant ends at its recorded expiry ${recorded}` },
        memory: { grants: { [grant]: current } },
      });
    }
  } else if (recorded !== undefined && tagExp !== undefined && tagExp < recorded) {
    if (mem && mem.status === 'active' && mem.previousExpiresAt === tagExp) {
      // A renewal was recorded but its IAM change did not finish: finish it.
      grantSteps.push({ roleName, grant, actions: expiryActions(p, recorded, requestedBy, ticket) });
    } else {
      current = { ...current, expiresAt: tagExp };
      grantSteps.push({
        roleName, grant, actions: [],
        record: { decision: 'kept', grant, expiresAt: tagExp, requestedBy, ticket, message: `expiry of ${grant} shortened from ${recorded} to ${tagExp}` },
        memory: { grants: { [grant]: current } },
      });
    }
  }

  const warn = (expiry: string, expiryAtMs: number) => {
    current = { ...current, warnedFor: expiry };
    const left = Math.round((expiryAtMs - nowMs) / 3600000);
    grantSteps.push({
      roleName, grant, actions: [],
      record: { decision: 'warned', grant, expiresAt: expiry, requestedBy, ticket, message: `${grant} expires at ${expiry} (in about ${left}h); warning for owner ${owner}` },
      memory: { grants: { [grant]: stripped(current) } },
      notify: { subject: `Grant ${grant} on ${roleName} expires at ${expiry}`, message: `Grant ${grant} (requested by ${requestedBy}, ticket ${ticket}) on role ${roleName} expires at ${expiry}. Renew it with: permission-decay renew --role ${roleName} --grant ${grant} --until <instant> --ticket <ticket>` },
    });
  };
  const effective = current.expiresAt;
  const effMs = expiryMs(effective);
  if (effMs <= nowMs || effMs <= horizonMs) {
    const renewal = chooseRenewal(renewals.get(renewalKey(roleName, grant)), roleName, grant, requestedBy, nowMs, spec);
    if (renewal && renewal.until > effective) {
      current = { ...current, expiresAt: renewal.until, previousExpiresAt: effective, warnedFor: undefined };
      grantSteps.push({
        roleName, grant, actions: expiryActions(p, renewal.until, requestedBy, ticket),
        record: { decision: 'renewed', grant, expiresAt: renewal.until, requestedBy, ticket: renewal.ticket, message: `${grant} renewed until ${renewal.until} (renewal ${renewal.renewalId}, approved by ${renewal.approvedBy})` },
        memory: { grants: { [grant]: stripped(current) } },
      });
      // Renewed to an instant still inside the warning window: warn now, so the next sweep has nothing to add.
      const untilMs = expiryMs(renewal.until);
      if (untilMs <= horizonMs) warn(renewal.until, untilMs);
    } else if (effMs <= nowMs) {
      current = { ...current, status: 'revoked', revokedDocumentHash: documentHash(p) };
      grantSteps.push({
        // Untag too when an earlier step of this plan put the tag back (a removed tag re-tagged as tampering).
        roleName, grant, actions: removalActions(p, tagValue !== undefined || grantSteps.some(st => st.actions.some(a => a.type === 'tag'))),
        record: { decision: 'revoked', grant, expiresAt: effective, requestedBy, ticket, policy: attachmentOf(p), message: `${grant} expired at ${effective} and was revoked` },
        memory: { grants: { [grant]: current } },
      });
    } else if (current.warnedFor !== effective) {
      warn(effective, effMs);
    }
  }

  if (firstSeen && !grantSteps.some(s => s.record)) {
    grantSteps.unshift({
      roleName, grant, actions: [],
      record: { decision: 'kept', grant, expiresAt: current.expiresAt, requestedBy, ticket, message: `grant ${grant} first seen; expires at ${current.expiresAt}` },
      memory: { grants: { [grant]: current } },
    });
  }
  // A grant still on the role must end in IAM at its expiry even if no sweep runs again: a hand-written grant
  // (tagged, but without the date condition, or with a later one) gets the condition, its old document recorded first.
  const rewrites = grantSteps.some(st => st.actions.some(a => a.type === 'put-inline' || a.type === 'create-policy-version'));
  const bounding = current.status === 'active' && !rewrites ? boundingAction(p, current.expiresAt, current.origin) : undefined;
  if (bounding) {
    const hash = documentHash(p);
    if (current.boundedDocumentHash === hash) {
      // This document was recorded and its bounding planned, but the IAM change did not finish: finish it.
      grantSteps.push({ roleName, grant, actions: [bounding] });
    } else {
      grantSteps.push({
        roleName, grant, actions: [bounding],
        record: {
          decision: 'repaired', grant, expiresAt: current.expiresAt, requestedBy, ticket, policy: attachmentOf(p),
          message: `statements of ${grant} did not all carry the date condition of its expiry ${current.expiresAt}; `
            + 'added, so IAM ends it then even if no sweep runs',
        },
        memory: { grants: { [grant]: stripped({ ...current, boundedDocumentHash: hash }) } },
      });
    }
  }
  r.steps.push(...grantSteps);
}

function stripped(m: GrantMemory): GrantMemory {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) if (v !== undefined) out[k] = v;
  return out as unknown as GrantMemory;
}

/** Applies a step's patch to a STATE body. Pure. */
export function patchState(
  state: LedgerRoleState, patch: StatePatch | undefined,
): Pick<LedgerRoleState, 'grants' | 'baselineFlags' | 'specError' | 'lastCheckpointAt' | 'foreignMarker'> {
  const grants: Record<string, GrantMemory> = { ...state.grants };
  for (const [k, v] of Object.entries(patch?.grants ?? {})) {
    if (v === null) delete grants[k]; else grants[k] = stripped(v);
  }
  const flags: Record<string, string> = { ...(state.baselineFlags ?? {}) };
  for (const [k, v] of Object.entries(patch?.baselineFlags ?? {})) {
    if (v === null) delete flags[k]; else flags[k] = v;
  }
  const specError = patch && 'specError' in patch ? (patch.specError ?? undefined) : state.specError;
  const lastCheckpointAt = patch?.lastCheckpointAt ?? state.lastCheckpointAt;
  const foreignMarker = patch?.foreignMarker ?? state.foreignMarker;
  return {
    grants, baselineFlags: flags, ...(specError !== undefined ? { specError } : {}),
    ...(lastCheckpointAt !== undefined ? { lastCheckpointAt } : {}),
    ...(foreignMarker !== undefined ? { foreignMarker } : {}),
  };
}
