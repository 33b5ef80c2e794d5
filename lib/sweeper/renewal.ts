/**
 * Renewals: records that extend a grant, approved by someone other than its
 * requester. Validity is a pure function; reading is one Query per grant that
 * needs it (expired, expiring, or whose tag moved), never a scan.
 *
 * A renewal counts only when it is bound to its approver: the pointer under
 * RENEWAL#<role>#<grant> names the approver's `aws:userid`, and the same
 * intent is sealed under SEAL#<that userid>, which IAM lets only that caller
 * write (dynamodb:LeadingKeys). The requesters of a grant are the people whose
 * sealed requests of it the reader finds; the approver must be none of them.
 */
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  AgentSpec,
  DEFAULT_MAX_GRANT_DURATION_SECONDS,
  DEFAULT_MAX_RENEWALS,
  parseExpiry,
  renewalPartition,
  RenewalRecord,
  requestPartition,
  sealPartition,
  SealedIntent,
  sealSortKey,
} from '../contract';
import { mapWithConcurrency } from './bounded-concurrency';
import { DEFAULT_IDENTITY_RULE, identityName, IdentityRule, identityRuleFromEnv, personOf } from './identity';

export { identityName } from './identity';

/** role -> grant -> renewal records (any order). */
export type RenewalIndex = ReadonlyMap<string, readonly RenewalRecord[]>;

export function renewalKey(roleName: string, grant: string): string {
  return renewalPartition(roleName, grant);
}

function namesOf(who: string): string[] {
  const name = identityName(who).toLowerCase();
  const at = name.indexOf('@');
  return at > 0 ? [name, name.slice(0, at)] : [name];
}

/** True when `approver` is the same person as `requester` (ARN last segment / session name, email local part, case-insensitive). */
export function isSelfApproval(approverArn: string, requester: string): boolean {
  const a = namesOf(approverArn);
  const r = namesOf(requester);
  return a.some(x => r.includes(x));
}

/** Why a renewal is not valid now, or undefined when it is. */
export function renewalProblem(
  r: RenewalRecord,
  roleName: string,
  grant: string,
  requester: string,
  nowMs: number,
  spec: AgentSpec | undefined,
  ordinal: number,
  allowEnded = false,
): string | undefined {
  if (r.roleName !== roleName || r.grant !== grant) return 'names another role or grant';
  let until: number;
  try {
    until = parseExpiry(r.until, 'renewal until').getTime();
  } catch (e) {
    return (e as Error).message;
  }
  if (until <= nowMs && !allowEnded) return `ended at ${r.until}`;
  if (isSelfApproval(r.approvedBy, requester) || isSelfApproval(r.approvedBy, r.requestedBy))
    return `approved by the requester (${r.approvedBy})`;
  if (r.verified) {
    // Read from the table: the approver is a person, and so is everyone who sealed a request of this grant.
    if (r.verified.requesters.includes(r.verified.approver)) return `approved by a person who requested it (${r.approvedBy})`;
    const specGrant = spec?.grants.find(g => g.name === grant);
    if (r.verified.requesters.length === 0 && !specGrant) {
      return 'renews a grant whose request is not bound to anyone (no sealed request): request it with permission-decay request';
    }
    const createdMs = Date.parse(r.createdAt);
    const maxAtApproval = spec?.maxGrantDurationSeconds ?? DEFAULT_MAX_GRANT_DURATION_SECONDS;
    if (!Number.isFinite(createdMs) || (until - createdMs) / 1000 > maxAtApproval) {
      return `runs past the maximum grant duration of ${maxAtApproval}s from its approval (${r.createdAt})`;
    }
  }
  const maxSeconds = spec?.maxGrantDurationSeconds ?? DEFAULT_MAX_GRANT_DURATION_SECONDS;
  if ((until - nowMs) / 1000 > maxSeconds) return `runs past the maximum grant duration of ${maxSeconds}s`;
  const maxRenewals = spec?.maxRenewals ?? DEFAULT_MAX_RENEWALS;
  if (ordinal > maxRenewals) return `is renewal ${ordinal}; at most ${maxRenewals} are allowed`;
  return undefined;
}

/**
 * The valid renewal with the latest end, among a grant's renewal records.
 * Renewals count in creation order; the (maxRenewals+1)-th and later never count.
 * `allowEnded`: renewals that have ended count too, to explain an expiry tag
 * moved to their end (never to extend a grant).
 */
export function chooseRenewal(
  records: readonly RenewalRecord[] | undefined,
  roleName: string,
  grant: string,
  requester: string,
  nowMs: number,
  spec: AgentSpec | undefined,
  allowEnded = false,
): RenewalRecord | undefined {
  const ordered = [...(records ?? [])].sort((a, b) => a.sk.localeCompare(b.sk));
  let best: RenewalRecord | undefined;
  ordered.forEach((r, i) => {
    if (renewalProblem(r, roleName, grant, requester, nowMs, spec, i + 1, allowEnded) !== undefined) return;
    if (!best || r.until > best.until) best = r;
  });
  return best;
}

/** Renewal Queries in flight at once (a sweep reads one per expiring grant; each is a round trip). */
export const RENEWAL_READ_CONCURRENCY = 8;

/** Reads the renewal records of the given (role, grant) keys: one Query each, a few at a time, then their seals. */
export async function readRenewals(
  ddb: DynamoDBDocumentClient,
  table: string,
  keys: readonly string[],
  concurrency = RENEWAL_READ_CONCURRENCY,
  rule: IdentityRule = identityRuleFromEnv(process.env),
): Promise<Map<string, RenewalRecord[]>> {
  const unique = [...new Set(keys)];
  const read = await mapWithConcurrency(unique, concurrency, async pk => {
    const pointers = (await queryPartition(ddb, table, pk)) as unknown as RenewalRecord[];
    if (pointers.length === 0) return [];
    const { roleName, grant } = pointers[0];
    const requesters = await sealedRequesters(ddb, table, roleName, grant, rule);
    const bound: RenewalRecord[] = [];
    for (const p of pointers) {
      const seal = await readSeal(ddb, table, p.approverUserId, { kind: 'renewal', id: p.renewalId, roleName: p.roleName, grant: p.grant });
      // Unbound (forged, or written before seals existed): never handed to decide.
      if (!seal || !sealMatches(seal, { ...renewalIntent(p), userId: p.approverUserId ?? '' })) continue;
      bound.push({ ...p, verified: { approver: personOf(String(seal.userId), rule), requesters } });
    }
    return bound;
  });
  // In the keys' order, whatever order the reads finished in.
  return new Map(unique.map((pk, i) => [pk, read[i]]));
}

/** The intent a renewal pointer claims (its seal must say exactly this). */
export function renewalIntent(r: RenewalRecord): SealedIntent {
  return {
    kind: 'renewal',
    id: r.renewalId,
    roleName: r.roleName,
    grant: r.grant,
    until: r.until,
    ticket: r.ticket,
    callerArn: r.approvedBy,
    userId: r.approverUserId ?? '',
    account: r.approverAccount ?? '',
    createdAt: r.createdAt,
  };
}

const INTENT_FIELDS: readonly (keyof SealedIntent)[] = [
  'kind',
  'id',
  'roleName',
  'grant',
  'until',
  'ticket',
  'callerArn',
  'userId',
  'account',
  'createdAt',
];

/** True when the seal (an item read from SEAL#<userid>) says exactly what the pointer claims, under its own userid. */
export function sealMatches(seal: Record<string, unknown>, claimed: SealedIntent): boolean {
  if (!claimed.userId || seal.pk !== sealPartition(claimed.userId) || seal.sk !== sealSortKey(claimed)) return false;
  return INTENT_FIELDS.every(f => seal[f] === claimed[f]);
}

/** The seal of an intent, or undefined. */
export async function readSeal(
  ddb: DynamoDBDocumentClient,
  table: string,
  userId: string | undefined,
  intent: Pick<SealedIntent, 'kind' | 'roleName' | 'grant' | 'id'>,
): Promise<Record<string, unknown> | undefined> {
  if (!userId) return undefined;
  const r = await ddb.send(
    new GetCommand({ TableName: table, Key: { pk: sealPartition(userId), sk: sealSortKey(intent) }, ConsistentRead: true }),
  );
  return r.Item;
}

/** Every person whose request of the grant is sealed (a pointer alone proves nothing). */
export async function sealedRequesters(
  ddb: DynamoDBDocumentClient,
  table: string,
  roleName: string,
  grant: string,
  rule: IdentityRule = DEFAULT_IDENTITY_RULE,
): Promise<string[]> {
  const pointers = (await queryPartition(ddb, table, requestPartition(roleName, grant))) as unknown as SealedIntent[];
  const people = new Set<string>();
  for (const p of pointers) {
    const seal = await readSeal(ddb, table, p.userId, p);
    if (seal && sealMatches(seal, pick(p))) people.add(personOf(p.userId, rule));
  }
  return [...people].sort();
}

function pick(item: SealedIntent): SealedIntent {
  const out: Record<string, unknown> = {};
  for (const f of INTENT_FIELDS) out[f] = item[f];
  return out as unknown as SealedIntent;
}

async function queryPartition(ddb: DynamoDBDocumentClient, table: string, pk: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let key: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': pk },
        ExclusiveStartKey: key,
        ConsistentRead: true,
      }),
    );
    items.push(...(page.Items ?? []));
    key = page.LastEvaluatedKey;
  } while (key);
  return items;
}
