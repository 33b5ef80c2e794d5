import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Client settings. Anything left out comes from the SDK's standard chains
 * (credentials, region, AWS_ENDPOINT_URL, AWS_MAX_ATTEMPTS).
 */
export interface ClientSettings {
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** Milliseconds one attempt may wait for its response before it fails (and is retried). @default 30000 */
  readonly requestTimeoutMs?: number;
  /** SDK attempts per call (standard retry mode: exponential backoff with full jitter). @default 5 */
  readonly maxAttempts?: number;
}

/** The AWS clients a sweep or CLI command uses. */
export interface AwsClients {
  readonly iam: IAMClient;
  readonly ddb: DynamoDBDocumentClient;
  readonly ssm: SSMClient;
  readonly events: EventBridgeClient;
  readonly sns: SNSClient;
  readonly sts: STSClient;
  /** Signs the ledger (sweeper) and checks its signatures (history --verify). */
  readonly kms: KMSClient;
}

export function createClients(settings: ClientSettings = {}): AwsClients {
  const config = {
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    retryMode: 'standard',
    maxAttempts: settings.maxAttempts ?? (Number(process.env.AWS_MAX_ATTEMPTS) || 5),
    // A hung connection must end as a retryable error well inside the Lambda's
    // timeout, not hold the whole run (each attempt gets its own timeout).
    requestHandler: { connectionTimeout: 3_000, requestTimeout: settings.requestTimeoutMs ?? 30_000, throwOnRequestTimeout: true },
  };
  // IAM is global; its endpoint lives in us-east-1 when no region is configured.
  const iamRegion = settings.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // Each client is built on first use: a cold start pays only for the clients
  // its run needs (a sweep with nothing to notify never builds SNS; only the
  // CLI's renew, request and restore build STS).
  let iam: IAMClient | undefined;
  let ddb: DynamoDBDocumentClient | undefined;
  let ssm: SSMClient | undefined;
  let events: EventBridgeClient | undefined;
  let sns: SNSClient | undefined;
  let sts: STSClient | undefined;
  let kms: KMSClient | undefined;
  return {
    get iam() {
      return (iam ??= new IAMClient({ ...config, region: iamRegion }));
    },
    get ddb() {
      return (ddb ??= DynamoDBDocumentClient.from(new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } }));
    },
    get ssm() {
      return (ssm ??= new SSMClient(config));
    },
    get events() {
      return (events ??= new EventBridgeClient(config));
    },
    get sns() {
      return (sns ??= new SNSClient(config));
    },
    get sts() {
      return (sts ??= new STSClient(config));
    },
    get kms() {
      return (kms ??= new KMSClient(config));
    },
  };
}
