/**
 * Freeze checkpoints (issue 7): every `intervalSeconds`, a sweep writes one
 * `checkpoint` record per role holding the role's effective permissions (every
 * policy, its canonical document or its sha256) and a flag for each permission
 * the approved spec does not cover. The record goes through the ledger's
 * hash-chained append like every other decision, so it is as tamper-evident.
 *
 * When a checkpoint is due (pure, from the STATE item and the clock):
 * - one interval after the role's last checkpoint (`lastCheckpointAt`);
 * - before the first: one interval after the ledger first saw the role: the
 *   `at` of its first record (`firstSeenAt` on STATE), or for STATE items
 *   written before checkpoints existed, the earliest `firstSeenAt` of its
 *   grants. With the default 30 days, the first checkpoint comes 30 days after
 *   the first sweep that saw the deployed role;
 * - a role the ledger holds no instant for: when this sweep records anything
 *   else about it, that is its first sight and the first checkpoint is due an
 *   interval later; when it would record nothing (a clean role, or one whose
 *   only records are errors without grants), it is checkpointed now, because
 *   no other record would ever say when it was first seen.
 * The next checkpoint counts from when the last was taken, not from when it
 * was due, so an hourly sweep drifts by at most an hour per interval.
 *
 * The checkpoint is taken from the sweep's snapshot, before the sweep's own
 * changes, and is the first step of the role's plan: a revocation decided in
 * the same sweep follows it in the chain (same instant, higher seq), which is
 * how `history --at` replays it.
 */
import {
  AgentSpec,
  canonicalPolicyJson,
  CHECKPOINT_DOCUMENT_BUDGET_CHARS,
  CHECKPOINT_MAX_LISTED_ACTIONS,
  CHECKPOINT_VERSION,
  CheckpointBody,
  CheckpointFlag,
  CheckpointPolicy,
  CheckpointStanding,
  EXPIRY_CONDITION_KEY,
  EXPIRY_CONDITION_OPERATOR,
  EXPIRY_PATTERN,
  formatExpiry,
  LedgerRoleState,
  parseExpiry,
  policyNameOfGrantTag,
  SpecPolicy,
  StatementJson,
} from '../contract';
import type { PlanStep } from './plan';
import { sha256 } from '../contract';
import { GovernedRole, RolePolicy } from './snapshot';
import { SpecLookup } from './specs';

const MS = 1000;

/** The earliest instant the ledger saw one of the role's grants; undefined when it holds none. */
export function ledgerFirstSeenAt(state: LedgerRoleState): string | undefined {
  let first: string | undefined;
  for (const g of Object.values(state.grants ?? {})) {
    const seen = g?.firstSeenAt;
    if (typeof seen === 'string' && EXPIRY_PATTERN.test(seen) && (first === undefined || seen < first)) first = seen;
  }
  return first;
}

/**
 * When the role's next checkpoint is due (expiry form), or undefined when
 * checkpoints are off (interval undefined or 0). A role the ledger holds no
 * instant for is first seen now: due an interval from now when
 * `recordingOtherwise` (this sweep writes another record for it), else now. Pure.
 */
export function checkpointDueAt(
  state: LedgerRoleState,
  intervalSeconds: number | undefined,
  now: Date,
  recordingOtherwise = false,
): string | undefined {
  if (intervalSeconds === undefined || !(intervalSeconds > 0)) return undefined;
  const anchor =
    [state.lastCheckpointAt, state.firstSeenAt].find(x => typeof x === 'string' && EXPIRY_PATTERN.test(x)) ?? ledgerFirstSeenAt(state);
  if (anchor === undefined) return formatExpiry(recordingOtherwise ? new Date(now.getTime() + intervalSeconds * MS) : now);
  try {
    return formatExpiry(new Date(parseExpiry(anchor).getTime() + intervalSeconds * MS));
  } catch {
    return formatExpiry(now); // an anchor that is no calendar instant: checkpoint now, which writes a good one
  }
}

/**
 * The checkpoint step of a role's plan, or undefined when none is due.
 * `recordingOtherwise`: the rest of the plan writes a record. Pure.
 */
export function checkpointStep(
  role: GovernedRole,
  state: LedgerRoleState,
  lookup: SpecLookup,
  now: Date,
  intervalSeconds: number | undefined,
  recordingOtherwise = false,
): PlanStep | undefined {
  const dueAt = checkpointDueAt(state, intervalSeconds, now, recordingOtherwise);
  if (dueAt === undefined) return undefined;
  const nowText = formatExpiry(now);
  if (dueAt > nowText) return undefined;
  const checkpoint = checkpointOf(role, state, lookup, intervalSeconds!, dueAt);
  return {
    roleName: role.roleName,
    actions: [],
    record: { decision: 'checkpoint', message: checkpointMessage(role.roleName, checkpoint), checkpoint },
    memory: { lastCheckpointAt: nowText },
  };
}

function checkpointMessage(roleName: string, c: CheckpointBody): string {
  const listed = c.flags
    .slice(0, 10)
    .map(f => `${f.policy} (${f.code})`)
    .join(', ');
  const more = c.flags.length > 10 ? ` and ${c.flags.length - 10} more` : '';
  return (
    `checkpoint of ${roleName}: ${c.policies.length} policies, ${c.flags.length} not in the approved spec` +
    (c.flags.length ? `: ${listed}${more}` : '') +
    (c.documentsOmitted ? `; ${c.documentsOmitted} documents kept as sha256 only (size)` : '')
  );
}

function parseDocument(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function baselineOf(spec: AgentSpec, p: RolePolicy): SpecPolicy | undefined {
  // The same match decide() uses to hold a baseline policy against the spec.
  return spec.baseline.find(b => b.kind === p.kind && (p.kind === 'managed' && b.arn ? b.arn === p.arn : b.name === p.name));
}

/** The role's effective permissions and what the approved spec does not cover. Pure; never throws on odd documents. */
export function checkpointOf(
  role: GovernedRole,
  state: LedgerRoleState,
  lookup: SpecLookup,
  intervalSeconds: number,
  dueAt: string,
): CheckpointBody {
  const spec = lookup.spec;
  const tagged = new Set<string>();
  for (const key of Object.keys(role.tags)) {
    const g = policyNameOfGrantTag(key);
    if (g !== undefined) tagged.add(g);
  }
  const policies: CheckpointPolicy[] = [];
  const flags: CheckpointFlag[] = [];
  let budget = CHECKPOINT_DOCUMENT_BUDGET_CHARS;
  let documentsOmitted = 0;

  for (const p of role.policies) {
    const parsed = parseDocument(p.document);
    const canonical = parsed !== undefined ? canonicalPolicyJson(parsed) : p.document;
    const mem = state.grants?.[p.name];
    const specGrant = spec?.grants.find(g => g.name === p.name);
    const flag = (code: CheckpointFlag['code'], message: string, extra: Partial<CheckpointFlag> = {}) =>
      flags.push({ code, policy: p.name, kind: p.kind, message, ...extra });

    let standing: CheckpointStanding;
    const base = spec ? baselineOf(spec, p) : undefined;
    if (!spec) {
      standing = mem?.status === 'active' ? (mem.origin === 'drift' ? 'drift' : 'grant') : 'unapproved';
      if (standing === 'drift') flag('DRIFT', `${p.name} was recorded as drift (not approved); it decays at ${mem!.expiresAt}`);
      if (standing === 'unapproved') {
        flag(
          'SPEC_UNAVAILABLE',
          `${p.name} cannot be held against the approved spec (${lookup.error?.code ?? 'no spec'}) and the ledger records no grant of it`,
        );
      }
    } else if (base) {
      standing = 'baseline';
      if (base.document && p.document !== undefined && canonical !== canonicalPolicyJson(base.document)) {
        const added = addedPermissions(parsed, base.document);
        flag('BASELINE_CHANGED', `baseline policy ${p.name} differs from the approved spec${describeAdded(added)}`, added);
      }
    } else if (specGrant) {
      standing = 'grant';
      if (
        specGrant.document &&
        p.document !== undefined &&
        canonicalPolicyJson(withoutExpiry(parsed)) !== canonicalPolicyJson(withoutExpiry(specGrant.document))
      ) {
        const added = addedPermissions(parsed, specGrant.document);
        flag('GRANT_CHANGED', `grant ${p.name} differs from the approved spec${describeAdded(added)}`, added);
      }
    } else if (mem?.status === 'active' && mem.origin === 'grant') {
      standing = 'grant';
    } else if (mem?.status === 'active' && mem.origin === 'drift') {
      standing = 'drift';
      flag(
        'DRIFT',
        `${p.name} was found by hand on ${mem.firstSeenAt} and recorded as drift (not approved); it decays at ${mem.expiresAt}`,
      );
    } else if (tagged.has(p.name)) {
      standing = 'unapproved';
      flag(
        'UNRECORDED_GRANT',
        mem?.status === 'revoked'
          ? `${p.name} was revoked (the ledger says) but is still on the role`
          : `${p.name} carries a grant tag but is neither in the approved spec nor requested through the ledger`,
      );
    } else {
      standing = 'unapproved';
      flag(
        'NOT_IN_SPEC',
        mem?.status === 'revoked'
          ? `${p.name} was revoked (the ledger says) but is still on the role`
          : `${p.name} is neither in the approved spec's baseline or grants nor a grant recorded in the ledger`,
      );
    }

    const expiresAt =
      standing === 'grant' || standing === 'drift' ? (mem?.status === 'active' ? mem.expiresAt : specGrant?.expiresAt) : undefined;
    let document: string | undefined;
    if (canonical !== undefined) {
      if (canonical.length <= budget) {
        document = canonical;
        budget -= canonical.length;
      } else {
        documentsOmitted++;
      }
    }
    policies.push({
      kind: p.kind,
      name: p.name,
      ...(p.arn ? { arn: p.arn } : {}),
      standing,
      ...(expiresAt ? { expiresAt } : {}),
      documentHash: sha256(canonical ?? p.arn ?? p.name),
      ...(document !== undefined ? { document } : {}),
    });
  }
  return {
    v: CHECKPOINT_VERSION,
    intervalSeconds,
    dueAt,
    policies,
    flags,
    documentsOmitted,
    ...(lookup.error ? { specError: lookup.error.code } : {}),
  };
}

/** What a changed policy allows beyond its approved document. */
interface Added {
  addedStatements: number;
  addedActions: string[];
}

function describeAdded(a: Added): string {
  const parts: string[] = [];
  if (a.addedStatements) parts.push(`${a.addedStatements} statement(s) not in it`);
  if (a.addedActions.length) parts.push(`actions added: ${a.addedActions.join(', ')}`);
  return parts.length ? ` (${parts.join('; ')})` : '';
}

function statementList(doc: unknown): StatementJson[] {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return [];
  const s = (doc as { Statement?: unknown }).Statement;
  const list = Array.isArray(s) ? s : [s];
  return list.filter((x): x is StatementJson => x !== null && typeof x === 'object' && !Array.isArray(x));
}

/** A statement without the grant expiry condition (a renewal moves it; it is no change of permission). */
function statementWithoutExpiry(s: StatementJson): StatementJson {
  const cond = s.Condition as Record<string, unknown> | undefined;
  const dateLess = cond && typeof cond === 'object' ? cond[EXPIRY_CONDITION_OPERATOR] : undefined;
  if (!dateLess || typeof dateLess !== 'object' || !(EXPIRY_CONDITION_KEY in (dateLess as object))) return s;
  const { [EXPIRY_CONDITION_KEY]: _expiry, ...otherDates } = dateLess as Record<string, unknown>;
  const { [EXPIRY_CONDITION_OPERATOR]: _op, ...otherConditions } = cond!;
  const condition = Object.keys(otherDates).length ? { ...otherConditions, [EXPIRY_CONDITION_OPERATOR]: otherDates } : otherConditions;
  const { Condition: _c, ...rest } = s;
  return Object.keys(condition).length ? { ...rest, Condition: condition } : rest;
}

function withoutExpiry(doc: unknown): unknown {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return doc;
  return { ...(doc as object), Statement: statementList(doc).map(statementWithoutExpiry) };
}

function allowedActions(statements: StatementJson[]): string[] {
  const out: string[] = [];
  for (const s of statements) {
    if (s.Effect !== 'Allow') continue;
    const a = s.Action;
    for (const action of Array.isArray(a) ? a : [a]) if (typeof action === 'string') out.push(action.toLowerCase());
  }
  return out;
}

function globMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .split(/([*?])/)
        .map(x => (x === '*' ? '.*' : x === '?' ? '.' : x.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('') +
      '$',
  );
  return re.test(action);
}

/** Statements and actions in `actual` that `approved` does not have (actions: not matched by any approved action pattern). */
export function addedPermissions(actual: unknown, approved: unknown): Added {
  const mine = statementList(actual).map(statementWithoutExpiry);
  const theirs = statementList(approved).map(statementWithoutExpiry);
  const approvedStatements = new Set(theirs.map(s => canonicalPolicyJson(s)));
  const addedStatements = mine.filter(s => !approvedStatements.has(canonicalPolicyJson(s))).length;
  const approvedActions = [...new Set(allowedActions(theirs))];
  const added = [...new Set(allowedActions(mine))].filter(a => !approvedActions.some(p => globMatches(p, a))).sort();
  const addedActions =
    added.length > CHECKPOINT_MAX_LISTED_ACTIONS
      ? [...added.slice(0, CHECKPOINT_MAX_LISTED_ACTIONS), `(+${added.length - CHECKPOINT_MAX_LISTED_ACTIONS} more)`]
      : added;
  return { addedStatements, addedActions };
}
