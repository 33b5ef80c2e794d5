/**
 * The governance contract: tag schema, expiry format, approved-spec shape,
 * ledger record shapes and event shapes.
 *
 * The construct (synth time), the sweeper (run time) and the CLI all import
 * this module. Nothing else spells a tag key, parses an expiry or shapes a
 * ledger record. README "The contract" documents the same rules for users.
 */

// ---------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------

/** Every governed role carries this tag with value {@link MANAGED_BY_VALUE}. */
export const TAG_MANAGED_BY = 'governance:managed-by';
export const MANAGED_BY_VALUE = 'permission-decay';
/** The agent id of a governed role. */
export const TAG_AGENT = 'governance:agent';
/** A contact for the agent's owner. */
export const TAG_OWNER = 'governance:owner';
/**
 * Digest of the approved spec the deploy wrote with the role (CloudFormation,
 * in the same deploy as the spec parameter, which carries it as `digest`): the
 * sweeper reads specs from SSM only when a role's digest is not the one cached.
 */
export const TAG_SPEC_DIGEST = 'governance:spec-digest';
/** Prefix of a grant's expiry tag; the rest of the key is the grant's policy name. */
export const TAG_GRANT_PREFIX = 'governance:grant:';
/**
 * Marks the sweeper's own resources (function, rule, role, topic, queue, key,
 * log group, alarms) with value {@link SWEEPER_COMPONENT_VALUE}, so governed
 * roles' boundaries can deny tampering with them. Not `governance:managed-by`:
 * that would make the sweeper's role a governed role.
 */
export const TAG_COMPONENT = 'governance:component';
export const SWEEPER_COMPONENT_VALUE = 'permission-decay-sweeper';
/**
 * The IAM path of every governed role. A role's path is fixed when it is
 * created and is part of its ARN, so it is the anchor of governance that no
 * one can take away afterwards: the boundary's protections and the sweeper's
 * scope key on it, and the governance tags are hints checked against it.
 */
export const GOVERNED_ROLE_PATH = '/permission-decay/agents/';
/** The IAM path of the sweeper's own role (never a governed role). */
export const SWEEPER_ROLE_PATH = '/permission-decay/sweeper/';
/** Compliance regime of a resource or an agent (issue 7). */
export const TAG_COMPLIANCE = 'governance:compliance';

// ---------------------------------------------------------------------------
// Delegation session tags (issue 7)
// ---------------------------------------------------------------------------
//
// An agent that assumes another agent's role must pass these session tags, so
// every call down a chain is attributable in CloudTrail. The origin is
// transitive: set on the first hop and inherited, unchangeable, by every later
// session of the chain. The delegator and the chain are set on every hop (not
// transitive): a transitive tag cannot be set again later in the chain, so a
// transitive chain could never grow and a transitive delegator could never
// name the next hop.

/** Session tag: the agent that started the chain (transitive). */
export const SESSION_TAG_ORIGIN = 'governance:origin-agent';
/** Session tag: the agent making this hop (set on every hop). */
export const SESSION_TAG_DELEGATED_BY = 'governance:delegated-by';
/** Session tag: the agents of the chain so far, origin first, joined by {@link DELEGATION_CHAIN_SEPARATOR} (set on every hop). */
export const SESSION_TAG_CHAIN = 'governance:delegation-chain';
/** Separates agent ids in the chain tag (agent ids never contain it). */
export const DELEGATION_CHAIN_SEPARATOR = '/';
/** Every delegation session tag key. */
export const DELEGATION_SESSION_TAGS = [SESSION_TAG_ORIGIN, SESSION_TAG_DELEGATED_BY, SESSION_TAG_CHAIN] as const;
/** Session tag keys a delegation marks transitive. */
export const DELEGATION_TRANSITIVE_TAGS = [SESSION_TAG_ORIGIN] as const;
/** Prefix of the grant that carries a time-bound delegation: `delegate-to-<agentId>`. */
export const DELEGATION_GRANT_PREFIX = 'delegate-to-';

/** The name of the grant (inline policy) that carries a time-bound delegation to `toAgentId`. */
export function delegationGrantName(toAgentId: string): string {
  return `${DELEGATION_GRANT_PREFIX}${toAgentId}`;
}

/** IAM limits that the contract must respect. */
export const IAM_LIMITS = {
  /** Tag keys: 1..128 characters. */
  tagKeyMaxLength: 128,
  /** Tag values: 0..256 characters. */
  tagValueMaxLength: 256,
  /** Tags on one role. */
  maxTagsPerRole: 50,
  /** Inline policy names: 1..128 characters. */
  policyNameMaxLength: 128,
  /** Aggregate size of a role's inline policies (characters, whitespace not counted). */
  inlinePolicyAggregateChars: 10240,
  /** Size of one managed policy document (characters, whitespace not counted). */
  managedPolicyChars: 6144,
  /** Managed policies attached to a role (default quota; can be raised to 20). */
  maxManagedPoliciesPerRole: 10,
} as const;

/** Characters IAM accepts in tag keys and values. */
export const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** Characters we accept in one field of a grant tag value (no spaces: space separates fields). */
export const GRANT_FIELD_CHARS = /^[A-Za-z0-9_.:/=+\-@]+$/;
/** Characters a grant (policy) name may use: what both an IAM policy name and a tag key accept. */
export const GRANT_NAME_CHARS = /^[A-Za-z0-9_.+=@\-]+$/;
export const GRANT_NAME_MAX_LENGTH = IAM_LIMITS.tagKeyMaxLength - TAG_GRANT_PREFIX.length;

/** The expiry tag key for a grant whose policy is named `policyName`. */
export function grantTagKey(policyName: string): string {
  return `${TAG_GRANT_PREFIX}${policyName}`;
}

/** The policy name of a grant tag key, or undefined when the key is not a grant tag. */
export function policyNameOfGrantTag(tagKey: string): string | undefined {
  if (tagKey.length <= TAG_GRANT_PREFIX.length) return undefined;
  if (tagKey.slice(0, TAG_GRANT_PREFIX.length).toLowerCase() !== TAG_GRANT_PREFIX) return undefined;
  return tagKey.slice(TAG_GRANT_PREFIX.length);
}

// ---------------------------------------------------------------------------
// Expiry instants
// ---------------------------------------------------------------------------

/** The one expiry format: an absolute UTC instant to the second, e.g. 2026-12-31T00:00:00Z. */
export const EXPIRY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** A problem with an input, with a code for programs and a message for people. */
export class ContractError extends Error {
  constructor(public readonly code: string, message: string) {
    super(message);
    this.name = 'ContractError';
  }
}

/**
 * Parses an expiry instant. Only the exact form YYYY-MM-DDTHH:MM:SSZ is
 * accepted, and the calendar date must exist: a malformed expiry is an error,
 * never "no expiry".
 */
export function parseExpiry(text: string, what = 'expiry'): Date {
  const m = EXPIRY_PATTERN.exec(text);
  if (!m) {
    throw new ContractError('BAD_EXPIRY', `${what} "${text}" is not an instant of the form YYYY-MM-DDTHH:MM:SSZ (UTC)`);
  }
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d
    || date.getUTCHours() !== h || date.getUTCMinutes() !== mi || date.getUTCSeconds() !== s) {
    throw new ContractError('BAD_EXPIRY', `${what} "${text}" is not a real calendar instant`);
  }
  return date;
}

/**
 * Parses an instant given by a person (CLI flags): the expiry form, or any
 * ISO-8601 instant with an explicit zone (Z or ±HH:MM). Returns it in the
 * expiry form, truncated to the second.
 */
export function normalizeInstant(text: string, what = 'instant'): string {
  if (EXPIRY_PATTERN.test(text)) return formatExpiry(parseExpiry(text, what));
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
  const ms = iso.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) {
    throw new ContractError('BAD_INSTANT', `${what} "${text}" is not an ISO-8601 instant with a time zone, e.g. 2026-12-31T00:00:00Z`);
  }
  return formatExpiry(new Date(ms));
}

/** Formats an instant in the expiry form (seconds, UTC, Z). */
export function formatExpiry(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new ContractError('BAD_EXPIRY', 'cannot format an invalid date');
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------
// Grant tag values
// ---------------------------------------------------------------------------

/** What a grant's expiry tag says. */
export interface GrantTag {
  readonly expiresAt: string;
  readonly requestedBy: string;
  readonly ticket: string;
}

/** Requester recorded on grants that the sweeper found by hand-added (drift). */
export const DRIFT_REQUESTER = 'permission-decay/drift';
/** Ticket recorded on drift grants. */
export const DRIFT_TICKET = 'none';

const GRANT_TAG_FIELDS = ['expires', 'by', 'ticket'] as const;

/** Formats a grant tag value: `expires=<instant> by=<requester> ticket=<ticket>`. Throws on bad fields. */
export function formatGrantTag(tag: GrantTag): string {
  parseExpiry(tag.expiresAt, 'grant expiry');
  for (const [field, value] of [['requester', tag.requestedBy], ['ticket', tag.ticket]] as const) {
    if (!GRANT_FIELD_CHARS.test(value)) {
      throw new ContractError('BAD_TAG_FIELD',
        `${field} "${value}" is empty or has characters a grant tag cannot hold (allowed: letters, digits and _ . : / = + - @, no spaces)`);
    }
  }
  const value = `expires=${tag.expiresAt} by=${tag.requestedBy} ticket=${tag.ticket}`;
  if (value.length > IAM_LIMITS.tagValueMaxLength) {
    throw new ContractError('TAG_TOO_LONG',
      `grant tag value is ${value.length} characters; IAM allows ${IAM_LIMITS.tagValueMaxLength}: shorten the requester or ticket`);
  }
  return value;
}

/**
 * Parses a grant tag value strictly: exactly the fields expires, by and ticket,
 * each once, in any order, separated by single spaces. Anything else throws a
 * ContractError; callers treat such a grant as drift, never as "no expiry".
 */
export function parseGrantTag(value: string): GrantTag {
  if (value.length > IAM_LIMITS.tagValueMaxLength) {
    throw new ContractError('BAD_GRANT_TAG', `grant tag value is longer than ${IAM_LIMITS.tagValueMaxLength} characters`);
  }
  const fields = new Map<string, string>();
  for (const part of value.split(' ')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ContractError('BAD_GRANT_TAG', `grant tag "${value}": "${part}" is not a field=value pair`);
    const key = part.slice(0, eq);
    const fieldValue = part.slice(eq + 1);
    if (!(GRANT_TAG_FIELDS as readonly string[]).includes(key)) {
      throw new ContractError('BAD_GRANT_TAG', `grant tag "${value}": unknown field "${key}" (expected expires, by, ticket)`);
    }
    if (fields.has(key)) throw new ContractError('BAD_GRANT_TAG', `grant tag "${value}": field "${key}" appears twice`);
    if (!GRANT_FIELD_CHARS.test(fieldValue)) {
      throw new ContractError('BAD_GRANT_TAG', `grant tag "${value}": field "${key}" is empty or has characters outside _ . : / = + - @ letters and digits`);
    }
    fields.set(key, fieldValue);
  }
  for (const key of GRANT_TAG_FIELDS) {
    if (!fields.has(key)) throw new ContractError('BAD_GRANT_TAG', `grant tag "${value}": field "${key}" is missing`);
  }
  const expiresAt = fields.get('expires')!;
  parseExpiry(expiresAt, `grant tag "${value}": expires`);
  return { expiresAt, requestedBy: fields.get('by')!, ticket: fields.get('ticket')! };
}

// ---------------------------------------------------------------------------
// The date condition on grant statements
// ---------------------------------------------------------------------------

export const EXPIRY_CONDITION_OPERATOR = 'DateLessThan';
export const EXPIRY_CONDITION_KEY = 'aws:CurrentTime';

/** A policy statement as IAM stores it (loosely typed: documents come from outside). */
export type StatementJson = Record<string, unknown>;
export interface PolicyDocumentJson {
  Version?: string;
  Statement: StatementJson | StatementJson[];
  [key: string]: unknown;
}

/**
 * Returns a copy of `statement` whose Condition also requires
 * aws:CurrentTime < expiresAt, replacing an earlier expiry condition (so a
 * renewal moves it) and keeping every other condition.
 */
export function withExpiryCondition(statement: StatementJson, expiresAt: string): StatementJson {
  parseExpiry(expiresAt, 'grant expiry');
  const condition = { ...((statement.Condition as Record<string, Record<string, unknown>> | undefined) ?? {}) };
  const dateLess = { ...(condition[EXPIRY_CONDITION_OPERATOR] ?? {}) };
  dateLess[EXPIRY_CONDITION_KEY] = expiresAt;
  condition[EXPIRY_CONDITION_OPERATOR] = dateLess;
  return { ...statement, Condition: condition };
}

/** The statements of a document as a list, whatever form IAM returned. */
export function statementsOf(document: PolicyDocumentJson): StatementJson[] {
  const s = document.Statement;
  if (Array.isArray(s)) return s;
  if (s && typeof s === 'object') return [s];
  throw new ContractError('BAD_POLICY_DOCUMENT', 'policy document has no Statement');
}

/** Rewrites every statement of a grant document with the expiry condition. */
export function grantDocumentWithExpiry(document: PolicyDocumentJson, expiresAt: string): PolicyDocumentJson {
  return { ...document, Version: document.Version ?? '2012-10-17', Statement: statementsOf(document).map(s => withExpiryCondition(s, expiresAt)) };
}

/**
 * Canonical JSON of a policy document: keys sorted, single-item lists and
 * single statements folded, so that two documents IAM treats alike compare
 * equal (used to hold a baseline policy against the approved spec).
 */
export function canonicalPolicyJson(document: unknown): string {
  return JSON.stringify(canonicalize(document, []));
}

function canonicalize(value: unknown, path: string[]): unknown {
  if (Array.isArray(value)) {
    const items = value.map(v => canonicalize(v, path));
    // The order of statements, actions and resources carries no meaning in IAM.
    const sorted = items.map(v => JSON.stringify(v)).sort();
    const unique = [...new Set(sorted)].map(s => JSON.parse(s));
    return unique.length === 1 && path[path.length - 1] !== 'Statement' ? unique[0] : unique;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      if (key === 'Sid') continue;
      out[key] = canonicalize((value as Record<string, unknown>)[key], [...path, key]);
    }
    if (path.length === 0 && out.Statement && !Array.isArray(out.Statement)) out.Statement = [out.Statement];
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------
// The approved spec (written at deploy time to SSM Parameter Store)
// ---------------------------------------------------------------------------

/**
 * SSM parameter path prefix of approved specs. Each agent's spec is the
 * parameter `${SPEC_PARAMETER_PREFIX}<agentId>` (a String parameter, JSON).
 */
export const SPEC_PARAMETER_PREFIX = '/permission-decay/agents/';
export function specParameterName(agentId: string): string {
  return `${SPEC_PARAMETER_PREFIX}${agentId}`;
}
export const SPEC_VERSION = 1;

/** A policy as the spec records it. */
export interface SpecPolicy {
  /** `inline` (a role policy) or `managed` (an attached customer-managed or AWS-managed policy). */
  readonly kind: 'inline' | 'managed';
  /** The policy name (for managed policies, the last segment of the ARN). */
  readonly name: string;
  /** The ARN of a managed policy. */
  readonly arn?: string;
  /** The approved document; absent for AWS-managed policies. */
  readonly document?: PolicyDocumentJson;
}

export interface SpecGrant extends SpecPolicy {
  readonly expiresAt: string;
  readonly requestedBy: string;
  readonly ticket: string;
  readonly reason: string;
  /** Resource-policy writes the agent's boundary lets through until the grant's expiry (absent: none). */
  readonly allowResourcePolicyWrites?: string[];
}

export interface AgentSpec {
  readonly v: number;
  readonly agentId: string;
  readonly roleName: string;
  readonly owner: string;
  readonly maxGrantDurationSeconds: number;
  readonly maxRenewals: number;
  readonly baseline: SpecPolicy[];
  readonly grants: SpecGrant[];
  /** Delegations this agent may use (issue 7): role names it may assume. */
  readonly delegations?: { readonly toAgentId: string; readonly expiresAt?: string }[];
  /** The digest the deploy also tagged on the role (TAG_SPEC_DIGEST). @default none (the spec is read every sweep) */
  readonly digest?: string;
}

export const DEFAULT_MAX_GRANT_DURATION_SECONDS = 30 * 24 * 3600;
export const DEFAULT_MAX_RENEWALS = 3;

/** Parses a spec parameter's value; throws a ContractError naming what is wrong. */
export function parseAgentSpec(text: string, source: string): AgentSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ContractError('BAD_SPEC', `spec ${source} is not JSON: ${(e as Error).message}`);
  }
  const spec = raw as AgentSpec;
  if (!spec || typeof spec !== 'object' || spec.v !== SPEC_VERSION) {
    throw new ContractError('BAD_SPEC', `spec ${source} has version ${(spec as AgentSpec | null)?.v}; this sweeper reads version ${SPEC_VERSION}`);
  }
  for (const field of ['agentId', 'roleName'] as const) {
    if (typeof spec[field] !== 'string' || !spec[field]) throw new ContractError('BAD_SPEC', `spec ${source} has no ${field}`);
  }
  if (!Array.isArray(spec.baseline) || !Array.isArray(spec.grants)) {
    throw new ContractError('BAD_SPEC', `spec ${source} must list baseline and grants`);
  }
  for (const g of spec.grants) parseExpiry(g.expiresAt, `spec ${source} grant ${g.name} expiresAt`);
  return spec;
}

// ---------------------------------------------------------------------------
// The ledger (DynamoDB, append-only)
// ---------------------------------------------------------------------------

/**
 * Table layout: partition key `pk` (S), sort key `sk` (S), billing on demand.
 *
 * - Decision records: pk = `ROLE#<roleName>`, sk = `REC#<seq, 12 digits>`.
 *   Each record carries `prevHash` (hash of the role's previous record, or
 *   GENESIS_HASH) and `hash`; a record is appended with a condition that its
 *   key does not exist, so two writers cannot both append record n.
 * - Role state: pk = `STATE`, sk = `<roleName>`: the head of the role's chain
 *   (seq, hash) and what the sweeper needs to remember per grant. Updated in
 *   the same transaction as the record it summarises.
 * - Renewals: pk = `RENEWAL#<roleName>#<grantName>`, sk = `<createdAt>#<renewalId>`.
 */
export const LEDGER_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
} as const;
export const GENESIS_HASH = '0'.repeat(64);
/**
 * Every ledger table's name starts with this, so a governed role's boundary can
 * deny writing any ledger without knowing the table (roles and sweeper may live
 * in different stacks).
 */
export const LEDGER_TABLE_NAME_PREFIX = 'permission-decay-ledger';
export const LEDGER_TABLE_ENV = 'PERMISSION_DECAY_LEDGER_TABLE';

export function rolePartition(roleName: string): string {
  return `ROLE#${roleName}`;
}
export function recordSortKey(seq: number): string {
  return `REC#${String(seq).padStart(12, '0')}`;
}
export const STATE_PARTITION = 'STATE';
/** The sweeper's cache of approved specs (sk `AGENT#<agentId>`, and `READ` for the last full read): a cache, not records. */
export const SPEC_CACHE_PARTITION = 'SPECCACHE';
export function renewalPartition(roleName: string, grantName: string): string {
  return `RENEWAL#${roleName}#${grantName}`;
}

/** Every decision a sweep (or a CLI command) can record. */
export type Decision =
  | 'kept' // a grant is valid and stays
  | 'warned' // a grant is inside the warning window; its owner was told
  | 'renewed' // an expired (or expiring) grant's expiry moved to a renewal's end
  | 'revoked' // a grant was removed; the record holds what it was
  | 'drift' // a policy that is neither baseline nor a tagged grant was found and given a decay tag
  | 'tampering' // a grant's expiry tag moved later without a renewal, or a governed role lost a governance tag (put back)
  | 'repaired' // a tagged grant or drift lacked the date condition of its expiry (or carried a later one); the condition was added
  | 'foreign-marker' // a role outside the governed path carries governance tags; recorded, never changed
  | 'baseline-mismatch' // a baseline policy no longer matches the approved spec
  | 'cleaned' // a grant tag whose policy is gone was removed
  | 'requested' // a time-bound grant was put on the role (CLI)
  | 'renewal-recorded' // a renewal record was written (CLI)
  | 'restored' // a revoked grant was brought back (CLI)
  | 'checkpoint' // a snapshot of the role's effective permissions (issue 7)
  | 'error'; // something failed; retried next sweep

/** How a grant's policy is attached, enough to put it back exactly. */
export interface PolicyAttachment {
  readonly kind: 'inline' | 'managed';
  readonly name: string;
  /** ARN of a managed policy. */
  readonly arn?: string;
  /** The policy document (JSON text) as it was on the role. For managed policies, the default version's document. */
  readonly document?: string;
}

/** A ledger decision record (one per decision; also the detail of the event). */
export interface LedgerRecord {
  readonly pk: string;
  readonly sk: string;
  readonly seq: number;
  readonly roleName: string;
  readonly agentId?: string;
  /** When the decision was taken (the sweep's clock). */
  readonly at: string;
  /** Id of the sweep or CLI invocation. */
  readonly runId: string;
  /** Who acted: `sweeper`, or the caller's ARN for CLI commands. */
  readonly actor: string;
  readonly decision: Decision;
  readonly grant?: string;
  readonly expiresAt?: string;
  readonly requestedBy?: string;
  readonly ticket?: string;
  /** What the role held, for revoked, drift and restored decisions: restore reads this. */
  readonly policy?: PolicyAttachment;
  /** A person-readable account of the decision. */
  readonly message: string;
  /** Error code, for `error` decisions. */
  readonly errorCode?: string;
  /** What the role held, for `checkpoint` decisions. */
  readonly checkpoint?: CheckpointBody;
  /**
   * The role's governance tags as the sweep found them: for `foreign-marker`
   * (the claim a role outside the governed path makes) and for `tampering` of
   * a governance tag (before it was put back).
   */
  readonly governanceTags?: { readonly [key: string]: string };
  readonly prevHash: string;
  readonly hash: string;
  /**
   * base64 KMS signature (LEDGER_SIGNING_ALGORITHM) of ledgerSigningMessage(roleName, seq, hash),
   * by the sweeper's signing key. Not part of the hashed content.
   */
  readonly signature?: string;
}

/** A renewal record: extends a grant's expiry; approved by someone other than its requester. */
export interface RenewalRecord {
  readonly pk: string;
  readonly sk: string;
  readonly renewalId: string;
  readonly roleName: string;
  readonly grant: string;
  /** The new expiry. */
  readonly until: string;
  readonly ticket: string;
  /** The grant's requester (from its tag) at the time of the renewal. */
  readonly requestedBy: string;
  /** The approver's identity ARN, from STS GetCallerIdentity. */
  readonly approvedBy: string;
  readonly createdAt: string;
  /** The approver's `aws:userid` (STS): the renewal's seal lives in SEAL#<this>. */
  readonly approverUserId?: string;
  readonly approverAccount?: string;
  /**
   * Set by the ledger reader, never stored: the approver's person, and every
   * person whose sealed request of this grant the reader found. A renewal from
   * the table is handed to decide only when its seal holds.
   */
  readonly verified?: { readonly approver: string; readonly requesters: readonly string[] };
}

// ---------------------------------------------------------------------------
// Events (EventBridge)
// ---------------------------------------------------------------------------

/** Source of every governance event. */
export const EVENT_SOURCE = 'permission-decay';
/** detail-type of decision events; the detail is the LedgerRecord without pk/sk. */
export const EVENT_DETAIL_TYPE = 'Permission Decay Decision';

// ---------------------------------------------------------------------------
// The sweeper's configuration (Lambda environment; the CLI reads the same names)
// ---------------------------------------------------------------------------

/** Environment variables the sweeper Lambda reads; PermissionSweeper sets them. */
export const SWEEPER_ENV = {
  /** The ledger table's name. */
  ledgerTable: LEDGER_TABLE_ENV,
  /** Name of the EventBridge bus that receives decision events (default: the account's default bus). */
  eventBusName: 'PERMISSION_DECAY_EVENT_BUS',
  /** ARN of the SNS topic that tells owners about grants nearing expiry and drift. */
  ownerTopicArn: 'PERMISSION_DECAY_OWNER_TOPIC_ARN',
  /** Seconds a drift policy lives before it decays (default 7 days). */
  driftPeriodSeconds: 'PERMISSION_DECAY_DRIFT_PERIOD_SECONDS',
  /** Seconds before expiry at which an owner is warned once (default 3 days). */
  warningWindowSeconds: 'PERMISSION_DECAY_WARNING_WINDOW_SECONDS',
  /** `true`: drift is revoked at once instead of decaying. */
  strict: 'PERMISSION_DECAY_STRICT',
  /** Milliseconds the sweep may spend before it stops cleanly and leaves the rest for the next run. */
  timeBudgetMs: 'PERMISSION_DECAY_TIME_BUDGET_MS',
  /** Seconds between freeze checkpoints of a role (0 or unset: no checkpoints). */
  checkpointIntervalSeconds: 'PERMISSION_DECAY_CHECKPOINT_INTERVAL_SECONDS',
} as const;

export const DEFAULT_DRIFT_PERIOD_SECONDS = 7 * 24 * 3600;
export const DEFAULT_WARNING_WINDOW_SECONDS = 3 * 24 * 3600;
/** PermissionSweeper's default checkpoint interval (the runtime alone, without the variable, takes none). */
export const DEFAULT_CHECKPOINT_INTERVAL_SECONDS = 30 * 24 * 3600;

// ---------------------------------------------------------------------------
// Freeze checkpoints (issue 7): a `checkpoint` record's body
// ---------------------------------------------------------------------------

/**
 * Canonical policy documents a checkpoint holds in full, in characters; past
 * this, a policy keeps only its sha256. IAM's own limits (10,240 inline
 * characters, 20 x 6,144 managed) stay under it in practice; the cap keeps a
 * checkpoint record (and its event) far below DynamoDB's 400 KB item and
 * EventBridge's 256 KB entry whatever a role holds.
 */
export const CHECKPOINT_DOCUMENT_BUDGET_CHARS = 100_000;
/** Actions a checkpoint flag lists at most (the rest are counted). */
export const CHECKPOINT_MAX_LISTED_ACTIONS = 50;

/** How a checkpoint judged one policy on the role. */
export type CheckpointStanding =
  | 'baseline' // in the approved spec's baseline
  | 'grant' // a grant in the approved spec, or a grant the ledger recorded as requested/kept
  | 'drift' // found by hand and recorded as drift (it decays)
  | 'unapproved'; // neither: not in the spec and not recorded as a grant

/** One policy on the role at the checkpoint's instant. */
export interface CheckpointPolicy {
  readonly kind: 'inline' | 'managed';
  readonly name: string;
  readonly arn?: string;
  readonly standing: CheckpointStanding;
  /** The grant's expiry as the ledger (or the spec, or the tag) had it. */
  readonly expiresAt?: string;
  /** sha256 of the canonical document (of the ARN for AWS-managed policies, whose document is not read). */
  readonly documentHash: string;
  /** The canonical document, while the record's document budget lasts. */
  readonly document?: string;
}

/** Why a checkpoint flags a permission. */
export type CheckpointFlagCode =
  | 'NOT_IN_SPEC' // a policy neither in the spec nor recorded as a grant
  | 'UNRECORDED_GRANT' // tagged like a grant, but neither in the spec nor in the ledger
  | 'DRIFT' // recorded as drift: decaying, never approved
  | 'BASELINE_CHANGED' // a baseline policy whose document differs from the spec
  | 'GRANT_CHANGED' // a spec grant whose statements differ from the spec (the expiry condition aside)
  | 'SPEC_UNAVAILABLE'; // the role's approved spec is missing or unreadable: nothing could be approved

/** A permission the approved spec does not cover. */
export interface CheckpointFlag {
  readonly code: CheckpointFlagCode;
  /** The policy's name. */
  readonly policy: string;
  readonly kind: 'inline' | 'managed';
  readonly message: string;
  /** Statements of the policy that the approved document does not have (changed policies). */
  readonly addedStatements?: number;
  /** Actions allowed that the approved document does not allow (at most CHECKPOINT_MAX_LISTED_ACTIONS). */
  readonly addedActions?: string[];
}

/** The body of a `checkpoint` record: the role's effective permissions at the record's instant. */
export interface CheckpointBody {
  readonly v: number;
  /** The interval in force, in seconds. */
  readonly intervalSeconds: number;
  /** When this checkpoint was due (it is taken by the first sweep at or after it). */
  readonly dueAt: string;
  /** Every policy on the role, as the sweep read it (before this sweep's own changes). */
  readonly policies: CheckpointPolicy[];
  /** Every permission not in the approved spec. */
  readonly flags: CheckpointFlag[];
  /** Policies whose document was left out for size (their documentHash is kept). */
  readonly documentsOmitted: number;
  /** The spec error code when the approved spec could not be used. */
  readonly specError?: string;
}
export const CHECKPOINT_VERSION = 1;

// ---------------------------------------------------------------------------
// The ledger's per-role STATE item (added by the sweeper runtime)
// ---------------------------------------------------------------------------

/** What the ledger remembers about one grant of a role (inside the STATE item). */
export interface GrantMemory {
  /** The recorded expiry: the one the sweeper enforces; a tag later than this without a renewal is tampering. */
  readonly expiresAt: string;
  /** The recorded expiry before the last renewal (lets a sweep finish a renewal interrupted between ledger and IAM). */
  readonly previousExpiresAt?: string;
  /** The approved spec's expiry this grant's tag was shortened from: that spec expiry no longer extends it. */
  readonly shortenedFrom?: string;
  readonly requestedBy: string;
  readonly ticket: string;
  /** `active` while the grant is on the role; `revoked` once a revocation was recorded; `cleaned` when its tag was removed. */
  readonly status: 'active' | 'revoked' | 'cleaned';
  /** How the grant came to be: a CDK/CLI grant, or drift the sweeper tagged. */
  readonly origin: 'grant' | 'drift';
  /** The expiry for which the owner was warned (warn once per expiry). */
  readonly warnedFor?: string;
  /** sha256 of the canonical policy JSON that was revoked (a re-added different document is recorded again). */
  readonly revokedDocumentHash?: string;
  /**
   * sha256 of the canonical document last recorded before the sweeper added the date condition to it (`repaired`, or
   * inline drift): the same document found again means that change was interrupted, and it is finished without a new record.
   */
  readonly boundedDocumentHash?: string;
  /** When the ledger first saw this grant. */
  readonly firstSeenAt: string;
}

/**
 * The STATE item of a role: pk = STATE_PARTITION, sk = roleName. Written in the
 * same transaction as each record, with a condition on `seq`, so it always
 * names the head of the role's chain.
 */
export interface LedgerRoleState {
  readonly pk: string;
  readonly sk: string;
  readonly roleName: string;
  /** seq of the role's last record (0: none yet). */
  readonly seq: number;
  /** hash of the role's last record (GENESIS_HASH: none yet). */
  readonly hash: string;
  readonly grants: { readonly [grantName: string]: GrantMemory };
  /** Baseline policies flagged as mismatching: policy name -> sha256 of the flagged canonical document. */
  readonly baselineFlags?: { readonly [policyName: string]: string };
  /** Error code last recorded for the role's approved spec (recorded again only when it changes). */
  readonly specError?: string;
  /** When the role's last freeze checkpoint was recorded (the next is due an interval later). */
  readonly lastCheckpointAt?: string;
  /**
   * sha256 of the governance tags last recorded as a foreign marker (a role
   * outside the governed path; recorded again only when they change).
   */
  readonly foreignMarker?: string;
  /** `at` of the role's first record (set by the ledger; absent on STATE items older than checkpoints). */
  readonly firstSeenAt?: string;
  readonly updatedAt: string;
}

// ---------------------------------------------------------------------------
// Synth time (construct only)
// ---------------------------------------------------------------------------

/**
 * CDK context key holding the instant (ISO-8601 with zone) that synth-time
 * checks ("expiry in the past", "beyond maxGrantDuration") treat as now.
 * Absent: the real clock. Lets tests and demos synthesize deterministically.
 */
export const SYNTH_CLOCK_CONTEXT_KEY = 'permission-decay:now';
/** Name of the inline policy that holds a governed role's baseline statements. */
export const BASELINE_POLICY_NAME = 'baseline';

// ---------------------------------------------------------------------------
// Identities, sealed intents and ledger evidence
// ---------------------------------------------------------------------------

/**
 * Role tag the sweeper writes after each append: `<seq>:<first 16 hex of the
 * record's hash>`, the role's chain head anchored outside the ledger table.
 * Only the sweeper may write it (requesters may only write grant tags).
 */
export const TAG_LEDGER_HEAD = 'governance:ledger-head';
/** Hex characters of the head hash the anchor tag carries. */
export const LEDGER_HEAD_HASH_CHARS = 16;

/**
 * Partition of a person's own sealed intents: `SEAL#<aws:userid>`. IAM lets a
 * caller write only the partition of its own `aws:userid` (dynamodb:LeadingKeys),
 * so a seal proves who wrote it; the sweeper checks the userid inside matches.
 */
export const SEAL_PARTITION_PREFIX = 'SEAL#';
export function sealPartition(userId: string): string {
  return `${SEAL_PARTITION_PREFIX}${userId}`;
}
/** Pointers to a grant's requests (the sweeper finds them by grant): pk = `REQUEST#<role>#<grant>`. */
export const REQUEST_PARTITION_PREFIX = 'REQUEST#';
export function requestPartition(roleName: string, grantName: string): string {
  return `${REQUEST_PARTITION_PREFIX}${roleName}#${grantName}`;
}
/** Prefix of renewal pointers (renewalPartition). */
export const RENEWAL_PARTITION_PREFIX = 'RENEWAL#';

/** The caller as STS GetCallerIdentity returns it: never from a flag. */
export interface CallerIdentity {
  readonly arn: string;
  /** `aws:userid`: AIDA... for a user, `AROA...:<session>` for an assumed role. */
  readonly userId: string;
  readonly account: string;
}

/** What a person asserted, written under their own SEAL# partition and pointed to by grant. */
export interface SealedIntent {
  readonly kind: 'request' | 'renewal' | 'restore';
  /** requestId / renewalId / restoreId. */
  readonly id: string;
  readonly roleName: string;
  readonly grant: string;
  /** The grant's expiry the person asked for (restore: the renewal's end). */
  readonly until: string;
  readonly ticket: string;
  readonly callerArn: string;
  readonly userId: string;
  readonly account: string;
  readonly createdAt: string;
}

/** Sort key of a seal inside its person's partition. */
export function sealSortKey(intent: Pick<SealedIntent, 'kind' | 'roleName' | 'grant' | 'id'>): string {
  return `${intent.kind.toUpperCase()}#${intent.roleName}#${intent.grant}#${intent.id}`;
}

/** Configuration the sweeper and the CLI read to decide who is the same person. */
export const IDENTITY_ENV = {
  /**
   * Comma-separated role unique ids (AROA...) whose session name names a
   * person (e.g. IAM Identity Center roles, where the session is the user and
   * is not chosen by the caller). Other roles: every session is one person.
   */
  sessionNamedRoleIds: 'PERMISSION_DECAY_SESSION_NAMED_ROLE_IDS',
  /** KMS key id or ARN that signs the ledger (the sweeper signs; `history --verify` checks). */
  signingKeyId: 'PERMISSION_DECAY_SIGNING_KEY_ID',
} as const;

/** The signing algorithm of the ledger key (ECC_NIST_P256). */
export const LEDGER_SIGNING_ALGORITHM = 'ECDSA_SHA_256';
/** Key spec of the ledger signing key. */
export const LEDGER_SIGNING_KEY_SPEC = 'ECC_NIST_P256';
/** What is signed for a record: domain, role, seq and the record's hash (which covers its content and the chain before it). */
export function ledgerSigningMessage(roleName: string, seq: number, hash: string): string {
  return `permission-decay/ledger/v1\n${roleName}\n${seq}\n${hash}`;
}

/** The sweeper's CloudWatch metrics (embedded metric format, from the Lambda's logs). */
export const SWEEPER_METRICS = {
  namespace: 'PermissionDecay',
  /** The `service` dimension every metric carries. */
  service: 'permission-decay-sweeper',
  /** Removals of expired grants or drift the sweep planned and did not finish (they outlive their expiry). */
  failedRevocations: 'FailedRevocations',
  /** Roles whose sweep failed (any error outcome). */
  roleErrors: 'RoleErrors',
  /** Roles left because another writer kept appending first, or STATE no longer names the chain's head. */
  ledgerConflicts: 'LedgerConflicts',
  /** Sweeps that failed (the invocation throws). */
  failedSweeps: 'FailedSweeps',
} as const;
