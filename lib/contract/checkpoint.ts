/** Freeze checkpoints: the body of a `checkpoint` record. */

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
