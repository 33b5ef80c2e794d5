/**
 * The activity contract: what the activity recorder writes into the ledger
 * table (aggregates of what each governed role did, access it was refused,
 * access new to it) and the events it puts. The recorder, the sweeper (unused
 * grants decay early) and the CLI (`activity`, `requests`, `request
 * --from-denial`) all read these shapes from here.
 *
 * These items live beside the hash-chained decision records, under their own
 * partitions, and are written by the recorder alone (its role may write only
 * these partitions). They are observations, not decisions: a decision that
 * follows from them (a grant from a denial, an unused grant revoked) is a
 * chained record as before.
 */
import { createHash } from 'crypto';
import { LEDGER_TABLE_ENV } from './ledger-schema';

// ---------------------------------------------------------------------------
// Partitions and keys
// ---------------------------------------------------------------------------

/** Aggregates: pk = `ACTIVITY#<roleName>`, sk = `<day>#<action>#<resource digest>`. One item per role, action, resource and day. */
export const ACTIVITY_PARTITION_PREFIX = 'ACTIVITY#';
/** What a role has used, by action and by resource (novel access is judged against it): pk = `ACTIVITY-SEEN#<roleName>`. */
export const ACTIVITY_SEEN_PARTITION_PREFIX = 'ACTIVITY-SEEN#';
/** Delegation session tags by session access key: pk = `ACTIVITY-SESSION#<access key id>`, sk = SESSION_SORT_KEY. */
export const ACTIVITY_SESSION_PARTITION_PREFIX = 'ACTIVITY-SESSION#';
export const SESSION_SORT_KEY = 'SESSION';
/** Refused calls of governed roles: pk = ACCESS_REQUEST_PARTITION, sk = `<roleName>#<day>#<id>`. */
export const ACCESS_REQUEST_PARTITION = 'ACCESS-REQUEST';
/** First uses outside a role's baseline window: pk = NOVEL_ACCESS_PARTITION, sk = `<roleName>#<day>#<id>`. */
export const NOVEL_ACCESS_PARTITION = 'NOVEL-ACCESS';

/** Every partition the recorder writes (its role may write no other: dynamodb:LeadingKeys). */
export const ACTIVITY_WRITE_PARTITIONS = [
  `${ACTIVITY_PARTITION_PREFIX}*`,
  `${ACTIVITY_SEEN_PARTITION_PREFIX}*`,
  `${ACTIVITY_SESSION_PARTITION_PREFIX}*`,
  ACCESS_REQUEST_PARTITION,
  NOVEL_ACCESS_PARTITION,
] as const;

export function activityPartition(roleName: string): string {
  return `${ACTIVITY_PARTITION_PREFIX}${roleName}`;
}
export function activitySeenPartition(roleName: string): string {
  return `${ACTIVITY_SEEN_PARTITION_PREFIX}${roleName}`;
}
export function activitySessionPartition(accessKeyId: string): string {
  return `${ACTIVITY_SESSION_PARTITION_PREFIX}${accessKeyId}`;
}
/** Sort key of an aggregate: the day first, so a time range is one Query. `digest`: resourceDigest of the full resource. */
export function activitySortKey(day: string, action: string, digest: string): string {
  return `${day}#${action}#${digest}`;
}
/** Sort key of an access request or a novel access. */
export function findingSortKey(roleName: string, day: string, id: string): string {
  return `${roleName}#${day}#${id}`;
}

/** 16 hex of sha256 of the full resource: keys stay short whatever a resource ARN holds. */
export function resourceDigest(resource: string): string {
  return createHash('sha256').update(resource).digest('hex').slice(0, 16);
}

/**
 * The id of an access request or novel access: 16 hex of sha256 over role,
 * action, resource and day. The same refusal on the same day is the same id,
 * which is how both are deduplicated per day.
 */
export function findingId(roleName: string, action: string, resourceKey: string, day: string): string {
  return createHash('sha256').update(`${roleName}\n${action}\n${resourceKey}\n${day}`).digest('hex').slice(0, 16);
}

/** The UTC day of an instant: `YYYY-MM-DD`. */
export function dayOf(instant: string): string {
  return instant.slice(0, 10);
}

// ---------------------------------------------------------------------------
// Bounds (DynamoDB items are at most 400 KB; EventBridge entries 256 KB)
// ---------------------------------------------------------------------------

export const ACTIVITY_LIMITS = {
  /** Characters of a resource kept; a longer one keeps its start and is marked `resourceTruncated` (its digest covers all of it). */
  resourceChars: 1024,
  /** Characters of an action kept. */
  actionChars: 128,
  /** Characters of a refusal's error message kept. */
  errorMessageChars: 512,
  /** Distinct origin agents and chains kept per aggregate (more are counted in `attributionsOmitted`). */
  attributions: 10,
  /** Characters of one origin or chain kept. */
  attributionChars: 256,
  /** Contributions remembered per item to recognise a redelivered batch. */
  contributions: 8,
} as const;

// ---------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------

/** Read or write, from the IAM action catalogue's access level (Write, Permissions management and Tagging write). */
export type ActivityAccess = 'read' | 'write';

/** Who a call is attributable to down a delegation chain (from the session tags of the role's assumption). */
export interface ActivityAttribution {
  /** The agent that started the chain (`governance:origin-agent`). */
  readonly origin?: string;
  /** The chain so far, origin first (`governance:delegation-chain`). */
  readonly chain?: string;
}

/** One aggregate: what a role did with one action on one resource in one UTC day. */
export interface ActivityItem {
  readonly pk: string;
  readonly sk: string;
  readonly roleName: string;
  readonly day: string;
  /** `service:Action`, as IAM names it. */
  readonly action: string;
  /** The resource ARN (or `*` when the call names none). */
  readonly resource: string;
  readonly resourceTruncated?: boolean;
  readonly access: ActivityAccess;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  /** Calls counted (at least once each; see README "Activity" on redelivery). */
  readonly count: number;
  /** Distinct attributions of the day's calls (at most ACTIVITY_LIMITS.attributions). */
  readonly attributions: ActivityAttribution[];
  readonly attributionsOmitted?: number;
  /** Tokens of the last contributions (a redelivered batch with the same token is not counted again). */
  readonly contributions: string[];
}

/** A refused call of a governed role, surfaced for review (one per role, action, resource and day). */
export interface AccessRequestItem {
  readonly pk: string;
  readonly sk: string;
  readonly id: string;
  readonly roleName: string;
  readonly day: string;
  readonly action: string;
  readonly resource: string;
  readonly resourceTruncated?: boolean;
  readonly access: ActivityAccess;
  /** `AccessDenied`, `UnauthorizedOperation`, ... as CloudTrail has it. */
  readonly errorCode: string;
  readonly errorMessage?: string;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  readonly count: number;
  readonly attributions: ActivityAttribution[];
  readonly attributionsOmitted?: number;
  readonly contributions: string[];
  /** Set once the access-requested event was put (a redelivery puts it if it is still false). */
  readonly notified: boolean;
}

/** Why an access is novel. */
export type NoveltyKind = 'action' | 'resource' | 'action-and-resource';

/** A first use outside the role's baseline window. */
export interface NovelAccessItem {
  readonly pk: string;
  readonly sk: string;
  readonly id: string;
  readonly roleName: string;
  readonly day: string;
  readonly action: string;
  readonly resource: string;
  readonly access: ActivityAccess;
  readonly novelty: NoveltyKind;
  /** When the call was made. */
  readonly at: string;
  /** The baseline window in seconds that the call fell outside of. */
  readonly baselineWindowSeconds: number;
  readonly attributions: ActivityAttribution[];
  readonly notified: boolean;
}

/** What a role has used: one action or one resource, with the last day it was used. */
export interface ActivitySeenItem {
  readonly pk: string;
  readonly sk: string;
  readonly firstSeenAt: string;
  readonly lastSeenDay: string;
}

/** The session tags an assumption of a governed role carried, by the session's access key. */
export interface ActivitySessionItem {
  readonly pk: string;
  readonly sk: string;
  readonly roleName: string;
  readonly attribution: ActivityAttribution;
  readonly assumedAt: string;
}

// ---------------------------------------------------------------------------
// Events (EventBridge, source EVENT_SOURCE)
// ---------------------------------------------------------------------------

/** detail-type of an access request; the detail is the AccessRequestItem without pk/sk/contributions. */
export const ACCESS_REQUESTED_DETAIL_TYPE = 'Permission Decay Access Requested';
/** detail-type of a novel access; the detail is the NovelAccessItem without pk/sk. */
export const NOVEL_ACCESS_DETAIL_TYPE = 'Permission Decay Novel Access';

/** The CloudTrail detail-type the recorder's rule matches. */
export const CLOUDTRAIL_API_CALL_DETAIL_TYPE = 'AWS API Call via CloudTrail';

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

export const ACTIVITY_ENV = {
  ledgerTable: LEDGER_TABLE_ENV,
  /** Bus that receives access-requested and novel-access events. */
  eventBusName: 'PERMISSION_DECAY_EVENT_BUS',
  /** Seconds of activity a role's baseline covers (novel access is judged against it). */
  baselineWindowSeconds: 'PERMISSION_DECAY_BASELINE_WINDOW_SECONDS',
  /** The account whose governed roles the recorder records (events of other accounts are ignored). */
  account: 'PERMISSION_DECAY_ACCOUNT',
} as const;

/** Default baseline window: 30 days of activity. */
export const DEFAULT_BASELINE_WINDOW_SECONDS = 30 * 24 * 3600;
/** Default period after which an unused grant or drift decays early: 14 days. */
export const DEFAULT_UNUSED_AFTER_SECONDS = 14 * 24 * 3600;
