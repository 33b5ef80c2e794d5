/** ARNs of the synthesized roles as IAM would give them: the role's Path and RoleName, when the template sets them. */
import { resolveIntrinsics, SIM_ACCOUNT, SIM_PARTITION, TemplateJson } from '../support/simulate';

/** The ARN of the role `logicalId`: its path and its name (CloudFormation would generate a name when none is set). */
export function roleArnIn(template: TemplateJson, logicalId: string): string {
  const properties = template.Resources[logicalId]?.Properties ?? {};
  const name = properties.RoleName === undefined ? logicalId : resolveIntrinsics(template, properties.RoleName);
  return `arn:${SIM_PARTITION}:iam::${SIM_ACCOUNT}:role${properties.Path ?? '/'}${name}`;
}
