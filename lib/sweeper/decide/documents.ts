/**
 * Policy documents as decisions see them: their hash and attachment (what a
 * record keeps so `restore` can put a policy back), the IAM actions that
 * remove a policy or move its expiry, and the repair that gives every
 * statement the date condition of its expiry.
 */
import {
  canonicalPolicyJson,
  EXPIRY_CONDITION_KEY,
  EXPIRY_CONDITION_OPERATOR,
  formatGrantTag,
  grantDocumentWithExpiry,
  grantTagKey,
  PolicyAttachment,
  PolicyDocumentJson,
  StatementJson,
  statementsOf,
  withExpiryCondition,
} from '../../contract';
import { sha256 } from '../../contract';
import { IamAction } from '../plan';
import { RolePolicy } from '../snapshot';
import { isExpiry } from './memo';

export function parseDocument(text: string | undefined): PolicyDocumentJson | undefined {
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

export function removalActions(p: RolePolicy, withUntag: boolean): IamAction[] {
  const remove: IamAction = p.kind === 'inline' ? { type: 'delete-inline', policyName: p.name } : { type: 'detach', policyArn: p.arn! };
  return withUntag ? [remove, { type: 'untag', key: grantTagKey(p.name) }] : [remove];
}

/** Actions that move a grant's expiry to `until`: the policy's date condition, then the tag. */
export function expiryActions(p: RolePolicy, until: string, requestedBy: string, ticket: string): IamAction[] {
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

/**
 * True when every statement is an object that can carry the expiry condition
 * (IAM refuses anything else; a hand-made value must not stop the sweep).
 */
function documentTakesCondition(doc: PolicyDocumentJson): boolean {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return false;
  const s = doc.Statement;
  const list = Array.isArray(s) ? s : [s];
  return (
    list.length > 0 &&
    list.every(
      x =>
        x !== null &&
        typeof x === 'object' &&
        !Array.isArray(x) &&
        (x.Condition === undefined || (x.Condition !== null && typeof x.Condition === 'object')),
    )
  );
}

/** The expiry a statement's own date condition gives it, or undefined when it has none IAM would read as one. */
function statementExpiry(statement: StatementJson): string | undefined {
  const condition = statement.Condition as Record<string, Record<string, unknown>> | undefined;
  const value = condition?.[EXPIRY_CONDITION_OPERATOR]?.[EXPIRY_CONDITION_KEY];
  // An instant parseExpiry accepts is already in the form formatExpiry writes, so it is its own canonical text.
  return typeof value === 'string' && isExpiry(value) ? value : undefined;
}

/**
 * How far a document ends on its own: `never` when some statement has no date
 * condition, else the latest statement expiry; undefined when the document
 * cannot take the condition at all (then it is never called unbounded).
 */
type OwnEnd = string | undefined;
const NEVER = '\uffff';

/*
 * Keyed by the snapshot's policy objects (read once, never changed), so a
 * document is parsed once per sweep however many expiries it is held against,
 * and the entry goes with the snapshot.
 */
const ownEndMemo = new WeakMap<RolePolicy, OwnEnd>();

function ownEndOfText(documentText: string): OwnEnd {
  const doc = parseDocument(documentText);
  if (!doc || !documentTakesCondition(doc)) return undefined;
  let latest = '';
  for (const st of statementsOf(doc)) {
    const own = statementExpiry(st);
    if (own === undefined) return NEVER;
    if (own > latest) latest = own;
  }
  return latest;
}

function ownEndOf(p: RolePolicy): OwnEnd {
  if (ownEndMemo.has(p)) return ownEndMemo.get(p);
  const end = ownEndOfText(p.document!);
  ownEndMemo.set(p, end);
  return end;
}

/** True when the document does not end at `expiry` on its own: a statement lacks the date condition or carries a later one. */
export function isUnboundedBy(documentText: string, expiry: string): boolean {
  const end = ownEndOfText(documentText);
  return end !== undefined && end > expiry;
}

/** The document with the date condition at `expiry` on every statement that lacks it or ends later; earlier ones are kept. */
export function documentBoundedBy(doc: PolicyDocumentJson, expiry: string): PolicyDocumentJson {
  return {
    ...doc,
    Version: doc.Version ?? '2012-10-17',
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
export function boundingAction(p: RolePolicy, expiry: string, origin: 'grant' | 'drift'): IamAction | undefined {
  if (p.document === undefined) return undefined;
  const end = ownEndOf(p);
  if (end === undefined || end <= expiry) return undefined;
  if (p.kind === 'managed' && (origin === 'drift' || !p.arn)) return undefined;
  const document = JSON.stringify(documentBoundedBy(parseDocument(p.document)!, expiry));
  return p.kind === 'inline'
    ? { type: 'put-inline', policyName: p.name, document }
    : { type: 'create-policy-version', policyArn: p.arn!, document };
}
