/**
 * IAM policy evaluation for tests, with @cloud-copilot/iam-simulate.
 *
 * The emulator (moto) evaluates no conditions and no boundaries, so tests
 * that need "allowed before the expiry, denied after" or "the boundary stops
 * this" evaluate the synthesized policies here.
 *
 *   const { identityPolicies, boundaryPolicies } = rolePolicies(template, 'SupportBotRole5F1FAC86');
 *   await simulate({ identityPolicies, boundaryPolicies, action: 'dynamodb:GetItem',
 *     resource: arnOf(template, 'Customers6955EA0A'), context: { 'aws:CurrentTime': '2027-01-09T23:59:59Z' } });
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';

export const SIM_ACCOUNT = '123456789012';
export const SIM_REGION = 'us-east-1';
export const SIM_PARTITION = 'aws';

export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

export interface SimulateInput {
  /** Identity policy documents (plain JSON, no CloudFormation intrinsics). */
  readonly identityPolicies: object[];
  /** Permissions boundary documents; none means no boundary. */
  readonly boundaryPolicies?: object[];
  readonly action: string;
  /** The resource ARN (`*` for actions without resources). */
  readonly resource: string;
  /** Request context, e.g. { 'aws:CurrentTime': '2027-01-01T00:00:00Z' }. */
  readonly context?: Record<string, string | string[]>;
  /** Tags of the resource, made available as aws:ResourceTag/<key>. */
  readonly resourceTags?: Record<string, string>;
  /**
   * The resource's own policy (a KMS key policy, a bucket policy), when it has one. A KMS key needs it:
   * an identity policy alone never reaches a key whose key policy does not trust the account.
   * @default none
   */
  readonly resourcePolicy?: object;
  /** Default: a role in SIM_ACCOUNT. */
  readonly principal?: string;
  /** Default: SIM_ACCOUNT. */
  readonly resourceAccount?: string;
}

/** The decision IAM would reach for one request. Throws when the simulator rejects the input. */
export async function simulate(input: SimulateInput): Promise<Decision> {
  const tagContext: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.resourceTags ?? {})) tagContext[`aws:ResourceTag/${key}`] = value;
  const result = await runSimulation(
    {
      request: {
        principal: input.principal ?? `arn:aws:iam::${SIM_ACCOUNT}:role/agent`,
        action: input.action,
        resource: { resource: input.resource, accountId: input.resourceAccount ?? SIM_ACCOUNT },
        contextVariables: { ...tagContext, ...input.context },
      },
      identityPolicies: input.identityPolicies.map((policy, i) => ({ name: `identity-${i}`, policy })),
      permissionBoundaryPolicies: input.boundaryPolicies?.map((policy, i) => ({ name: `boundary-${i}`, policy })),
      ...(input.resourcePolicy ? { resourcePolicy: input.resourcePolicy } : {}),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulation rejected: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

// ---------------------------------------------------------------------------
// Synthesized templates to plain policies
// ---------------------------------------------------------------------------

/** A synthesized template as JSON (`Template.fromStack(stack).toJSON()` or a file from cdk.out). */
export type TemplateJson = { [key: string]: any };

/** The physical name a test pretends a resource got (CloudFormation would generate one). */
export function nameOf(template: TemplateJson, logicalId: string): string {
  const resource = template.Resources[logicalId];
  // A name the template spells out is the name CloudFormation gives it.
  const explicit = { 'AWS::DynamoDB::Table': 'TableName', 'AWS::SNS::Topic': 'TopicName', 'AWS::IAM::Role': 'RoleName' }[
    resource?.Type as string
  ];
  if (explicit && typeof resource.Properties?.[explicit] === 'string') return resource.Properties[explicit];
  if (resource?.Type === 'AWS::S3::Bucket') return logicalId.toLowerCase();
  return logicalId;
}

/** The ARN a test pretends a resource got. */
export function arnOf(template: TemplateJson, logicalId: string): string {
  const type = template.Resources[logicalId]?.Type;
  const name = nameOf(template, logicalId);
  switch (type) {
    case 'AWS::S3::Bucket':
      return `arn:${SIM_PARTITION}:s3:::${name}`;
    case 'AWS::DynamoDB::Table':
      return `arn:${SIM_PARTITION}:dynamodb:${SIM_REGION}:${SIM_ACCOUNT}:table/${name}`;
    case 'AWS::Logs::LogGroup':
      return `arn:${SIM_PARTITION}:logs:${SIM_REGION}:${SIM_ACCOUNT}:log-group:${name}:*`;
    // A role's ARN includes its path: role/permission-decay/sweeper/<name>.
    case 'AWS::IAM::Role':
      return `arn:${SIM_PARTITION}:iam::${SIM_ACCOUNT}:role${template.Resources[logicalId].Properties?.Path ?? '/'}${name}`;
    case 'AWS::IAM::ManagedPolicy':
      return `arn:${SIM_PARTITION}:iam::${SIM_ACCOUNT}:policy/${name}`;
    case 'AWS::Lambda::Function':
      return `arn:${SIM_PARTITION}:lambda:${SIM_REGION}:${SIM_ACCOUNT}:function:${name}`;
    case 'AWS::Events::Rule':
      return `arn:${SIM_PARTITION}:events:${SIM_REGION}:${SIM_ACCOUNT}:rule/${name}`;
    case 'AWS::SNS::Topic':
      return `arn:${SIM_PARTITION}:sns:${SIM_REGION}:${SIM_ACCOUNT}:${name}`;
    case 'AWS::SQS::Queue':
      return `arn:${SIM_PARTITION}:sqs:${SIM_REGION}:${SIM_ACCOUNT}:${name}`;
    case 'AWS::KMS::Key':
      return `arn:${SIM_PARTITION}:kms:${SIM_REGION}:${SIM_ACCOUNT}:key/${name}`;
    case 'AWS::CloudWatch::Alarm':
      return `arn:${SIM_PARTITION}:cloudwatch:${SIM_REGION}:${SIM_ACCOUNT}:alarm:${name}`;
    case 'AWS::SSM::Parameter':
      return `arn:${SIM_PARTITION}:ssm:${SIM_REGION}:${SIM_ACCOUNT}:parameter${template.Resources[logicalId].Properties?.Name}`;
    default: {
      const service = (type ?? 'AWS::Unknown::X').split('::')[1].toLowerCase();
      return `arn:${SIM_PARTITION}:${service}:${SIM_REGION}:${SIM_ACCOUNT}:${name}`;
    }
  }
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': SIM_PARTITION,
  'AWS::AccountId': SIM_ACCOUNT,
  'AWS::Region': SIM_REGION,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'stack',
};

/** Replaces the CloudFormation intrinsics in `value` with the values nameOf/arnOf pretend. */
export function resolveIntrinsics(template: TemplateJson, value: unknown): any {
  if (Array.isArray(value)) return value.map(v => resolveIntrinsics(template, v));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0] as [string, any];
      switch (key) {
        case 'Ref': {
          if (PSEUDO[arg] !== undefined) return PSEUDO[arg];
          const type = template.Resources[arg]?.Type;
          // Ref gives an ARN for managed policies and topics, a name otherwise.
          return type === 'AWS::IAM::ManagedPolicy' || type === 'AWS::SNS::Topic' ? arnOf(template, arg) : nameOf(template, arg);
        }
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
          if (attribute !== 'Arn') throw new Error(`resolveIntrinsics: GetAtt ${id}.${attribute} is not supported`);
          return arnOf(template, id);
        }
        case 'Fn::Join':
          return (resolveIntrinsics(template, arg[1]) as string[]).join(arg[0]);
        case 'Fn::Select':
          return resolveIntrinsics(template, arg[1])[Number(arg[0])];
        case 'Fn::Split':
          return String(resolveIntrinsics(template, arg[1])).split(arg[0]);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(template, v)]));
  }
  return value;
}

function refersTo(roles: unknown, logicalId: string): boolean {
  return Array.isArray(roles) && roles.some(r => (r as { Ref?: string })?.Ref === logicalId);
}

/**
 * The identity policies (inline AWS::IAM::Policy and AWS::IAM::ManagedPolicy
 * attached through Roles) and the boundary of a role in a synthesized
 * template, with intrinsics resolved.
 */
export function rolePolicies(template: TemplateJson, roleLogicalId: string): { identityPolicies: object[]; boundaryPolicies: object[] } {
  const identityPolicies: object[] = [];
  for (const resource of Object.values(template.Resources as Record<string, { Type: string; Properties?: Record<string, any> }>)) {
    if (
      (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') &&
      refersTo(resource.Properties?.Roles, roleLogicalId)
    ) {
      identityPolicies.push(resolveIntrinsics(template, resource.Properties!.PolicyDocument));
    }
  }
  const boundary = template.Resources[roleLogicalId]?.Properties?.PermissionsBoundary as { Ref?: string } | undefined;
  const boundaryPolicies = boundary?.Ref ? [resolveIntrinsics(template, template.Resources[boundary.Ref].Properties!.PolicyDocument)] : [];
  return { identityPolicies, boundaryPolicies };
}

/** The role tags of a role in a template, as a map. */
export function roleTags(template: TemplateJson, roleLogicalId: string): Record<string, string> {
  const tags = (template.Resources[roleLogicalId]?.Properties?.Tags ?? []) as { Key: string; Value: string }[];
  return Object.fromEntries(tags.map(t => [t.Key, t.Value]));
}
