/**
 * Tag keys and values, IAM paths and the IAM limits the tag schema respects.
 * Nothing outside lib/contract/ spells a tag key.
 */

/** Every governed role carries this tag with value {@link MANAGED_BY_VALUE}. */
export const TAG_MANAGED_BY = 'governance:managed-by';
export const MANAGED_BY_VALUE = 'permission-decay';
/** The agent id of a governed role. */
export const TAG_AGENT = 'governance:agent';
/** A contact for the agent's owner. */
export const TAG_OWNER = 'governance:owner';
/**
 * Digest of the approved spec the deploy wrote with the role (CloudFormation,
 * in the same deploy as the spec parameter, which carries it as `digest`): the
 * sweeper reads specs from SSM only when a role's digest is not the one cached.
 */
export const TAG_SPEC_DIGEST = 'governance:spec-digest';
/** Prefix of a grant's expiry tag; the rest of the key is the grant's policy name. */
export const TAG_GRANT_PREFIX = 'governance:grant:';
/**
 * Marks the sweeper's own resources (function, rule, role, topic, queue, key,
 * log group, alarms) with value {@link SWEEPER_COMPONENT_VALUE}, so governed
 * roles' boundaries can deny tampering with them. Not `governance:managed-by`:
 * that would make the sweeper's role a governed role.
 */
export const TAG_COMPONENT = 'governance:component';
export const SWEEPER_COMPONENT_VALUE = 'permission-decay-sweeper';
/**
 * The IAM path of every governed role. A role's path is fixed when it is
 * created and is part of its ARN, so it is the anchor of governance that no
 * one can take away afterwards: the boundary's protections and the sweeper's
 * scope key on it, and the governance tags are hints checked against it.
 */
export const GOVERNED_ROLE_PATH = '/permission-decay/agents/';
/** The IAM path of the sweeper's own role (never a governed role). */
export const SWEEPER_ROLE_PATH = '/permission-decay/sweeper/';
/** Compliance regime of a resource or an agent. */
export const TAG_COMPLIANCE = 'governance:compliance';

/** IAM limits that the contract must respect. */
export const IAM_LIMITS = {
  /** Tag keys: 1..128 characters. */
  tagKeyMaxLength: 128,
  /** Tag values: 0..256 characters. */
  tagValueMaxLength: 256,
  /** Tags on one role. */
  maxTagsPerRole: 50,
  /** Inline policy names: 1..128 characters. */
  policyNameMaxLength: 128,
  /** Aggregate size of a role's inline policies (characters, whitespace not counted). */
  inlinePolicyAggregateChars: 10240,
  /** Size of one managed policy document (characters, whitespace not counted). */
  managedPolicyChars: 6144,
  /** Managed policies attached to a role (default quota; can be raised to 20). */
  maxManagedPoliciesPerRole: 10,
} as const;

/** Characters IAM accepts in tag keys and values. */
export const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** Characters we accept in one field of a grant tag value (no spaces: space separates fields). */
export const GRANT_FIELD_CHARS = /^[A-Za-z0-9_.:/=+\-@]+$/;
/** Characters a grant (policy) name may use: what both an IAM policy name and a tag key accept. */
export const GRANT_NAME_CHARS = /^[A-Za-z0-9_.+=@\-]+$/;
export const GRANT_NAME_MAX_LENGTH = IAM_LIMITS.tagKeyMaxLength - TAG_GRANT_PREFIX.length;

/** The expiry tag key for a grant whose policy is named `policyName`. */
export function grantTagKey(policyName: string): string {
  return `${TAG_GRANT_PREFIX}${policyName}`;
}

/** The policy name of a grant tag key, or undefined when the key is not a grant tag. */
export function policyNameOfGrantTag(tagKey: string): string | undefined {
  if (tagKey.length <= TAG_GRANT_PREFIX.length) return undefined;
  if (tagKey.slice(0, TAG_GRANT_PREFIX.length).toLowerCase() !== TAG_GRANT_PREFIX) return undefined;
  return tagKey.slice(TAG_GRANT_PREFIX.length);
}
