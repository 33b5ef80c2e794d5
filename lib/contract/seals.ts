/** Identities and sealed intents: what a person asserted, written where only they can write. */

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
