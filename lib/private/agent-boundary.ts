/**
 * The permissions boundary of governed roles. About 360 lines: most of it is
 * the list of resource-policy write actions and the denies, each with its reason.
 *
 * An agent's identity policies say what it may do; the boundary says what it
 * can never do, whatever a grant (even one added by hand) says: it cannot
 * reach past the ceiling, and it cannot loosen its own governance, take the
 * sweeper's identity, blind or drive the sweeper, forge decisions, assume
 * another governed role outside a declared delegation, or leave access behind
 * in a resource policy that outlives its grant.
 *
 * The protections anchor on what an agent cannot change: the IAM path of the
 * roles (part of their ARN, fixed at creation) and resource ARNs. Tags are
 * used only as a second, weaker anchor for resources that live elsewhere.
 */
import { Aws, Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  EVENT_SOURCE,
  GOVERNED_ROLE_PATH,
  LEDGER_TABLE_NAME_PREFIX,
  MANAGED_BY_VALUE,
  SESSION_TAG_DELEGATED_BY,
  SPEC_PARAMETER_PREFIX,
  SWEEPER_COMPONENT_VALUE,
  TAG_COMPONENT,
  TAG_MANAGED_BY,
} from '../contract';

/** Id of the boundary that every governed role without a ceiling or resource-policy opt-in in a stack shares. */
export const SHARED_BOUNDARY_ID = 'PermissionDecayBoundary';

/** The IAM path every permission-decay role lives under: governed agents and the sweeper alike. */
export const PERMISSION_DECAY_ROOT_PATH = `/${GOVERNED_ROLE_PATH.split('/').filter(Boolean)[0]}/`;

/** Every permission-decay role (agents and sweepers) in any account, by path. */
export const PERMISSION_DECAY_ROLES_ARN = `arn:${Aws.PARTITION}:iam::*:role${PERMISSION_DECAY_ROOT_PATH}*`;

/** Every governed agent's role in any account, by path. */
export const GOVERNED_ROLES_ARN = `arn:${Aws.PARTITION}:iam::*:role${GOVERNED_ROLE_PATH}*`;

/**
 * What an agent may still do to a permission-decay role: read it, and assume
 * it or tag the session (which `DenyUndeclaredAssumption` and the target's
 * trust policy decide). Everything else that names such a role as its
 * resource (writing or attaching policies, tags, trust, boundary, passing it
 * to a service, creating a role under the path) is denied.
 */
export const ROLE_READ_AND_ASSUME_ACTIONS = ['iam:Get*', 'iam:List*', 'sts:AssumeRole', 'sts:TagSession'];

/**
 * Principal writes that could carry governance tags: an agent that could put
 * `governance:*` tags on a principal could make any role look governed (or a
 * grant look approved), and the sweeper would act on it.
 */
export const PRINCIPAL_TAG_WRITE_ACTIONS = ['iam:Tag*', 'iam:Untag*', 'iam:Create*'];

/**
 * Editing a managed policy in place changes every role it is attached to,
 * including this boundary and any grant attached as a managed policy.
 * Managed policies carry no tag the agent could not also change, so these
 * are denied on every policy.
 */
export const POLICY_VERSION_ACTIONS = [
  'iam:CreatePolicyVersion',
  'iam:SetDefaultPolicyVersion',
  'iam:DeletePolicyVersion',
  'iam:DeletePolicy',
];

/** Writes to a ledger table: the ledger is the audit trail and the memory of every revoked grant. */
export const LEDGER_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
  'dynamodb:DeleteTable',
  'dynamodb:UpdateTable',
  'dynamodb:UpdateTimeToLive',
  'dynamodb:UpdateContinuousBackups',
  'dynamodb:PutResourcePolicy',
  'dynamodb:DeleteResourcePolicy',
];

/** Writes to approved specs: the sweeper holds baselines and grants against them. */
export const SPEC_WRITE_ACTIONS = [
  'ssm:PutParameter',
  'ssm:DeleteParameter',
  'ssm:DeleteParameters',
  'ssm:LabelParameterVersion',
  'ssm:UnlabelParameterVersion',
  'ssm:AddTagsToResource',
  'ssm:RemoveTagsFromResource',
];

/**
 * Writes of resource policies (and their equivalents: ACLs, grants, sharing
 * attributes) across the common services. Access an agent writes into a
 * resource policy naming itself is not on its role, so neither the grant's
 * date condition nor the sweeper would end it. Denied unless a grant opts in
 * to exactly these actions (`allowResourcePolicyWrites`), and then only
 * until the grant's expiry. Every name is checked against the IAM catalogue
 * in the tests.
 */
export const RESOURCE_POLICY_WRITE_ACTIONS = [
  's3:PutBucketPolicy',
  's3:PutBucketAcl',
  's3:PutObjectAcl',
  's3:PutAccessPointPolicy',
  's3:PutAccessPointPolicyForObjectLambda',
  's3:PutMultiRegionAccessPointPolicy',
  's3express:PutBucketPolicy',
  's3tables:PutTableBucketPolicy',
  's3tables:PutTablePolicy',
  'lambda:AddPermission',
  'lambda:AddLayerVersionPermission',
  'lambda:CreateFunctionUrlConfig',
  'lambda:UpdateFunctionUrlConfig',
  'sqs:AddPermission',
  'sqs:SetQueueAttributes',
  'sns:AddPermission',
  'sns:SetTopicAttributes',
  'kms:PutKeyPolicy',
  'kms:CreateGrant',
  'secretsmanager:PutResourcePolicy',
  'ecr:SetRepositoryPolicy',
  'ecr:PutRegistryPolicy',
  'dynamodb:PutResourcePolicy',
  'logs:PutResourcePolicy',
  'logs:PutDestinationPolicy',
  'events:PutPermission',
  'glue:PutResourcePolicy',
  'iam:UpdateAssumeRolePolicy',
  'apigateway:UpdateRestApiPolicy',
  'es:UpdateDomainConfig',
  'es:UpdateElasticsearchDomainConfig',
  'aoss:CreateAccessPolicy',
  'aoss:UpdateAccessPolicy',
  'backup:PutBackupVaultAccessPolicy',
  'elasticfilesystem:PutFileSystemPolicy',
  'kinesis:PutResourcePolicy',
  'codeartifact:PutDomainPermissionsPolicy',
  'codeartifact:PutRepositoryPermissionsPolicy',
  'codebuild:PutResourcePolicy',
  'glacier:SetVaultAccessPolicy',
  'serverlessrepo:PutApplicationPolicy',
  'schemas:PutResourcePolicy',
  'ssm:PutResourcePolicy',
  'bedrock:PutResourcePolicy',
  'ses:CreateEmailIdentityPolicy',
  'ses:UpdateEmailIdentityPolicy',
  'mediastore:PutContainerPolicy',
  'ram:CreateResourceShare',
  'ram:AssociateResourceShare',
  'ec2:ModifySnapshotAttribute',
  'ec2:ModifyImageAttribute',
  'rds:ModifyDBSnapshotAttribute',
  'rds:ModifyDBClusterSnapshotAttribute',
];

/** Boundary statement ids, for tests and for people reading the policy in the console. */
export const BOUNDARY_SID = {
  ceiling: 'Ceiling',
  governedRoleChanges: 'DenyGovernedRoleChanges',
  taggedRoleChanges: 'DenyTaggedRoleChanges',
  undeclaredAssumption: 'DenyUndeclaredAssumption',
  governanceTags: 'DenyGovernanceTags',
  policyVersionChanges: 'DenyPolicyVersionChanges',
  ledgerWrites: 'DenyLedgerWrites',
  sweeperTampering: 'DenySweeperTampering',
  forgedDecisions: 'DenyForgedDecisions',
  specWrites: 'DenySpecWrites',
  resourcePolicyWrites: 'DenyResourcePolicyWrites',
  /** Prefix of the statement that ends one grant's resource-policy opt-in at its expiry. */
  resourcePolicyOptInEnd: 'DenyResourcePolicyWritesAfter',
} as const;

/** A grant's opt-in to resource-policy writes: the actions, until the grant's expiry. */
export interface ResourcePolicyOptIn {
  readonly grantName: string;
  readonly actions: readonly string[];
  readonly expiresAt: string;
}

/** The first segment of the spec parameter path: `/permission-decay/`. */
const SPEC_PARAMETER_ROOT = `/${SPEC_PARAMETER_PREFIX.split('/').filter(Boolean)[0]}/`;

/**
 * The statements of a boundary: the ceiling, then the denies that protect
 * governance. `optIns` is read at synth: the resource-policy deny leaves out
 * the actions a grant opted in to (a statement per opt-in denies them again
 * from the grant's expiry on; see {@link optInEndStatement}).
 */
export function boundaryStatements(
  ceiling: iam.PolicyStatement[] | undefined,
  optIns: () => readonly ResourcePolicyOptIn[] = () => [],
): iam.PolicyStatement[] {
  const allow = ceiling ?? [new iam.PolicyStatement({ sid: BOUNDARY_SID.ceiling, actions: ['*'], resources: ['*'] })];
  const deny = (props: iam.PolicyStatementProps) => new iam.PolicyStatement({ ...props, effect: iam.Effect.DENY });
  return [
    ...allow,
    deny({
      // By path: a role's path is part of its ARN and cannot change, so neither removing a tag nor
      // creating a look-alike role escapes this. Covers the sweeper's role too (no PassRole, no edits).
      sid: BOUNDARY_SID.governedRoleChanges,
      notActions: ROLE_READ_AND_ASSUME_ACTIONS,
      resources: [PERMISSION_DECAY_ROLES_ARN],
    }),
    deny({
      // A hint for governed roles outside the path (older deployments, other constructs).
      sid: BOUNDARY_SID.taggedRoleChanges,
      notActions: ROLE_READ_AND_ASSUME_ACTIONS,
      resources: ['*'],
      conditions: { StringEquals: { [`aws:ResourceTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE } },
    }),
    deny({
      // Only a request carrying the delegation session tags gets past the boundary; such a request needs
      // sts:TagSession in the target's trust policy, which only its delegation statements (pinned to
      // the delegator's role ARN) allow.
      sid: BOUNDARY_SID.undeclaredAssumption,
      actions: ['sts:AssumeRole'],
      resources: [PERMISSION_DECAY_ROLES_ARN],
      conditions: { Null: { [`aws:RequestTag/${SESSION_TAG_DELEGATED_BY}`]: 'true' } },
    }),
    deny({
      sid: BOUNDARY_SID.governanceTags,
      actions: PRINCIPAL_TAG_WRITE_ACTIONS,
      resources: ['*'],
      conditions: { 'ForAnyValue:StringLike': { 'aws:TagKeys': ['governance:*'] } },
    }),
    deny({ sid: BOUNDARY_SID.policyVersionChanges, actions: POLICY_VERSION_ACTIONS, resources: ['*'] }),
    deny({
      sid: BOUNDARY_SID.ledgerWrites,
      actions: LEDGER_WRITE_ACTIONS,
      resources: [`arn:${Aws.PARTITION}:dynamodb:*:*:table/${LEDGER_TABLE_NAME_PREFIX}*`],
    }),
    deny({
      // Nothing at all on the sweeper's resources (invoking it with a forged event, reading or
      // deleting its dead letters, unsubscribing owners, setting its alarms, its logs). By tag, so it
      // holds for a sweeper in any stack; PermissionSweeper.register() adds the same by ARN.
      sid: BOUNDARY_SID.sweeperTampering,
      actions: ['*'],
      resources: ['*'],
      conditions: { StringEquals: { [`aws:ResourceTag/${TAG_COMPONENT}`]: SWEEPER_COMPONENT_VALUE } },
    }),
    deny({
      // events:source holds the source of every entry of the batch: one forged entry denies the call.
      sid: BOUNDARY_SID.forgedDecisions,
      actions: ['events:PutEvents'],
      resources: ['*'],
      conditions: { 'ForAnyValue:StringEquals': { 'events:source': [EVENT_SOURCE] } },
    }),
    deny({
      sid: BOUNDARY_SID.specWrites,
      actions: SPEC_WRITE_ACTIONS,
      resources: [`arn:${Aws.PARTITION}:ssm:*:*:parameter${SPEC_PARAMETER_ROOT}*`],
    }),
    deny({
      sid: BOUNDARY_SID.resourcePolicyWrites,
      actions: Lazy.list({ produce: () => deniedResourcePolicyWrites(optIns()) }),
      resources: ['*'],
    }),
  ];
}

/** The resource-policy writes no opt-in exempts. */
export function deniedResourcePolicyWrites(optIns: readonly ResourcePolicyOptIn[]): string[] {
  const exempt = new Set(optIns.flatMap(o => o.actions));
  return RESOURCE_POLICY_WRITE_ACTIONS.filter(a => !exempt.has(a));
}

/** The statement that denies an opt-in's actions again from its grant's expiry on. */
export function optInEndStatement(optIn: ResourcePolicyOptIn, index: number): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: `${BOUNDARY_SID.resourcePolicyOptInEnd}${index}`,
    effect: iam.Effect.DENY,
    actions: [...optIn.actions],
    resources: ['*'],
    conditions: { DateGreaterThanEquals: { 'aws:CurrentTime': optIn.expiresAt } },
  });
}

/**
 * The resource-policy write actions named by `actions` (any case), in the
 * list's spelling, and the names that are not on the list.
 */
export function resourcePolicyWriteActions(actions: readonly string[]): { known: string[]; unknown: string[] } {
  if (actions.length === 0) return { known: [], unknown: [] };
  const byLower = (writeActionsByLowerCase ??= new Map(RESOURCE_POLICY_WRITE_ACTIONS.map(a => [a.toLowerCase(), a])));
  const known: string[] = [];
  const unknown: string[] = [];
  for (const a of actions) {
    const found = typeof a === 'string' ? byLower.get(a.toLowerCase()) : undefined;
    if (found) known.push(found);
    else unknown.push(String(a));
  }
  return { known: [...new Set(known)], unknown };
}

/** The resource-policy write actions by lower-case name, built on first use. */
let writeActionsByLowerCase: Map<string, string> | undefined;

/**
 * The boundaries of a stack and the protections that every one of them
 * carries: a sweeper registered in the stack denies its resources by ARN in
 * all of them, including boundaries made after it registered (an agent gets
 * a boundary of its own when a grant opts in to resource-policy writes).
 */
export class StackBoundaries {
  public static of(stack: Stack): StackBoundaries {
    let found = registries.get(stack);
    if (!found) registries.set(stack, (found = new StackBoundaries()));
    return found;
  }

  private readonly boundaries: iam.ManagedPolicy[] = [];
  private readonly protections: iam.PolicyStatement[] = [];

  private constructor() {}

  /** Whether `boundary` was made by this module. */
  public has(boundary: iam.IManagedPolicy): boolean {
    return this.boundaries.includes(boundary as iam.ManagedPolicy);
  }

  /** Adds `statement` to every boundary of the stack, now and later. */
  public protect(statement: iam.PolicyStatement): void {
    this.protections.push(statement);
    for (const b of this.boundaries) b.addStatements(statement);
  }

  /** @internal a boundary made by this module */
  public track(boundary: iam.ManagedPolicy): iam.ManagedPolicy {
    this.boundaries.push(boundary);
    boundary.addStatements(...this.protections);
    return boundary;
  }
}

const registries = new WeakMap<Stack, StackBoundaries>();

/** The stack's shared boundary (no ceiling, no opt-ins), made on first use. */
export function sharedBoundary(scope: Construct): iam.ManagedPolicy {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(SHARED_BOUNDARY_ID);
  if (existing) return existing as iam.ManagedPolicy;
  return StackBoundaries.of(stack).track(
    new iam.ManagedPolicy(stack, SHARED_BOUNDARY_ID, {
      description: 'permission-decay boundary: governed agents cannot change their own governance',
      statements: boundaryStatements(undefined),
    }),
  );
}

/** A boundary of the agent's own under `scope`: its ceiling (or Allow *), and its grants' resource-policy opt-ins. */
export function ownBoundary(
  scope: Construct,
  ceiling: iam.PolicyStatement[] | undefined,
  optIns: () => readonly ResourcePolicyOptIn[],
): iam.ManagedPolicy {
  return StackBoundaries.of(Stack.of(scope)).track(
    new iam.ManagedPolicy(scope, 'Boundary', {
      description: 'permission-decay boundary: the ceiling of this agent and the denies that protect its governance',
      statements: boundaryStatements(ceiling, optIns),
    }),
  );
}
