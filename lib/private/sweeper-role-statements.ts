/**
 * The sweeper role's own statements (the grants that CDK writes for the bus,
 * topic, log group and dead-letter queue are added beside them by the construct).
 *
 * Kept as a pure function of a few ARNs so the policy can be read, and tested,
 * in one place.
 */
import { Stack, aws_iam as iam } from 'aws-cdk-lib';
import { governedRolesArn } from './governed-roles';
import { MANAGED_BY_VALUE, SPEC_PARAMETER_PREFIX, TAG_AGENT, TAG_GRANT_PREFIX, TAG_MANAGED_BY, TAG_OWNER } from '../contract';

/** What the statements are scoped to. */
export interface SweeperRoleScope {
  readonly stack: Stack;
  /** ARN of the ledger table. */
  readonly ledgerTableArn: string;
  /** ARN of the sweeper's own role. */
  readonly roleArn: string;
}

/** Statement ids, for tests and for people reading the policy in the console. */
export const SWEEPER_SID = {
  readIam: 'ReadAccountIam',
  readGovernedRoles: 'ReadGovernedRoles',
  readSpecs: 'ReadApprovedSpecs',
  changeGovernedRoleGrants: 'ChangeGovernedRoleGrants',
  tagGovernedRoleGrants: 'TagGovernedRoleGrants',
  untagGovernedRoleGrants: 'UntagGovernedRoleGrants',
  denyRemovingGovernanceTags: 'DenyRemovingGovernanceTags',
  renewManagedGrants: 'RenewManagedGrantPolicies',
  appendLedger: 'AppendToLedger',
  denyLedgerErasure: 'DenyLedgerErasure',
  denyEscalation: 'DenyPrivilegeEscalation',
  denySelfChange: 'DenyChangingOwnRole',
} as const;

/** Role write actions the sweeper needs on governed roles: revoke grants and move their date condition. */
export const GOVERNED_ROLE_WRITE_ACTIONS = ['iam:DeleteRolePolicy', 'iam:DetachRolePolicy', 'iam:PutRolePolicy'];
/** Tag actions, limited further by tag key. */
export const GOVERNED_ROLE_TAG_ACTIONS = ['iam:TagRole', 'iam:UntagRole'];
/** The governance tags a governed role must keep: the sweeper may put them back (values from the spec), never remove them. */
export const GOVERNANCE_TAG_KEYS = [TAG_MANAGED_BY, TAG_AGENT, TAG_OWNER];
/**
 * Item actions the ledger needs: conditional appends (also inside
 * TransactWriteItems: a record Put and its STATE Put) and reads. No
 * UpdateItem: no code edits a record in place, so the role cannot either.
 */
export const LEDGER_ACTIONS = ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'];
/** Never allowed on the ledger, whatever is granted later. */
export const LEDGER_DENIED_ACTIONS = [
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteBackup',
  'dynamodb:DeleteItem',
  'dynamodb:DeleteTable',
  'dynamodb:PartiQLDelete',
  'dynamodb:PartiQLUpdate',
  'dynamodb:UpdateContinuousBackups',
  'dynamodb:UpdateItem',
  'dynamodb:UpdateTable',
  'dynamodb:UpdateTimeToLive',
];
/** Never allowed anywhere: each would let the sweeper widen a role instead of narrowing it. */
export const ESCALATION_ACTIONS = [
  'iam:AttachRolePolicy',
  'iam:CreateRole',
  'iam:DeleteRolePermissionsBoundary',
  'iam:PassRole',
  'iam:PutRolePermissionsBoundary',
  'iam:UpdateAssumeRolePolicy',
];

export function sweeperRoleStatements(scope: SweeperRoleScope): iam.PolicyStatement[] {
  const { stack } = scope;
  // Every role write is scoped by ARN to the governed path, which is fixed when a role is created: a tag that
  // anyone allowed to tag a role can add (or remove) neither brings a role into reach nor takes one out.
  const governedRoles = governedRolesArn(stack);
  const specPath = SPEC_PARAMETER_PREFIX.replace(/^\/+|\/+$/g, '');
  const ledger = [scope.ledgerTableArn, `${scope.ledgerTableArn}/*`];

  return [
    // The read snapshot: GetAccountAuthorizationDetails takes no resource; the
    // policy reads cover AWS-managed and customer-managed policies alike.
    new iam.PolicyStatement({
      sid: SWEEPER_SID.readIam,
      actions: ['iam:GetAccountAuthorizationDetails', 'iam:GetPolicy', 'iam:GetPolicyVersion', 'iam:ListPolicyVersions'],
      resources: ['*'],
    }),
    // Per-role reads, to re-check a role just before changing it: governed roles only.
    new iam.PolicyStatement({
      sid: SWEEPER_SID.readGovernedRoles,
      actions: ['iam:GetRole', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies', 'iam:ListRoleTags'],
      resources: [governedRoles],
    }),
    new iam.PolicyStatement({
      sid: SWEEPER_SID.readSpecs,
      actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
      resources: [
        // GetParametersByPath is authorised against the path itself.
        stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: specPath }),
        stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${specPath}/*` }),
      ],
    }),
    // Revoke (delete/detach), renew and bound (rewrite an inline grant's date condition): governed-path roles only.
    new iam.PolicyStatement({
      sid: SWEEPER_SID.changeGovernedRoleGrants,
      actions: GOVERNED_ROLE_WRITE_ACTIONS,
      resources: [governedRoles],
    }),
    // Tags it writes: grant expiry tags, and the governance tags it puts back when someone removed them
    // (managed-by only with its one value; agent and owner come from the approved spec).
    new iam.PolicyStatement({
      sid: SWEEPER_SID.tagGovernedRoleGrants,
      actions: ['iam:TagRole'],
      resources: [governedRoles],
      conditions: {
        'ForAllValues:StringLike': { 'aws:TagKeys': [`${TAG_GRANT_PREFIX}*`, ...GOVERNANCE_TAG_KEYS] },
        Null: { 'aws:TagKeys': 'false' },
        StringEqualsIfExists: { [`aws:RequestTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE },
      },
    }),
    // Tags it removes: grant expiry tags only.
    new iam.PolicyStatement({
      sid: SWEEPER_SID.untagGovernedRoleGrants,
      actions: ['iam:UntagRole'],
      resources: [governedRoles],
      conditions: {
        'ForAllValues:StringLike': { 'aws:TagKeys': [`${TAG_GRANT_PREFIX}*`] },
        Null: { 'aws:TagKeys': 'false' },
      },
    }),
    // A customer-managed grant policy is renewed by writing a new default
    // version with the moved date condition (and deleting the oldest, since a
    // policy keeps at most five). Only policies tagged as governed: a managed
    // policy has no governed path, and a version the sweeper writes only ever adds a date condition, so the tag
    // is the policy owner's consent to having it narrowed, not a way to widen anything.
    new iam.PolicyStatement({
      sid: SWEEPER_SID.renewManagedGrants,
      actions: ['iam:CreatePolicyVersion', 'iam:DeletePolicyVersion'],
      resources: [stack.formatArn({ service: 'iam', region: '', resource: 'policy', resourceName: '*' })],
      conditions: { StringEquals: { [`aws:ResourceTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE } },
    }),
    new iam.PolicyStatement({
      sid: SWEEPER_SID.appendLedger,
      actions: LEDGER_ACTIONS,
      resources: [scope.ledgerTableArn],
    }),
    // Explicit denies win over any allow: a later grantReadWriteData or an
    // operator's managed policy cannot let the sweeper erase history (TTL and
    // PITR changes included, as both lose records).
    new iam.PolicyStatement({
      sid: SWEEPER_SID.denyLedgerErasure,
      effect: iam.Effect.DENY,
      actions: LEDGER_DENIED_ACTIONS,
      resources: ledger,
    }),
    new iam.PolicyStatement({
      sid: SWEEPER_SID.denyEscalation,
      effect: iam.Effect.DENY,
      actions: ESCALATION_ACTIONS,
      resources: ['*'],
    }),
    // Whatever is granted later, the sweeper never takes a role's governance tags away.
    new iam.PolicyStatement({
      sid: SWEEPER_SID.denyRemovingGovernanceTags,
      effect: iam.Effect.DENY,
      actions: ['iam:UntagRole'],
      resources: ['*'],
      conditions: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': GOVERNANCE_TAG_KEYS } },
    }),
    // Even if someone tags the sweeper's role as governed, it cannot rewrite itself.
    new iam.PolicyStatement({
      sid: SWEEPER_SID.denySelfChange,
      effect: iam.Effect.DENY,
      actions: [...GOVERNED_ROLE_WRITE_ACTIONS, ...GOVERNED_ROLE_TAG_ACTIONS],
      resources: [scope.roleArn],
    }),
  ];
}
