/**
 * What people need to run the CLI, as least-privilege statements:
 * requesters, approvers and readers. Nobody here may write the ledger's chain
 * or STATE, or another person's seals: a person writes only items whose
 * partition is SEAL#<their own aws:userid> (dynamodb:LeadingKeys) and pointers
 * that the sweeper trusts only when such a seal backs them.
 */
import { Stack, aws_iam as iam } from 'aws-cdk-lib';
import {
  REQUEST_PARTITION_PREFIX,
  RENEWAL_PARTITION_PREFIX,
  SEAL_PARTITION_PREFIX,
  SPEC_PARAMETER_PREFIX,
  TAG_GRANT_PREFIX,
} from '../contract';
import { governedRolesArn } from './governed-roles';

export interface PeopleGrantScope {
  readonly stack: Stack;
  readonly ledgerTableArn: string;
  readonly signingKeyArn: string;
}

/** The caller's own seal partition: IAM substitutes the caller's aws:userid. */
const OWN_SEALS = `${SEAL_PARTITION_PREFIX}\${aws:userid}`;

export const PEOPLE_SID = {
  readGovernedRoles: 'ReadGovernedRoles',
  findGovernedRoles: 'FindGovernedRoles',
  readSpecs: 'ReadApprovedSpecs',
  readLedger: 'ReadLedger',
  putGrant: 'PutGrantOnGovernedRole',
  tagGrant: 'TagGrantOnGovernedRole',
  sealRequest: 'SealOwnRequests',
  sealApproval: 'SealOwnApprovals',
  readAccount: 'ReadAccountIam',
  readSigningKey: 'VerifyLedgerSignatures',
} as const;

/** The approved specs: GetParametersByPath is authorised against the path itself, GetParameter against each parameter under it. */
function specParameters(stack: Stack): string[] {
  const path = SPEC_PARAMETER_PREFIX.replace(/^\/+|\/+$/g, '');
  return [path, `${path}/*`].map(resourceName => stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName }));
}

/** Reads every CLI command that names a role needs: the role, its policies and tags, its spec, the ledger. */
function commonReads(scope: PeopleGrantScope): iam.PolicyStatement[] {
  const { stack } = scope;
  return [
    new iam.PolicyStatement({
      sid: PEOPLE_SID.readGovernedRoles,
      actions: ['iam:GetRole', 'iam:ListRoleTags', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies'],
      resources: [governedRolesArn(stack)],
    }),
    // --role by agent id lists roles; managed grants are read to show and restore them.
    new iam.PolicyStatement({
      sid: PEOPLE_SID.findGovernedRoles,
      actions: ['iam:ListRoles', 'iam:GetPolicy', 'iam:GetPolicyVersion'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: PEOPLE_SID.readSpecs,
      actions: ['ssm:GetParameter', 'ssm:GetParametersByPath'],
      resources: specParameters(stack),
    }),
    new iam.PolicyStatement({
      sid: PEOPLE_SID.readLedger,
      actions: ['dynamodb:GetItem', 'dynamodb:Query'],
      resources: [scope.ledgerTableArn],
    }),
  ];
}

/** A seal-writing statement: PutItem only into the caller's own SEAL# partition and the given pointer partitions. */
function sealStatement(sid: string, scope: PeopleGrantScope, pointerPrefix: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: ['dynamodb:PutItem'],
    resources: [scope.ledgerTableArn],
    conditions: {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [OWN_SEALS, `${pointerPrefix}*`] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    },
  });
}

/** request and restore: put a grant's policy and its grant tag on a governed role, and seal the request. */
export function requesterStatements(scope: PeopleGrantScope): iam.PolicyStatement[] {
  const roles = governedRolesArn(scope.stack);
  return [
    ...commonReads(scope),
    new iam.PolicyStatement({ sid: PEOPLE_SID.putGrant, actions: ['iam:PutRolePolicy', 'iam:AttachRolePolicy'], resources: [roles] }),
    new iam.PolicyStatement({
      sid: PEOPLE_SID.tagGrant,
      actions: ['iam:TagRole'],
      resources: [roles],
      conditions: { 'ForAllValues:StringLike': { 'aws:TagKeys': [`${TAG_GRANT_PREFIX}*`] }, Null: { 'aws:TagKeys': 'false' } },
    }),
    sealStatement(PEOPLE_SID.sealRequest, scope, REQUEST_PARTITION_PREFIX),
  ];
}

/** renew: seal an approval. No IAM write at all: the sweeper applies renewals. */
export function approverStatements(scope: PeopleGrantScope): iam.PolicyStatement[] {
  return [...commonReads(scope), sealStatement(PEOPLE_SID.sealApproval, scope, RENEWAL_PARTITION_PREFIX)];
}

/** status, history (--at, --verify), report: read the account's governed roles, specs, ledger, and the signing key's public half. */
export function readerStatements(scope: PeopleGrantScope): iam.PolicyStatement[] {
  return [
    ...commonReads(scope),
    new iam.PolicyStatement({ sid: PEOPLE_SID.readAccount, actions: ['iam:GetAccountAuthorizationDetails'], resources: ['*'] }),
    new iam.PolicyStatement({
      sid: PEOPLE_SID.readSigningKey,
      actions: ['kms:GetPublicKey', 'kms:Verify', 'kms:DescribeKey'],
      resources: [scope.signingKeyArn],
    }),
  ];
}
