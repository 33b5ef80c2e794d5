/** The sweeper's configuration (Lambda environment; the CLI reads the same names) and its metric names. */
import { LEDGER_TABLE_ENV } from './ledger-schema';

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
