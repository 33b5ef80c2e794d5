/** The ledger's per-role STATE item: the head of the role's chain and what the sweeper remembers per grant. */

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
