/** The ledger's table layout and record shapes (DynamoDB, append-only), its head tag and its signing message. */
import { CheckpointBody } from './checkpoint';

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
  | 'checkpoint' // a snapshot of the role's effective permissions
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

/**
 * Role tag the sweeper writes after each append: `<seq>:<first 16 hex of the
 * record's hash>`, the role's chain head anchored outside the ledger table.
 * Only the sweeper may write it (requesters may only write grant tags).
 */
export const TAG_LEDGER_HEAD = 'governance:ledger-head';
/** Hex characters of the head hash the anchor tag carries. */
export const LEDGER_HEAD_HASH_CHARS = 16;

/** The signing algorithm of the ledger key (ECC_NIST_P256). */
export const LEDGER_SIGNING_ALGORITHM = 'ECDSA_SHA_256';
/** Key spec of the ledger signing key. */
export const LEDGER_SIGNING_KEY_SPEC = 'ECC_NIST_P256';
/** What is signed for a record: domain, role, seq and the record's hash (which covers its content and the chain before it). */
export function ledgerSigningMessage(roleName: string, seq: number, hash: string): string {
  return `permission-decay/ledger/v1\n${roleName}\n${seq}\n${hash}`;
}
