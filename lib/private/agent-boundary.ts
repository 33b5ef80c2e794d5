/**
 * The permissions boundary of governed roles.
 *
 * An agent's identity policies say what it may do; the boundary says what it
 * can never do, whatever a grant (even one added by hand) says: it cannot
 * reach past the ceiling, and it cannot loosen its own governance.
 */
import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  LEDGER_TABLE_NAME_PREFIX, MANAGED_BY_VALUE, SPEC_PARAMETER_PREFIX, SWEEPER_COMPONENT_VALUE, TAG_COMPONENT, TAG_MANAGED_BY,
} from './contract';

/** Id of the boundary that every governed role without a ceiling in a stack shares. */
export const SHARED_BOUNDARY_ID = 'PermissionDecayBoundary';

/**
 * Role changes that would let an agent grant itself permissions, outlive its
 * grants or escape the boundary: writing or attaching policies, moving or
 * removing its expiry tags, changing who can assume it, dropping the boundary.
 */
export const GOVERNED_ROLE_CHANGE_ACTIONS = [
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:TagRole',
  'iam:UntagRole',
  'iam:UpdateAssumeRolePolicy',
  'iam:PutRolePermissionsBoundary',
  'iam:DeleteRolePermissionsBoundary',
  'iam:UpdateRole',
  'iam:UpdateRoleDescription',
  'iam:DeleteRole',
];

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
 * Changes that would stop or blind the sweeper: its code, configuration,
 * schedule, role, notification topic, dead-letter queue, key, logs and alarms.
 * An agent that could disable the sweeper could keep hand-added access past
 * its decay (the IAM date condition still ends tagged grants).
 */
export const SWEEPER_TAMPER_ACTIONS = [
  'lambda:UpdateFunctionCode',
  'lambda:UpdateFunctionConfiguration',
  'lambda:DeleteFunction',
  'lambda:PutFunctionConcurrency',
  'lambda:DeleteFunctionConcurrency',
  'lambda:AddPermission',
  'lambda:RemovePermission',
  'lambda:PutFunctionEventInvokeConfig',
  'lambda:UpdateFunctionEventInvokeConfig',
  'lambda:DeleteFunctionEventInvokeConfig',
  'lambda:TagResource',
  'lambda:UntagResource',
  'events:DisableRule',
  'events:DeleteRule',
  'events:PutRule',
  'events:PutTargets',
  'events:RemoveTargets',
  'events:TagResource',
  'events:UntagResource',
  'sns:DeleteTopic',
  'sns:SetTopicAttributes',
  'sns:RemovePermission',
  'sns:TagResource',
  'sns:UntagResource',
  'sqs:DeleteQueue',
  'sqs:SetQueueAttributes',
  'sqs:PurgeQueue',
  'sqs:TagQueue',
  'sqs:UntagQueue',
  'kms:ScheduleKeyDeletion',
  'kms:DisableKey',
  'kms:PutKeyPolicy',
  'kms:TagResource',
  'kms:UntagResource',
  'logs:DeleteLogGroup',
  'logs:PutRetentionPolicy',
  'logs:DeleteRetentionPolicy',
  'logs:TagResource',
  'logs:UntagResource',
  'cloudwatch:DeleteAlarms',
  'cloudwatch:DisableAlarmActions',
  'cloudwatch:PutMetricAlarm',
  'cloudwatch:TagResource',
  'cloudwatch:UntagResource',
  ...GOVERNED_ROLE_CHANGE_ACTIONS,
];

/** The first segment of the spec parameter path: `/permission-decay/`. */
const SPEC_PARAMETER_ROOT = `/${SPEC_PARAMETER_PREFIX.split('/').filter(Boolean)[0]}/`;

/** The statements of a boundary: the ceiling, then the denies that protect governance. */
export function boundaryStatements(ceiling: iam.PolicyStatement[] | undefined): iam.PolicyStatement[] {
  const allow = ceiling ?? [new iam.PolicyStatement({ sid: 'Ceiling', actions: ['*'], resources: ['*'] })];
  return [
    ...allow,
    new iam.PolicyStatement({
      sid: 'DenyGovernedRoleChanges',
      effect: iam.Effect.DENY,
      actions: GOVERNED_ROLE_CHANGE_ACTIONS,
      resources: ['*'],
      conditions: { StringEquals: { [`aws:ResourceTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE } },
    }),
    new iam.PolicyStatement({
      sid: 'DenyPolicyVersionChanges',
      effect: iam.Effect.DENY,
      actions: POLICY_VERSION_ACTIONS,
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'DenyLedgerWrites',
      effect: iam.Effect.DENY,
      actions: LEDGER_WRITE_ACTIONS,
      resources: [`arn:${Aws.PARTITION}:dynamodb:*:*:table/${LEDGER_TABLE_NAME_PREFIX}*`],
    }),
    new iam.PolicyStatement({
      // By tag, so it holds for a sweeper in any stack. Services that do not
      // evaluate aws:ResourceTag for an action are covered for sweepers in
      // the same app by PermissionSweeper.register(), which denies by ARN.
      sid: 'DenySweeperTampering',
      effect: iam.Effect.DENY,
      actions: SWEEPER_TAMPER_ACTIONS,
      resources: ['*'],
      conditions: { StringEquals: { [`aws:ResourceTag/${TAG_COMPONENT}`]: SWEEPER_COMPONENT_VALUE } },
    }),
    new iam.PolicyStatement({
      sid: 'DenySpecWrites',
      effect: iam.Effect.DENY,
      actions: SPEC_WRITE_ACTIONS,
      resources: [`arn:${Aws.PARTITION}:ssm:*:*:parameter${SPEC_PARAMETER_ROOT}*`],
    }),
  ];
}

/**
 * The boundary for a governed role: the stack's shared one when there is no
 * ceiling, else one of its own under `scope`.
 */
export function boundaryFor(scope: Construct, ceiling: iam.PolicyStatement[] | undefined): iam.ManagedPolicy {
  if (ceiling) {
    return new iam.ManagedPolicy(scope, 'Boundary', {
      description: 'permission-decay boundary: the ceiling of this agent and the denies that protect its governance',
      statements: boundaryStatements(ceiling),
    });
  }
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(SHARED_BOUNDARY_ID);
  if (existing) return existing as iam.ManagedPolicy;
  return new iam.ManagedPolicy(stack, SHARED_BOUNDARY_ID, {
    description: 'permission-decay boundary: governed agents cannot change their own governance',
    statements: boundaryStatements(undefined),
  });
}
