/**
 * Data stores at synth time (issue 7): which CloudFormation resources are
 * stores, what `Compliance.of(...)` said about them, and how long they keep
 * data where the resource says so.
 */
import { CfnResource, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { StoreKind } from '../analysis/model';

/** Store kinds by CloudFormation resource type. */
export const STORE_KIND_BY_CFN_TYPE: Readonly<Record<string, StoreKind>> = {
  'AWS::S3::Bucket': 's3-bucket',
  'AWS::S3Express::DirectoryBucket': 's3-directory-bucket',
  'AWS::S3Vectors::VectorBucket': 's3-vector-bucket',
  'AWS::DynamoDB::Table': 'dynamodb-table',
  'AWS::DynamoDB::GlobalTable': 'dynamodb-table',
  'AWS::Logs::LogGroup': 'log-group',
  'AWS::SQS::Queue': 'sqs-queue',
  'AWS::SNS::Topic': 'sns-topic',
  'AWS::Kinesis::Stream': 'kinesis-stream',
  'AWS::KinesisFirehose::DeliveryStream': 'firehose-stream',
  'AWS::ElastiCache::ReplicationGroup': 'elasticache-cache',
  'AWS::ElastiCache::CacheCluster': 'elasticache-cache',
  'AWS::ElastiCache::ServerlessCache': 'elasticache-cache',
  'AWS::MemoryDB::Cluster': 'memorydb-cluster',
  'AWS::OpenSearchServerless::Collection': 'opensearch-collection',
  'AWS::OpenSearchService::Domain': 'opensearch-domain',
  'AWS::Elasticsearch::Domain': 'opensearch-domain',
  'AWS::RDS::DBCluster': 'rds-database',
  'AWS::RDS::DBInstance': 'rds-database',
  'AWS::EFS::FileSystem': 'efs-file-system',
};

/** What `Compliance.of(resource)` recorded. */
export interface StoreDeclaration {
  readonly regime?: string;
  readonly owner?: string;
  readonly retention?: string;
}

const declarations = new WeakMap<CfnResource, StoreDeclaration>();

/** The CloudFormation resource behind a construct (itself or its default child), or undefined. */
export function cfnResourceOf(construct: IConstruct): CfnResource | undefined {
  if (CfnResource.isCfnResource(construct)) return construct;
  const child = construct.node.defaultChild;
  return child && CfnResource.isCfnResource(child) ? child : undefined;
}

export function declareStore(resource: CfnResource, declaration: StoreDeclaration): void {
  declarations.set(resource, { ...declarations.get(resource), ...declaration });
}

export function storeDeclaration(resource: CfnResource): StoreDeclaration | undefined {
  return declarations.get(resource);
}

/** The retention a resource states, in words, or undefined when it says nothing we can read. */
export function retentionOf(resource: CfnResource): string | undefined {
  const props = renderedProperties(resource);
  const literal = (v: unknown): v is number | string => (typeof v === 'number' || typeof v === 'string') && !Token.isUnresolved(v);
  switch (resource.cfnResourceType) {
    case 'AWS::Logs::LogGroup': {
      const days = props.RetentionInDays;
      if (days === undefined) return 'never expires';
      return literal(days) ? `${days} days` : undefined;
    }
    case 'AWS::S3::Bucket': {
      const rules = ((props.LifecycleConfiguration as { Rules?: Record<string, unknown>[] } | undefined)?.Rules ?? []).filter(
        r => r.Status !== 'Disabled' && literal(r.ExpirationInDays) && !r.Prefix && !r.TagFilters && !(r as { Filter?: unknown }).Filter,
      );
      if (rules.length === 0) return undefined;
      return `objects expire after ${Math.min(...rules.map(r => Number(r.ExpirationInDays)))} days`;
    }
    case 'AWS::SQS::Queue': {
      const seconds = props.MessageRetentionPeriod ?? 345600;
      return literal(seconds) ? durationWords(Number(seconds)) : undefined;
    }
    case 'AWS::Kinesis::Stream': {
      const hours = props.RetentionPeriodHours ?? 24;
      return literal(hours) ? durationWords(Number(hours) * 3600) : undefined;
    }
    case 'AWS::DynamoDB::Table': {
      const ttl = props.TimeToLiveSpecification as { Enabled?: boolean; AttributeName?: string } | undefined;
      return ttl?.Enabled === true ? `items expire by TTL attribute ${ttl.AttributeName}` : 'kept until deleted';
    }
    default:
      return undefined;
  }
}

/**
 * The resource's Properties as they go into the template (CloudFormation
 * casing, tokens resolved to intrinsics). Uses CfnResource's internal
 * renderer, the one the assertions library reads templates through.
 */
export function renderedProperties(resource: CfnResource): Record<string, unknown> {
  const rendered = Stack.of(resource).resolve(
    (
      resource as unknown as { _toCloudFormation(): { Resources: Record<string, { Properties?: Record<string, unknown> }> } }
    )._toCloudFormation(),
  );
  const only = Object.values(rendered.Resources ?? {})[0] as { Properties?: Record<string, unknown> } | undefined;
  return only?.Properties ?? {};
}

function durationWords(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} days`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hours`;
  return `${seconds} seconds`;
}

/**
 * ARN patterns for a store whose name is a literal in the template: statements
 * that spell the ARN out (or use wildcards) reach it by pattern.
 */
export function literalArnPatterns(kind: StoreKind, name: string | undefined): string[] {
  if (name === undefined || Token.isUnresolved(name)) return [];
  switch (kind) {
    case 's3-bucket':
      return [`arn:*:s3:::${name}`, `arn:*:s3:::${name}/*`];
    case 'dynamodb-table':
      return [`arn:*:dynamodb:*:*:table/${name}`, `arn:*:dynamodb:*:*:table/${name}/*`];
    case 'log-group':
      return [`arn:*:logs:*:*:log-group:${name}`, `arn:*:logs:*:*:log-group:${name}:*`];
    case 'sqs-queue':
      return [`arn:*:sqs:*:*:${name}`];
    case 'sns-topic':
      return [`arn:*:sns:*:*:${name}`];
    case 'kinesis-stream':
      return [`arn:*:kinesis:*:*:stream/${name}`];
    case 'firehose-stream':
      return [`arn:*:firehose:*:*:deliverystream/${name}`];
    default:
      return [];
  }
}

/** The CloudFormation property holding a store's physical name, by kind. */
export const NAME_PROPERTY: Partial<Record<string, string>> = {
  'AWS::S3::Bucket': 'BucketName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::DynamoDB::GlobalTable': 'TableName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::Kinesis::Stream': 'Name',
  'AWS::KinesisFirehose::DeliveryStream': 'DeliveryStreamName',
};
