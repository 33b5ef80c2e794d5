/**
 * The sweeper role's statements for ledger evidence: Sign with the ledger key,
 * and write the one tag that anchors each governed role's chain head. Kept
 * apart from the sweeper's other statements so each can be read, and tested,
 * on its own.
 */
import { Stack, Token, Validations, aws_iam as iam } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { governedRolesArn } from './governed-roles';
import { GOVERNED_ROLE_PATH, LEDGER_SIGNING_ALGORITHM, TAG_LEDGER_HEAD } from '../contract';

export const LEDGER_EVIDENCE_SID = {
  signLedger: 'SignLedgerRecords',
  anchorLedgerHead: 'AnchorLedgerHeadOnGovernedRoles',
} as const;

export function ledgerEvidenceStatements(scope: { readonly stack: Stack; readonly signingKeyArn: string }): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: LEDGER_EVIDENCE_SID.signLedger,
      actions: ['kms:Sign'],
      resources: [scope.signingKeyArn],
      conditions: { StringEquals: { 'kms:SigningAlgorithm': LEDGER_SIGNING_ALGORITHM } },
    }),
    // Only the head tag: the grant tags have their own statement, and no other governance tag is the sweeper's to write.
    new iam.PolicyStatement({
      sid: LEDGER_EVIDENCE_SID.anchorLedgerHead,
      actions: ['iam:TagRole'],
      // The path is the anchor, as for every other role write of the sweeper's; tags are hints that can be removed.
      resources: [governedRolesArn(scope.stack)],
      conditions: {
        'ForAllValues:StringEquals': { 'aws:TagKeys': [TAG_LEDGER_HEAD] },
        Null: { 'aws:TagKeys': 'false' },
      },
    }),
  ];
}

/** The cdk-nag finding the anchor statement raises, acknowledged with its reason (aws-cdk-lib's own Validations). */
export function acknowledgeLedgerEvidenceFindings(stack: Stack, rolePolicy: IConstruct): void {
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  Validations.of(rolePolicy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::${account}:role${GOVERNED_ROLE_PATH}*]`,
    reason:
      "The sweeper anchors each governed role's ledger head in one tag (governance:ledger-head and no other key); governed roles " +
      'are found by their IAM path, which cannot change after a role is created.',
  });
}
