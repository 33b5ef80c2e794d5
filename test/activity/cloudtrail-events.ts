/**
 * CloudTrail events as EventBridge delivers them (detail-type "AWS API Call
 * via CloudTrail"), in the shape AWS documents for management events, data
 * events, AssumeRole with session tags, and refusals. Written out by hand from
 * that documented shape, never from the recorder's parser.
 */
import { randomUUID } from 'crypto';

export const ACCOUNT = '123456789012';
export const governedRoleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/permission-decay/agents/${name}`;

export interface SessionOf {
  readonly roleName: string;
  /** The role's path, for roles outside the governed path. @default the governed path */
  readonly roleArn?: string;
  readonly accessKeyId?: string;
  readonly sessionName?: string;
}

function userIdentity(s: SessionOf) {
  const roleArn = s.roleArn ?? governedRoleArn(s.roleName);
  const session = s.sessionName ?? 'agent-session';
  return {
    type: 'AssumedRole',
    principalId: `AROAEXAMPLE${s.roleName.toUpperCase().replace(/[^A-Z0-9]/g, '')}:${session}`,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${s.roleName}/${session}`,
    accountId: ACCOUNT,
    accessKeyId: s.accessKeyId ?? 'ASIAEXAMPLEDEFAULT01',
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: roleArn, accountId: ACCOUNT, userName: s.roleName },
      attributes: { creationDate: '2030-01-01T00:00:00Z', mfaAuthenticated: 'false' },
    },
  };
}

function envelope(source: string, detail: Record<string, unknown>) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'AWS API Call via CloudTrail',
    source: source,
    account: ACCOUNT,
    time: detail.eventTime,
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

export interface CallOptions {
  readonly eventId?: string;
  readonly at: string;
}

/** A management event: dynamodb:DescribeTable (read-only, no resources list; the table is in requestParameters). */
export function describeTable(s: SessionOf, table: string, o: CallOptions) {
  return envelope('aws.dynamodb', {
    eventVersion: '1.09',
    userIdentity: userIdentity(s),
    eventTime: o.at,
    eventSource: 'dynamodb.amazonaws.com',
    eventName: 'DescribeTable',
    awsRegion: 'us-east-1',
    sourceIPAddress: '10.0.0.1',
    userAgent: 'aws-sdk-js/3',
    requestParameters: { tableName: table },
    responseElements: null,
    requestID: randomUUID(),
    eventID: o.eventId ?? randomUUID(),
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
  });
}

/** A data event: s3:GetObject or s3:PutObject, with CloudTrail's resources list (object first, then bucket). */
export function s3Object(s: SessionOf, eventName: 'GetObject' | 'PutObject', bucket: string, key: string, o: CallOptions) {
  return envelope('aws.s3', {
    eventVersion: '1.09',
    userIdentity: userIdentity(s),
    eventTime: o.at,
    eventSource: 's3.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '10.0.0.1',
    userAgent: 'aws-sdk-js/3',
    requestParameters: { bucketName: bucket, key, Host: `${bucket}.s3.us-east-1.amazonaws.com` },
    responseElements: null,
    additionalEventData: { bytesTransferredIn: 0 },
    requestID: randomUUID(),
    eventID: o.eventId ?? randomUUID(),
    readOnly: eventName === 'GetObject',
    resources: [
      { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` },
      { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
    ],
    eventType: 'AwsApiCall',
    managementEvent: false,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Data',
  });
}

/** A refused call: dynamodb:PutItem denied, with the message IAM writes. */
export function deniedPutItem(s: SessionOf, table: string, o: CallOptions) {
  const resource = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${table}`;
  return envelope('aws.dynamodb', {
    eventVersion: '1.09',
    userIdentity: userIdentity(s),
    eventTime: o.at,
    eventSource: 'dynamodb.amazonaws.com',
    eventName: 'PutItem',
    awsRegion: 'us-east-1',
    sourceIPAddress: '10.0.0.1',
    userAgent: 'aws-sdk-js/3',
    errorCode: 'AccessDenied',
    errorMessage:
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/${s.roleName}/agent-session is not authorized to perform: dynamodb:PutItem ` +
      `on resource: ${resource} because no identity-based policy allows the dynamodb:PutItem action`,
    requestParameters: null,
    responseElements: null,
    requestID: randomUUID(),
    eventID: o.eventId ?? randomUUID(),
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: false,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Data',
  });
}

/** EC2's refusal: UnauthorizedOperation, whose message names no action. */
export function unauthorizedRunInstances(s: SessionOf, o: CallOptions) {
  return envelope('aws.ec2', {
    eventVersion: '1.09',
    userIdentity: userIdentity(s),
    eventTime: o.at,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    awsRegion: 'us-east-1',
    sourceIPAddress: '10.0.0.1',
    userAgent: 'aws-sdk-js/3',
    errorCode: 'Client.UnauthorizedOperation',
    errorMessage: 'You are not authorized to perform this operation. Encoded authorization failure message: AbC123',
    requestParameters: { instanceType: 't3.micro' },
    responseElements: null,
    requestID: randomUUID(),
    eventID: o.eventId ?? randomUUID(),
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
  });
}

/** sts:AssumeRole of a governed role by `caller`, with session tags; the new session's access key is `newAccessKeyId`. */
export function assumeRole(
  caller: SessionOf,
  targetRoleName: string,
  newAccessKeyId: string,
  tags: Record<string, string>,
  transitive: string[],
  o: CallOptions,
) {
  return envelope('aws.sts', {
    eventVersion: '1.08',
    userIdentity: userIdentity(caller),
    eventTime: o.at,
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRole',
    awsRegion: 'us-east-1',
    sourceIPAddress: '10.0.0.1',
    userAgent: 'aws-sdk-js/3',
    requestParameters: {
      roleArn: governedRoleArn(targetRoleName),
      roleSessionName: 'delegated',
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      transitiveTagKeys: transitive,
      durationSeconds: 3600,
    },
    responseElements: {
      credentials: { accessKeyId: newAccessKeyId, sessionToken: 'token', expiration: 'Jan 1, 2030, 1:00:00 AM' },
      assumedRoleUser: { assumedRoleId: 'AROAEXAMPLE:delegated', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${targetRoleName}/delegated` },
      packedPolicySize: 3,
    },
    requestID: randomUUID(),
    eventID: o.eventId ?? randomUUID(),
    readOnly: true,
    resources: [{ accountId: ACCOUNT, type: 'AWS::IAM::Role', ARN: governedRoleArn(targetRoleName) }],
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
  });
}
