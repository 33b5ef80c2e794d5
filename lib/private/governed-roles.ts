/**
 * The ARN pattern of every governed role in a stack's account, anchored on the
 * IAM path (fixed when a role is created), shared by every synthesized policy
 * that acts on governed roles: the sweeper's role and the people's grants.
 */
import { Stack } from 'aws-cdk-lib';
import { GOVERNED_ROLE_PATH } from '../contract';

/** `arn:<partition>:iam::<account>:role/permission-decay/agents/*`. */
export function governedRolesArn(stack: Stack): string {
  return stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${GOVERNED_ROLE_PATH.replace(/^\/+/, '')}*` });
}
