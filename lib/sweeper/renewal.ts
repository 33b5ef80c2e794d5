/**
 * Renewals: records that extend a grant, approved by someone other than its
 * requester. Validity is a pure function; reading is one Query per grant that
 * needs it (expired, expiring, or whose tag moved), never a scan.
 */
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  AgentSpec, DEFAULT_MAX_GRANT_DURATION_SECONDS, DEFAULT_MAX_RENEWALS, parseExpiry, renewalPartition, RenewalRecord,
} from '../private/contract';
import { mapWithConcurrency } from './bounded-concurrency';

/** role -> grant -> renewal records (any order). */
export type RenewalIndex = ReadonlyMap<string, readonly RenewalRecord[]>;

export function renewalKey(roleName: string, grant: string): string {
  return renewalPartition(roleName, grant);
}

/** The name an identity ARN acts under: the last path segment (user name, or an assumed role's session name). */
export function identityName(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
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
  r: RenewalRecord, roleName: string, grant: string, requester: string, nowMs: number, spec: AgentSpec | undefined, ordinal: number,
): string | undefined {
  if (r.roleName !== roleName || r.grant !== grant) return 'names another role or grant';
  let until: number;
  try {
    until = parseExpiry(r.until, 'renewal until').getTime();
  } catch (e) {
    return (e as Error).message;
  }
  if (until <= nowMs) return `ended at ${r.until}`;
  if (isSelfApproval(r.approvedBy, requester) || isSelfApproval(r.approvedBy, r.requestedBy)) return `approved by the requester (${r.approvedBy})`;
  const maxSeconds = spec?.maxGrantDurationSeconds ?? DEFAULT_MAX_GRANT_DURATION_SECONDS;
  if ((until - nowMs) / 1000 > maxSeconds) return `runs past the maximum grant duration of ${maxSeconds}s`;
  const maxRenewals = spec?.maxRenewals ?? DEFAULT_MAX_RENEWALS;
  if (ordinal > maxRenewals) return `is renewal ${ordinal}; at most ${maxRenewals} are allowed`;
  return undefined;
}

/**
 * The valid renewal with the latest end, among a grant's renewal records.
 * Renewals count in creation order; the (maxRenewals+1)-th and later never count.
 */
export function chooseRenewal(
  records: readonly RenewalRecord[] | undefined, roleName: string, grant: string, requester: string, nowMs: number, spec: AgentSpec | undefined,
): RenewalRecord | undefined {
  const ordered = [...(records ?? [])].sort((a, b) => a.sk.localeCompare(b.sk));
  let best: RenewalRecord | undefined;
  ordered.forEach((r, i) => {
    if (renewalProblem(r, roleName, grant, requester, nowMs, spec, i + 1) !== undefined) return;
    if (!best || r.until > best.until) best = r;
  });
  return best;
}

/** Renewal Queries in flight at once (a sweep reads one per expiring grant; each is a round trip). */
export const RENEWAL_READ_CONCURRENCY = 8;

/** Reads the renewal records of the given (role, grant) keys: one Query each, a few at a time. */
export async function readRenewals(
  ddb: DynamoDBDocumentClient, table: string, keys: readonly string[], concurrency = RENEWAL_READ_CONCURRENCY,
): Promise<Map<string, RenewalRecord[]>> {
  const unique = [...new Set(keys)];
  const read = await mapWithConcurrency(unique, concurrency, async pk => {
    const items: RenewalRecord[] = [];
    let key: Record<string, unknown> | undefined;
    do {
      const page = await ddb.send(new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': pk },
        ExclusiveStartKey: key,
        ConsistentRead: true,
      }));
      items.push(...(page.Items ?? []) as RenewalRecord[]);
      key = page.LastEvaluatedKey;
    } while (key);
    return items;
  });
  // In the keys' order, whatever order the reads finished in.
  return new Map(unique.map((pk, i) => [pk, read[i]]));
}
