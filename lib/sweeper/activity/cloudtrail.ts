/**
 * Reads one CloudTrail event (as EventBridge delivers it, detail-type "AWS API
 * Call via CloudTrail") into what the recorder aggregates: which governed role
 * called which action on which resource, when, whether it was refused, and
 * the session it used. Pure: no I/O.
 *
 * A governed role is recognised by its ARN alone (the session issuer's ARN
 * under GOVERNED_ROLE_PATH, in the recorder's account): a path is fixed when
 * a role is created, so no tag or session name can bring a role in or out.
 */
import { DELEGATION_CHAIN_SEPARATOR, GOVERNED_ROLE_PATH, SESSION_TAG_CHAIN, SESSION_TAG_ORIGIN } from '../../contract';
import {
  ACTIVITY_LIMITS,
  ActivityAccess,
  ActivityAttribution,
  CLOUDTRAIL_API_CALL_DETAIL_TYPE,
  resourceDigest,
} from '../../contract/activity';

/** One call of a governed role. */
export interface ObservedCall {
  readonly type: 'call';
  /** CloudTrail's eventID: the same call delivered twice has the same id. */
  readonly eventId: string;
  readonly roleName: string;
  readonly at: string;
  readonly action: string;
  readonly resource: string;
  readonly resourceTruncated: boolean;
  /** resourceDigest of the full resource (before truncation): what keys the call. */
  readonly resourceKey: string;
  /** From CloudTrail's readOnly when the catalogue does not know the action. */
  readonly readOnly?: boolean;
  /** The session's access key: delegation session tags are found by it. */
  readonly accessKeyId?: string;
  /** Set when the call was refused (AccessDenied, UnauthorizedOperation, ...). */
  readonly denied?: { readonly errorCode: string; readonly errorMessage?: string };
}

/** An assumption of a governed role: the session tags it carried, by the new session's access key. */
export interface ObservedAssumption {
  readonly type: 'assumption';
  readonly eventId: string;
  readonly roleName: string;
  readonly at: string;
  /** The new session's access key. */
  readonly accessKeyId: string;
  readonly attribution: ActivityAttribution;
  /** The caller's own session key: a transitive origin it carries is inherited. */
  readonly callerAccessKeyId?: string;
}

/** Why an event is not recorded (logged, never fatal). */
export interface IgnoredEvent {
  readonly type: 'ignored';
  readonly reason: string;
}

export type Observation = ObservedCall | ObservedAssumption | IgnoredEvent;

/** Refusal error codes: the call was not authorised. */
const REFUSAL_CODES =
  /^(Client\.)?(AccessDenied(Exception)?|UnauthorizedOperation|UnauthorizedAccess|AuthorizationError|Forbidden|AccessDeniedException)$/i;

/** eventSource hosts whose IAM prefix differs from their first label. */
const SERVICE_PREFIX: Readonly<Record<string, string>> = {
  monitoring: 'cloudwatch',
  email: 'ses',
  tagging: 'tag',
  elasticmapreduce: 'elasticmapreduce',
  'bedrock-runtime': 'bedrock',
  'bedrock-agent-runtime': 'bedrock',
  'sso-oauth': 'sso-oauth',
};

type Json = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

/** A governed role's name from an IAM role ARN under GOVERNED_ROLE_PATH in `account`, else undefined. */
export function governedRoleName(arn: string | undefined, account: string | undefined): string | undefined {
  if (!arn) return undefined;
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):role(\/.*\/)?([^/]+)$/.exec(arn);
  if (!m || (m[2] ?? '/') !== GOVERNED_ROLE_PATH) return undefined;
  if (account && m[1] !== account) return undefined;
  return m[3];
}

/** The IAM action of a call: `<service prefix>:<eventName>`. */
export function actionOf(eventSource: string, eventName: string): string {
  const label = eventSource.split('.')[0];
  return `${SERVICE_PREFIX[label] ?? label}:${eventName}`;
}

function bounded(text: string, max: number): { text: string; truncated: boolean } {
  return text.length > max ? { text: text.slice(0, max), truncated: true } : { text, truncated: false };
}

/**
 * The resource a call acted on: CloudTrail's own resources list (data events
 * and some management events), else the ARN a refusal names, else the
 * request's parameters for the common services, else `*`.
 */
export function resourceOf(detail: Json, partition: string, region: string, account: string): string {
  const listed = Array.isArray(detail.resources) ? (detail.resources as Json[]) : [];
  const first = listed.map(r => str(obj(r)?.ARN)).find(Boolean);
  if (first) return first;
  const refused = /on resource:? (arn:[^\s]+)/.exec(str(detail.errorMessage) ?? '');
  if (refused) return refused[1].replace(/[.,;]$/, '');
  const p = obj(detail.requestParameters) ?? {};
  const service = (str(detail.eventSource) ?? '').split('.')[0];
  const regional = (s: string, rest: string) => `arn:${partition}:${s}:${region}:${account}:${rest}`;
  const bucket = str(p.bucketName);
  if (service === 's3' && bucket) return `arn:${partition}:s3:::${bucket}${str(p.key) ? `/${str(p.key)}` : ''}`;
  const table = str(p.tableName);
  if (service === 'dynamodb' && table) return table.startsWith('arn:') ? table : regional('dynamodb', `table/${table}`);
  const fn = str(p.functionName);
  if (service === 'lambda' && fn) return fn.startsWith('arn:') ? fn : regional('lambda', `function:${fn}`);
  const queueUrl = str(p.queueUrl);
  if (service === 'sqs' && queueUrl) return regional('sqs', queueUrl.split('/').pop()!);
  const logGroup = str(p.logGroupName);
  if (service === 'logs' && logGroup) return regional('logs', `log-group:${logGroup}`);
  const parameter = str(p.name);
  if (service === 'ssm' && parameter) return regional('ssm', `parameter/${parameter.replace(/^\/+/, '')}`);
  // Any other request that names an ARN (topicArn, secretId, keyId, roleArn, ...).
  const arn = Object.values(p)
    .map(str)
    .find(v => v?.startsWith('arn:'));
  return arn ?? '*';
}

function attributionOf(tags: unknown): ActivityAttribution {
  const list = Array.isArray(tags) ? (tags as Json[]) : [];
  const value = (key: string) => {
    const found = list.find(t => str(obj(t)?.key) === key);
    const v = str(obj(found)?.value);
    return v === undefined ? undefined : bounded(v, ACTIVITY_LIMITS.attributionChars).text;
  };
  const origin = value(SESSION_TAG_ORIGIN);
  const chain = value(SESSION_TAG_CHAIN);
  return {
    ...(origin ? { origin } : chain ? { origin: chain.split(DELEGATION_CHAIN_SEPARATOR)[0] } : {}),
    ...(chain ? { chain } : {}),
  };
}

/**
 * Reads one EventBridge event: a call of a governed role, an assumption of
 * one, or both (a governed role assuming another is a call of the first).
 * `account`: the recorder's account (events of roles in other accounts are ignored).
 */
export function observe(event: unknown, account?: string): Observation[] {
  const e = obj(event);
  if (!e || e['detail-type'] !== CLOUDTRAIL_API_CALL_DETAIL_TYPE) return [{ type: 'ignored', reason: 'not a CloudTrail API call' }];
  const detail = obj(e.detail);
  const eventId = str(detail?.eventID);
  const at = str(detail?.eventTime);
  const eventSource = str(detail?.eventSource);
  const eventName = str(detail?.eventName);
  if (!detail || !eventId || !at || !eventSource || !eventName || !/^\d{4}-\d{2}-\d{2}T/.test(at)) {
    return [{ type: 'ignored', reason: 'CloudTrail event without eventID, eventTime, eventSource or eventName' }];
  }
  const identity = obj(detail.userIdentity);
  const issuerArn = str(obj(obj(identity?.sessionContext)?.sessionIssuer)?.arn);
  const callerRole = governedRoleName(issuerArn, account);
  const instant = at.replace(/\.\d+Z$/, 'Z');
  const partition = /^arn:(aws[a-z-]*):/.exec(issuerArn ?? '')?.[1] ?? 'aws';
  const region = str(detail.awsRegion) ?? str(e.region) ?? '';
  const eventAccount = str(detail.recipientAccountId) ?? str(e.account) ?? '';

  const observed: Observation[] = [];
  // An assumption of a governed role carries the delegation session tags its later calls are attributed to.
  if (eventSource === 'sts.amazonaws.com' && /^AssumeRole/.test(eventName) && !str(detail.errorCode)) {
    const target = governedRoleName(str(obj(detail.requestParameters)?.roleArn), account);
    const accessKeyId = str(obj(obj(detail.responseElements)?.credentials)?.accessKeyId);
    if (target && accessKeyId) {
      const callerKey = str(identity?.accessKeyId);
      observed.push({
        type: 'assumption',
        eventId,
        roleName: target,
        at: instant,
        accessKeyId,
        attribution: attributionOf(obj(detail.requestParameters)?.tags),
        ...(callerRole && callerKey ? { callerAccessKeyId: callerKey } : {}),
      });
    }
  }
  if (!callerRole) {
    return observed.length
      ? observed
      : [{ type: 'ignored', reason: `caller ${issuerArn ?? str(identity?.arn) ?? 'unknown'} is not a governed role of this account` }];
  }

  const errorCode = str(detail.errorCode);
  const errorMessage = str(detail.errorMessage);
  const refused = errorCode !== undefined && REFUSAL_CODES.test(errorCode);
  // A refusal names the action IAM checked; EC2's UnauthorizedOperation does not, so the event's own name stands.
  const checked = refused ? /perform: ([a-z0-9-]+:[A-Za-z0-9*]+)/.exec(errorMessage ?? '')?.[1] : undefined;
  const action = bounded(checked ?? actionOf(eventSource, eventName), ACTIVITY_LIMITS.actionChars).text;
  const fullResource = resourceOf(detail, partition, region, eventAccount);
  const resource = bounded(fullResource, ACTIVITY_LIMITS.resourceChars);
  const accessKeyId = str(identity?.accessKeyId);
  observed.push({
    type: 'call',
    eventId,
    roleName: callerRole,
    at: instant,
    action,
    resource: resource.text,
    resourceTruncated: resource.truncated,
    resourceKey: resourceDigest(fullResource),
    ...(typeof detail.readOnly === 'boolean' ? { readOnly: detail.readOnly } : {}),
    ...(accessKeyId ? { accessKeyId } : {}),
    ...(refused
      ? {
          denied: {
            errorCode: errorCode!,
            ...(errorMessage ? { errorMessage: bounded(errorMessage, ACTIVITY_LIMITS.errorMessageChars).text } : {}),
          },
        }
      : {}),
  });
  return observed;
}

/** The read/write judgement of an observed call, given the catalogue's answer (undefined: unknown action). */
export function accessOf(catalogue: ActivityAccess | undefined, call: Pick<ObservedCall, 'readOnly'>): ActivityAccess {
  if (catalogue) return catalogue;
  // Unknown to the catalogue: CloudTrail's readOnly decides; with neither, a write (shown, never hidden, by --writes).
  return call.readOnly === true ? 'read' : 'write';
}
