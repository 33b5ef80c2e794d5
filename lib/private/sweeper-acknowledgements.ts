/**
 * cdk-nag (AwsSolutions) findings the sweeper accepts on purpose, each with the
 * reason. Recorded with aws-cdk-lib's own `Validations.acknowledge`, so the
 * library does not depend on cdk-nag and users who run it see the reasons.
 */
import { Stack, Token, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { GOVERNED_ROLE_PATH, SPEC_PARAMETER_PREFIX } from '../contract';

export interface SweeperAcknowledgementTargets {
  readonly stack: Stack;
  readonly rolePolicy: IConstruct;
  readonly function: IConstruct;
  readonly deadLetterQueue: IConstruct;
}

export function acknowledgeSweeperFindings(targets: SweeperAcknowledgementTargets): void {
  // cdk-nag names each wildcard finding by the resource as it renders it.
  const account = rendered(targets.stack.account, '<AWS::AccountId>');
  const region = rendered(targets.stack.region, '<AWS::Region>');
  const specPath = SPEC_PARAMETER_PREFIX.replace(/^\/+|\/+$/g, '');
  const policy = Validations.of(targets.rolePolicy);
  policy.acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'iam:GetAccountAuthorizationDetails has no resource-level permissions, and GetPolicy/GetPolicyVersion/ListPolicyVersions ' +
      'must read any policy attached to a governed role, AWS-managed ones included; they are reads. The other "*" statements are Deny.',
  });
  policy.acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::${account}:role/${GOVERNED_ROLE_PATH.replace(/^\/+/, '')}*]`,
    reason:
      'Governed roles are not known at deploy time (they may live in other stacks); every role statement is confined by ARN ' +
      `to the governed path ${GOVERNED_ROLE_PATH}, which a role gets when it is created and can never change, ` +
      "and the sweeper's own role is denied.",
  });
  policy.acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::${account}:policy/*]`,
    reason:
      'Renewing a customer-managed grant writes a new policy version; the statement is conditioned on ' +
      'aws:ResourceTag/governance:managed-by=permission-decay, so only governed grant policies qualify.',
  });
  policy.acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:${region}:${account}:parameter/${specPath}/*]`,
    reason: "The sweeper reads every agent's approved spec; the wildcard is confined to the spec parameter path.",
  });
  policy.acknowledge({
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason:
      "Written by Topic.grantPublish for the owner topic's own KMS key (one key ARN): publishing to an encrypted topic needs a data key.",
  });
  Validations.of(targets.function).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'The handler is bundled for node22 (scripts/bundle-handlers.js) and tested on Node.js 22, a supported runtime; ' +
      'the runtime moves with the bundle target.',
  });
  Validations.of(targets.deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: "This queue is the dead-letter queue of the sweeper's async invocations and of its schedule rule target; a DLQ needs no DLQ.",
  });
}

function rendered(value: string, placeholder: string): string {
  return Token.isUnresolved(value) ? placeholder : value;
}
