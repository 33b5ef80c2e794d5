/**
 * The plain data model the governance analysis works on (issue 7).
 *
 * The construct builds these records from its roles, grants, delegations and
 * tagged resources; the analysis never sees a CDK construct, so it can be
 * tested alone and reused by the CLI. Internal: not exported from lib/index.ts.
 */

/** Where a statement comes from on the agent's role. */
export type StatementSource = 'baseline' | 'grant' | 'delegation';

/** A resource as a statement names it. */
export interface ResourceRef {
  /**
   * The resource as written or resolved: an ARN (wildcards `*` and `?`
   * allowed), `*`, or an unresolved CloudFormation value rendered to a stable
   * string (e.g. `${Token[Bucket.Arn]}`). Matched against store ARN patterns
   * by wildcard intersection.
   */
  readonly text: string;
  /**
   * The key of the store this resource is known to be (set by the construct
   * when the resource came from a store it knows, e.g. `bucket.bucketArn`).
   * Needed whenever `text` is an unresolved token, since a token matches no
   * ARN pattern.
   * @default - linked to stores by ARN pattern only
   */
  readonly storeKey?: string;
}

/** One IAM statement of an agent's role, as the analysis needs it. */
export interface AnalysedStatement {
  readonly effect: 'Allow' | 'Deny';
  /** `Action` of the statement. Exactly one of actions and notActions. */
  readonly actions?: readonly string[];
  /** `NotAction` of the statement. */
  readonly notActions?: readonly string[];
  /** `Resource` of the statement (`[{ text: '*' }]` for every resource). */
  readonly resources: readonly ResourceRef[];
  /**
   * `NotResource` of the statement. An Allow with NotResource is treated as
   * reaching `*` (over-approximation); a Deny with NotResource is not
   * subtracted.
   * @default - none
   */
  readonly notResources?: readonly ResourceRef[];
  /**
   * True when the statement has conditions other than the grant expiry
   * condition. An Allow is still counted (the shadow over-approximates); a
   * conditional Deny is not subtracted.
   * @default false
   */
  readonly conditional?: boolean;
  readonly source: StatementSource;
  /** The grant's (policy's) name, for grant and delegation statements. */
  readonly grantName?: string;
  /** The grant's expiry (contract expiry form). @default - no expiry (baseline) */
  readonly expiresAt?: string;
  /** Compliance regimes this grant is approved to reach outside the agent's own. @default - none */
  readonly approvedRegimes?: readonly string[];
}

/** A delegation: this agent may assume another agent's role. */
export interface DelegationModel {
  readonly toAgentId: string;
  /** When the delegation expires (contract expiry form). @default - no expiry */
  readonly expiresAt?: string;
  /** What carries the delegation on the role, e.g. the grant or policy name; shown in paths. */
  readonly via: string;
  /**
   * Regimes the delegating agent may reach through this delegation although
   * they are not among its own regimes.
   * @default - none
   */
  readonly approvedRegimes?: readonly string[];
}

export interface AgentModel {
  readonly agentId: string;
  /** Compliance regimes the agent may touch. An empty list: no regulated store at all. */
  readonly regimes: readonly string[];
  readonly statements: readonly AnalysedStatement[];
  readonly delegations: readonly DelegationModel[];
}

/** The kinds of data store the inventory knows; each maps to the IAM services that act on it. */
export type StoreKind =
  | 's3-bucket'
  | 's3-directory-bucket'
  | 's3-vector-bucket'
  | 'dynamodb-table'
  | 'log-group'
  | 'sqs-queue'
  | 'sns-topic'
  | 'kinesis-stream'
  | 'firehose-stream'
  | 'elasticache-cache'
  | 'memorydb-cluster'
  | 'opensearch-collection'
  | 'opensearch-domain'
  | 'rds-database'
  | 'efs-file-system';

/** A data store (or any resource carrying a compliance regime). */
export interface StoreModel {
  /** Unique key, e.g. the construct path. */
  readonly key: string;
  readonly kind: StoreKind;
  /** A name people recognise (construct path, bucket name). @default - the key */
  readonly displayName?: string;
  /** Compliance regime (TAG_COMPLIANCE). @default - unknown */
  readonly regime?: string;
  /** Retention in words, e.g. `30 days`, `never expires`. @default - unknown */
  readonly retention?: string;
  /** Owner contact (TAG_OWNER). @default - unknown */
  readonly owner?: string;
  /**
   * ARN patterns that cover the store and everything in it, e.g.
   * `arn:aws:s3:::my-bucket` and `arn:aws:s3:::my-bucket/*`. Unresolved
   * tokens match nothing; link such stores through ResourceRef.storeKey.
   */
  readonly arnPatterns: readonly string[];
}

/** IAM service prefixes whose actions act on each kind of store. */
export const STORE_KIND_SERVICES: Readonly<Record<StoreKind, readonly string[]>> = {
  's3-bucket': ['s3'],
  's3-directory-bucket': ['s3express'],
  's3-vector-bucket': ['s3vectors'],
  'dynamodb-table': ['dynamodb'],
  'log-group': ['logs'],
  'sqs-queue': ['sqs'],
  'sns-topic': ['sns'],
  'kinesis-stream': ['kinesis'],
  'firehose-stream': ['firehose'],
  'elasticache-cache': ['elasticache'],
  'memorydb-cluster': ['memorydb'],
  'opensearch-collection': ['aoss'],
  'opensearch-domain': ['es'],
  'rds-database': ['rds-data', 'rds-db'],
  'efs-file-system': ['elasticfilesystem'],
};

/** The store kind a data-store service acts on; used for writes to stores the model does not know. */
export const SERVICE_STORE_KIND: Readonly<Record<string, StoreKind>> = Object.fromEntries(
  Object.entries(STORE_KIND_SERVICES).flatMap(([kind, services]) => services.map(s => [s, kind as StoreKind])),
);

/** A problem found while analysing: a value, never a throw (STYLE 6). */
export interface AnalysisProblem {
  readonly code: string;
  readonly agentId?: string;
  readonly message: string;
}

/** The regime value used when a store has none. */
export const UNKNOWN = 'unknown';
