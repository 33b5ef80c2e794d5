/**
 * Permission coverage: every AWS call our code makes, recorded on the wire and
 * judged by the policy simulator against the synthesized policies of the
 * identity that makes that call in production.
 *
 * The emulator enforces no IAM, so a call the synthesized policy would refuse
 * passes every emulator test and fails on AWS on day one. The recorder is a
 * loopback proxy (clients in process and child processes alike reach it through
 * their endpoint or AWS_ENDPOINT_URL); each request is attributed to an
 * identity by the access key that signed it, mapped to the IAM actions and
 * resource ARNs AWS authorises it as, and simulated.
 */
import { GetRoleCommand, IAMClient, ListPolicyTagsCommand, ListRoleTagsCommand } from '@aws-sdk/client-iam';
import { LEDGER_KEYS } from '../../lib/contract';
import { FaultRequest, isWrite, startFaultProxy } from './fault-proxy';
import { Decision, SIM_ACCOUNT, SIM_PARTITION, SIM_REGION, simulate } from './simulate';

/** One signed request as the proxy saw it. */
export interface RecordedCall {
  readonly service: string;
  readonly action: string;
  readonly params: Record<string, unknown>;
  /** Access key id from the SigV4 credential scope. */
  readonly accessKeyId: string;
  /** What the test was running when the call was made, e.g. `sweep` or `renew`. */
  readonly during: string;
}

/** One IAM authorisation AWS performs for a request. */
export interface RequiredPermission {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
  readonly resourceTags?: Record<string, string>;
}

export interface CallRecorder {
  readonly endpoint: string;
  /** Labels the calls that follow (the command under way). */
  during(label: string): void;
  calls(): RecordedCall[];
  clear(): void;
  close(): Promise<void>;
}

/**
 * Starts the recording proxy in front of `target`. Writes reach the emulator
 * one at a time (moto's transactions are not isolated; see FaultProxyOptions.serialize).
 */
export async function startCallRecorder(target: string): Promise<CallRecorder> {
  let label = 'unlabelled';
  let recorded: RecordedCall[] = [];
  const proxy = await startFaultProxy({
    target,
    serialize: isWrite,
    observe: (req: FaultRequest) => {
      // Retries of one call are one authorisation; the first attempt is enough.
      if (req.attempt > 1) return;
      const key = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? 'unsigned';
      recorded.push({ service: req.service, action: req.action, params: req.params, accessKeyId: key, during: label });
    },
  });
  return {
    endpoint: proxy.endpoint,
    during: l => {
      label = l;
    },
    calls: () => [...recorded],
    clear: () => {
      recorded = [];
    },
    close: () => proxy.close(),
  };
}

const iamArn = (resource: string) => `arn:${SIM_PARTITION}:iam::${SIM_ACCOUNT}:${resource}`;
const regional = (service: string, resource: string) => `arn:${SIM_PARTITION}:${service}:${SIM_REGION}:${SIM_ACCOUNT}:${resource}`;
const tableArn = (name: string) => (name.startsWith('arn:') ? name : regional('dynamodb', `table/${name}`));
/** SSM parameter ARNs drop the name's leading slash: parameter/permission-decay/agents/x. */
const parameterArn = (name: string) => regional('ssm', `parameter/${name.replace(/^\/+/, '').replace(/\/+$/, '')}`);

/**
 * A KMS key as AWS authorises it: by the key's ARN. An alias is authorised
 * against the key it points to, which the request does not name, so it has no mapping here.
 */
function kmsKeyArn(keyId: string): string {
  if (keyId.startsWith('alias/') || keyId.includes(':alias/')) {
    throw new Error(`KMS KeyId ${keyId} is an alias: map it to its key to judge the call`);
  }
  return keyId.startsWith('arn:') ? keyId : regional('kms', `key/${keyId}`);
}

type AttributeValues = Record<string, { S?: string } | undefined>;

/**
 * dynamodb:LeadingKeys as AWS sets it for an item-level request: the partition key
 * value of the item (or key) it names, here from the wire's attribute-value form.
 */
function leadingKeys(item: unknown): Pick<RequiredPermission, 'context'> {
  const value = (item as AttributeValues | undefined)?.[LEDGER_KEYS.partitionKey]?.S;
  return value === undefined ? {} : { context: { 'dynamodb:LeadingKeys': [value] } };
}

/** The partition a Query reads: the value its key condition sets the partition key equal to. */
function queryPartition(p: Record<string, unknown>): Pick<RequiredPermission, 'context'> {
  const names = (p.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (p.ExpressionAttributeValues ?? {}) as AttributeValues;
  for (const m of String(p.KeyConditionExpression ?? '').matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
    if ((names[m[1]] ?? m[1]) === LEDGER_KEYS.partitionKey) return leadingKeys({ [LEDGER_KEYS.partitionKey]: values[m[2]] });
  }
  return {};
}

/** Query-protocol lists (`Tags.member.1.Key`, `TagKeys.member.2`) as arrays. */
function memberList(params: Record<string, unknown>, prefix: string, field?: string): string[] {
  const out: string[] = [];
  for (let i = 1; ; i++) {
    const v = params[`${prefix}.member.${i}${field ? `.${field}` : ''}`];
    if (v === undefined) return out;
    out.push(String(v));
  }
}

/**
 * What AWS checks when it authorises a recorded request. Reads the emulator
 * (direct, not through the recorder) for what the request does not carry: a
 * role's ARN with its path and its tags, a policy's tags. An operation with no
 * mapping throws, so a new kind of call cannot pass unjudged.
 */
export async function requiredPermissions(call: RecordedCall, iam: IAMClient): Promise<RequiredPermission[]> {
  const p = call.params;
  const op = `${call.service}:${call.action}`;
  type Extra = Omit<RequiredPermission, 'action' | 'resource' | 'resourceTags'>;
  const role = async (action: string, extra: Extra = {}): Promise<RequiredPermission> => {
    const name = String(p.RoleName);
    const got = await iam.send(new GetRoleCommand({ RoleName: name })).catch(e => {
      // A lookup by a name that is no role (the CLI tries --role as a name first): AWS authorises it against role/<name>.
      if ((e as { name?: string }).name === 'NoSuchEntityException') return undefined;
      throw e;
    });
    if (!got) return { action, resource: iamArn(`role/${name}`), resourceTags: {}, ...extra };
    const tags = (await iam.send(new ListRoleTagsCommand({ RoleName: name }))).Tags ?? [];
    // The ARN as AWS forms it, path included: role/permission-decay/agents/agent-x.
    return { action, resource: got.Role!.Arn!, resourceTags: Object.fromEntries(tags.map(t => [t.Key!, t.Value!])), ...extra };
  };
  const policy = async (action: string): Promise<RequiredPermission> => {
    const arn = String(p.PolicyArn);
    // AWS-managed policies (arn:aws:iam::aws:policy/...) carry no tags.
    const tags = arn.includes(':iam::aws:') ? [] : ((await iam.send(new ListPolicyTagsCommand({ PolicyArn: arn }))).Tags ?? []);
    return { action, resource: arn, resourceTags: Object.fromEntries(tags.map(t => [t.Key!, t.Value!])) };
  };
  switch (op) {
    case 'sts:GetCallerIdentity':
      return []; // needs no permission: AWS answers it even when every action is denied
    case 'iam:GetAccountAuthorizationDetails':
    case 'iam:ListRoles':
    case 'iam:ListPolicies':
      return [{ action: op, resource: '*' }];
    case 'iam:GetPolicy':
    case 'iam:GetPolicyVersion':
    case 'iam:ListPolicyVersions':
    case 'iam:CreatePolicyVersion':
    case 'iam:DeletePolicyVersion':
    case 'iam:SetDefaultPolicyVersion':
      return [await policy(op)];
    case 'iam:GetRole':
    case 'iam:GetRolePolicy':
    case 'iam:ListRolePolicies':
    case 'iam:ListAttachedRolePolicies':
    case 'iam:ListRoleTags':
    case 'iam:PutRolePolicy':
    case 'iam:DeleteRolePolicy':
      return [await role(op)];
    case 'iam:AttachRolePolicy':
    case 'iam:DetachRolePolicy':
      return [await role(op, { context: { 'iam:PolicyARN': String(p.PolicyArn) } })];
    case 'iam:TagRole': {
      const keys = memberList(p, 'Tags', 'Key');
      const values = memberList(p, 'Tags', 'Value');
      const requestTags = Object.fromEntries(keys.map((k, i) => [`aws:RequestTag/${k}`, values[i]]));
      return [await role(op, { context: { 'aws:TagKeys': keys, ...requestTags } })];
    }
    case 'iam:UntagRole':
      return [await role(op, { context: { 'aws:TagKeys': memberList(p, 'TagKeys') } })];
    case 'dynamodb:GetItem':
    case 'dynamodb:DeleteItem':
    case 'dynamodb:UpdateItem':
      return [{ action: op, resource: tableArn(String(p.TableName)), ...leadingKeys(p.Key) }];
    case 'dynamodb:PutItem':
      return [{ action: op, resource: tableArn(String(p.TableName)), ...leadingKeys(p.Item) }];
    case 'dynamodb:DescribeTable':
    case 'dynamodb:CreateTable':
    case 'dynamodb:Scan':
      return [{ action: op, resource: tableArn(String(p.TableName)) }];
    case 'dynamodb:Query': {
      const resource = tableArn(String(p.TableName)) + (p.IndexName ? `/index/${String(p.IndexName)}` : '');
      return [{ action: op, resource, ...queryPartition(p) }];
    }
    case 'dynamodb:BatchGetItem':
      return Object.keys(p.RequestItems as object).map(t => ({ action: op, resource: tableArn(t) }));
    case 'dynamodb:TransactWriteItems': {
      // A transaction is authorised item by item, as the item action each part performs.
      const parts: Record<string, string> = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
      };
      type Part = { TableName: string; Item?: unknown; Key?: unknown };
      return (p.TransactItems as Record<string, Part>[]).flatMap(item =>
        Object.entries(item).map(([kind, body]) => {
          if (!parts[kind]) throw new Error(`TransactWriteItems part ${kind} has no mapping`);
          return { action: `dynamodb:${parts[kind]}`, resource: tableArn(body.TableName), ...leadingKeys(body.Item ?? body.Key) };
        }),
      );
    }
    case 'dynamodb:TransactGetItems':
      return (p.TransactItems as { Get: { TableName: string } }[]).map(i => ({
        action: 'dynamodb:GetItem',
        resource: tableArn(i.Get.TableName),
      }));
    case 'ssm:GetParameter':
    case 'ssm:PutParameter':
      return [{ action: op, resource: parameterArn(String(p.Name)) }];
    case 'ssm:GetParameters':
      return (p.Names as string[]).map(n => ({ action: op, resource: parameterArn(n) }));
    case 'ssm:GetParametersByPath':
      return [{ action: op, resource: parameterArn(String(p.Path)) }];
    case 'events:PutEvents': {
      // AWS sets events:source and events:detail-type to the values of every entry of the batch.
      const entries = p.Entries as { EventBusName?: string; Source?: string; DetailType?: string }[];
      const context = {
        'events:source': [...new Set(entries.map(e => String(e.Source)))],
        'events:detail-type': [...new Set(entries.map(e => String(e.DetailType)))],
      };
      return [...new Set(entries.map(e => e.EventBusName ?? 'default'))].map(bus => ({
        action: op,
        resource: bus.startsWith('arn:') ? bus : regional('events', `event-bus/${bus}`),
        context,
      }));
    }
    case 'sns:Publish':
      return [{ action: op, resource: String(p.TopicArn) }];
    case 'kms:Sign':
    case 'kms:Verify': {
      const context = { 'kms:SigningAlgorithm': String(p.SigningAlgorithm), 'kms:MessageType': String(p.MessageType ?? 'RAW') };
      return [{ action: op, resource: kmsKeyArn(String(p.KeyId)), context }];
    }
    case 'kms:GetPublicKey':
    case 'kms:DescribeKey':
      return [{ action: op, resource: kmsKeyArn(String(p.KeyId)) }];
    default:
      throw new Error(`no IAM mapping for ${op}: add it to requiredPermissions so the call is judged`);
  }
}

/** An identity as production knows it: its policies, and which access keys stand for it in the test. */
export interface CoveredIdentity {
  readonly name: string;
  readonly identityPolicies: object[];
  readonly boundaryPolicies?: object[];
  /** ARN the simulator uses as the principal. */
  readonly principal: string;
  readonly accessKeyIds: readonly string[];
  /** Request context every call of this identity carries, e.g. aws:userid (which `${aws:userid}` in a policy reads). */
  readonly context?: Record<string, string | string[]>;
}

/** One refusal, in words a reader can act on. */
export interface Refusal {
  readonly identity: string;
  readonly during: string;
  readonly call: string;
  readonly action: string;
  readonly resource: string;
  readonly decision: Decision;
}

export interface CoverageReport {
  readonly refusals: Refusal[];
  /** `identity action resource` for each distinct permission judged allowed. */
  readonly allowed: string[];
  /** Calls signed by a key that belongs to no identity (setup traffic should not reach the recorder). */
  readonly unattributed: RecordedCall[];
}

/**
 * Judges every recorded call against the policies of the identity that signed
 * it, and the resource's own policy where `resourcePolicies` (ARN -> policy
 * document, e.g. a KMS key's key policy) has one. The principal's ARN is in
 * every request's context as aws:PrincipalArn, as AWS sets it.
 */
export async function judgeCalls(
  calls: readonly RecordedCall[],
  identities: readonly CoveredIdentity[],
  iam: IAMClient,
  resourcePolicies: Readonly<Record<string, object>> = {},
): Promise<CoverageReport> {
  const refusals: Refusal[] = [];
  const allowed = new Set<string>();
  const unattributed: RecordedCall[] = [];
  const seen = new Map<string, Decision>();
  for (const call of calls) {
    const who = identities.find(i => i.accessKeyIds.includes(call.accessKeyId));
    if (!who) {
      unattributed.push(call);
      continue;
    }
    for (const need of await requiredPermissions(call, iam)) {
      const key = JSON.stringify([who.name, who.context, need]);
      let decision = seen.get(key);
      if (!decision) {
        decision = await simulate({
          identityPolicies: who.identityPolicies,
          boundaryPolicies: who.boundaryPolicies,
          principal: who.principal,
          action: need.action,
          resource: need.resource,
          resourceTags: need.resourceTags,
          resourcePolicy: resourcePolicies[need.resource],
          context: { 'aws:PrincipalArn': who.principal, ...who.context, ...need.context },
        });
        seen.set(key, decision);
      }
      if (decision === 'Allowed') allowed.add(`${who.name} ${need.action} ${need.resource}`);
      else {
        refusals.push({
          identity: who.name,
          during: call.during,
          call: `${call.service}:${call.action}`,
          action: need.action,
          resource: need.resource,
          decision,
        });
      }
    }
  }
  return { refusals, allowed: [...allowed].sort(), unattributed };
}

/** One line per distinct refusal, e.g. `sweeper (during sweep): iam:TagRole on arn:... ImplicitlyDenied`. */
export function describeRefusals(refusals: readonly Refusal[]): string[] {
  return [...new Set(refusals.map(r => `${r.identity} (during ${r.during}): ${r.action} on ${r.resource} is ${r.decision}`))].sort();
}
