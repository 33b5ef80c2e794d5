/**
 * Builds a governed account in the emulator, in bulk: N governed roles with a
 * baseline and G grants each, their approved specs in SSM, a ledger that has
 * already seen every grant (as after earlier sweeps), and the mix a sweep has
 * to act on: expired grants, drift (untagged inline policies) and renewals
 * approved by someone other than the requester.
 *
 * Which roles get what is a function of the role's index, so every run (and
 * the in-memory decision-core inputs) holds exactly the same mix.
 */
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  AgentSpec,
  BASELINE_POLICY_NAME,
  formatExpiry,
  formatGrantTag,
  GENESIS_HASH,
  GrantMemory,
  grantDocumentWithExpiry,
  grantTagKey,
  LedgerRecord,
  LedgerRoleState,
  MANAGED_BY_VALUE,
  PolicyDocumentJson,
  recordSortKey,
  renewalPartition,
  RenewalRecord,
  rolePartition,
  GOVERNED_ROLE_PATH,
  sealPartition,
  sealSortKey,
  SPEC_VERSION,
  specParameterName,
  STATE_PARTITION,
  TAG_AGENT,
  TAG_MANAGED_BY,
  TAG_OWNER,
} from '../lib/contract';
import { createLedgerTable, hashRecord } from '../lib/sweeper/ledger';
import { renewalIntent } from '../lib/sweeper/renewal';
import { mapWithConcurrency } from './bounded-concurrency';

export interface AccountShape {
  readonly roles: number;
  readonly grantsPerRole: number;
  /** The sweep's clock; expiries are placed around it. */
  readonly now: Date;
  /** Role name prefix. @default 'pd-bench' */
  readonly prefix?: string;
}

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
export const BENCH_REQUESTER = 'alice';
export const BENCH_APPROVER_ARN = 'arn:aws:iam::123456789012:user/bob';
/** bob's aws:userid and account, as STS would report them: his renewals are sealed under SEAL#<userid>, as `renew` seals them. */
export const BENCH_APPROVER_USER_ID = 'AIDABENCHAPPROVERBOB1';
const BENCH_ACCOUNT = '123456789012';

/** One grant of the fixture. */
export interface FixtureGrant {
  readonly name: string;
  readonly expiresAt: string;
  readonly expired: boolean;
  readonly document: PolicyDocumentJson;
}

/** One governed role of the fixture, fully determined by its index. */
export interface FixtureRole {
  readonly index: number;
  readonly roleName: string;
  readonly agentId: string;
  readonly baseline: PolicyDocumentJson;
  readonly grants: readonly FixtureGrant[];
  /** An untagged inline policy put on the role after the last sweep. */
  readonly drift?: { readonly name: string; readonly document: PolicyDocumentJson };
  /** A renewal of grant 0 (which has expired), approved by another identity. */
  readonly renewal?: RenewalRecord;
}

/** What a sweep of the fixture must do: the changes, derived from the mix. */
export interface ExpectedChanges {
  readonly revoked: number;
  readonly renewed: number;
  readonly drift: number;
}

/** Roles i with i % 20 === 7 carry drift (5%). */
export const isDriftRole = (i: number) => i % 20 === 7;
/** Roles i with i % 50 === 0 have a renewal for grant 0 (2%); their grant 0 has expired. */
export const isRenewalRole = (i: number) => i % 50 === 0;
/** Grant g of role i has expired when (i·G + g) % 10 === 0 (10% of grants). */
export const isExpired = (i: number, g: number, grantsPerRole: number) =>
  (i * grantsPerRole + g) % 10 === 0 || (g === 0 && isRenewalRole(i));

export function fixtureRole(shape: AccountShape, i: number): FixtureRole {
  const prefix = shape.prefix ?? 'pd-bench';
  const id = String(i).padStart(5, '0');
  const roleName = `${prefix}-agent-${id}`;
  const agentId = `${prefix}-agent-${id}`;
  const nowMs = shape.now.getTime();
  const grants: FixtureGrant[] = [];
  for (let g = 0; g < shape.grantsPerRole; g++) {
    const expired = isExpired(i, g, shape.grantsPerRole);
    // Expired: 1..48 hours ago. Live: 10..20 days ahead (outside any warning window, inside the 30-day maximum).
    const expiresAt = formatExpiry(new Date(expired ? nowMs - (1 + ((i + g) % 48)) * HOUR : nowMs + (10 + ((i + g) % 10)) * DAY));
    grants.push({
      name: `grant-${g}`,
      expiresAt,
      expired,
      document: grantDocumentWithExpiry(
        {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::bench-data-${id}/grant-${g}/*` },
          ],
        },
        expiresAt,
      ),
    });
  }
  const renewal: RenewalRecord | undefined = isRenewalRole(i)
    ? {
        pk: renewalPartition(roleName, 'grant-0'),
        sk: `${formatExpiry(new Date(nowMs - HOUR))}#r-${id}`,
        renewalId: `r-${id}`,
        roleName,
        grant: 'grant-0',
        until: formatExpiry(new Date(nowMs + 7 * DAY)),
        ticket: `RENEW-${id}`,
        requestedBy: BENCH_REQUESTER,
        approvedBy: BENCH_APPROVER_ARN,
        approverUserId: BENCH_APPROVER_USER_ID,
        approverAccount: BENCH_ACCOUNT,
        createdAt: formatExpiry(new Date(nowMs - HOUR)),
      }
    : undefined;
  return {
    index: i,
    roleName,
    agentId,
    baseline: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: `arn:aws:logs:us-east-1:123456789012:log-group:/agents/${id}:*`,
        },
      ],
    },
    grants,
    drift: isDriftRole(i)
      ? {
          name: 'hand-added',
          document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }] },
        }
      : undefined,
    renewal,
  };
}

export function expectedChanges(shape: AccountShape): ExpectedChanges {
  let revoked = 0;
  let renewed = 0;
  let drift = 0;
  for (let i = 0; i < shape.roles; i++) {
    for (let g = 0; g < shape.grantsPerRole; g++) {
      if (!isExpired(i, g, shape.grantsPerRole)) continue;
      if (g === 0 && isRenewalRole(i)) renewed++;
      else revoked++;
    }
    if (isDriftRole(i)) drift++;
  }
  return { revoked, renewed, drift };
}

export function grantTagValue(g: FixtureGrant): string {
  return formatGrantTag({ expiresAt: g.expiresAt, requestedBy: BENCH_REQUESTER, ticket: 'BENCH-1' });
}

export function specOf(role: FixtureRole): AgentSpec {
  return {
    v: SPEC_VERSION,
    agentId: role.agentId,
    roleName: role.roleName,
    owner: 'owner@example.com',
    maxGrantDurationSeconds: 30 * 24 * 3600,
    maxRenewals: 3,
    baseline: [{ kind: 'inline', name: BASELINE_POLICY_NAME, document: role.baseline }],
    grants: role.grants.map(g => ({
      kind: 'inline',
      name: g.name,
      document: g.document,
      expiresAt: g.expiresAt,
      requestedBy: BENCH_REQUESTER,
      ticket: 'BENCH-1',
      reason: 'benchmark',
    })),
  };
}

/** What the ledger remembers of a role's grants after earlier sweeps saw them. */
export function grantMemoriesOf(role: FixtureRole, seenAt: string): Record<string, GrantMemory> {
  const grants: Record<string, GrantMemory> = {};
  for (const g of role.grants) {
    grants[g.name] = {
      expiresAt: g.expiresAt,
      requestedBy: BENCH_REQUESTER,
      ticket: 'BENCH-1',
      status: 'active',
      origin: 'grant',
      firstSeenAt: seenAt,
    };
  }
  return grants;
}

/** The ledger as earlier sweeps left it: one `kept` record per grant, chained, and the STATE head. */
export function ledgerItemsOf(role: FixtureRole, seenAt: string): { records: LedgerRecord[]; state: LedgerRoleState } {
  const records: LedgerRecord[] = [];
  let prevHash = GENESIS_HASH;
  role.grants.forEach((g, n) => {
    const seq = n + 1;
    const unhashed: Omit<LedgerRecord, 'hash'> = {
      pk: rolePartition(role.roleName),
      sk: recordSortKey(seq),
      seq,
      roleName: role.roleName,
      agentId: role.agentId,
      at: seenAt,
      runId: 'bench-seed',
      actor: 'sweeper',
      decision: 'kept',
      grant: g.name,
      expiresAt: g.expiresAt,
      requestedBy: BENCH_REQUESTER,
      ticket: 'BENCH-1',
      message: `grant ${g.name} first seen; expires at ${g.expiresAt}`,
      prevHash,
    };
    const record = { ...unhashed, hash: hashRecord(unhashed) };
    records.push(record);
    prevHash = record.hash;
  });
  return {
    records,
    state: {
      pk: STATE_PARTITION,
      sk: role.roleName,
      roleName: role.roleName,
      seq: records.length,
      hash: prevHash,
      grants: grantMemoriesOf(role, seenAt),
      updatedAt: seenAt,
    },
  };
}

export interface FixtureClients {
  readonly cfn: CloudFormationClient;
  readonly ddb: DynamoDBDocumentClient;
  readonly sns: SNSClient;
}

export interface SeededAccount {
  readonly shape: AccountShape;
  readonly table: string;
  readonly topicArn: string;
  readonly expected: ExpectedChanges;
  readonly seedMs: number;
  readonly seedCalls: number;
}

/** The CloudFormation resources of one role: the role (tags, inline policies) and its approved spec parameter. */
function roleResources(role: FixtureRole): Record<string, unknown> {
  const inline: [string, PolicyDocumentJson][] = [
    [BASELINE_POLICY_NAME, role.baseline],
    ...role.grants.map(g => [g.name, g.document] as [string, PolicyDocumentJson]),
  ];
  if (role.drift) inline.push([role.drift.name, role.drift.document]);
  return {
    [`Role${role.index}`]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: role.roleName,
        Path: GOVERNED_ROLE_PATH,
        AssumeRolePolicyDocument: TRUST,
        Tags: [
          { Key: TAG_MANAGED_BY, Value: MANAGED_BY_VALUE },
          { Key: TAG_AGENT, Value: role.agentId },
          { Key: TAG_OWNER, Value: 'owner@example.com' },
          ...role.grants.map(g => ({ Key: grantTagKey(g.name), Value: grantTagValue(g) })),
        ],
        // Documents as JSON text: the emulator stores them as given, as PutRolePolicy would.
        Policies: inline.map(([PolicyName, doc]) => ({ PolicyName, PolicyDocument: JSON.stringify(doc) })),
      },
    },
    [`Spec${role.index}`]: {
      Type: 'AWS::SSM::Parameter',
      Properties: { Name: specParameterName(role.agentId), Type: 'String', Value: JSON.stringify(specOf(role)) },
    },
  };
}

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/**
 * Creates the account in the emulator. Roles and specs go in CloudFormation
 * stacks of `rolesPerStack` roles: the emulator spends most of a call on the
 * HTTP round trip, so one CreateStack for hundreds of roles is ~5x faster than
 * six API calls per role. The ledger goes in with BatchWriteItem.
 */
export async function seedGovernedAccount(
  clients: FixtureClients,
  shape: AccountShape,
  options: { table: string; rolesPerStack?: number; concurrency?: number; withRecords?: boolean },
): Promise<SeededAccount> {
  const started = Date.now();
  let calls = 0;
  const send = async <T>(p: Promise<T>): Promise<T> => {
    calls++;
    return p;
  };
  await createLedgerTable(clients.ddb, options.table);
  const topic = await send(clients.sns.send(new CreateTopicCommand({ Name: 'permission-decay-bench-owners' })));
  const roles = Array.from({ length: shape.roles }, (_, i) => fixtureRole(shape, i));
  const seenAt = formatExpiry(new Date(shape.now.getTime() - 30 * DAY));

  const perStack = options.rolesPerStack ?? 250;
  for (let s = 0; s < roles.length; s += perStack) {
    const Resources = Object.assign({}, ...roles.slice(s, s + perStack).map(roleResources));
    await send(
      clients.cfn.send(
        new CreateStackCommand({
          StackName: `${shape.prefix ?? 'pd-bench'}-roles-${s}`,
          TemplateBody: JSON.stringify({ Resources }),
        }),
      ),
    );
  }

  // Ledger and renewals: BatchWriteItem, 25 items a call. A sweep reads only
  // STATE items and renewals, never decision records; and the emulator's Query
  // scans the whole table, so by default the records stay out (the STATE heads
  // still name them, so appends chain on as after real sweeps).
  const items: Record<string, unknown>[] = [];
  for (const role of roles) {
    const { records, state } = ledgerItemsOf(role, seenAt);
    if (options.withRecords) items.push(...(records as unknown as Record<string, unknown>[]));
    items.push(state as unknown as Record<string, unknown>);
    if (role.renewal) {
      // The pointer, and the seal under the approver's own partition that makes it count (a bare pointer could be forged).
      const intent = renewalIntent(role.renewal);
      items.push(role.renewal as unknown as Record<string, unknown>, {
        ...intent,
        pk: sealPartition(intent.userId),
        sk: sealSortKey(intent),
      });
    }
  }
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  await mapWithConcurrency(batches, options.concurrency ?? 4, async batch => {
    let pending: Record<string, unknown>[] = batch.map(Item => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 10) throw new Error('ledger seed: BatchWriteItem kept returning unprocessed items');
      const out = await send(clients.ddb.send(new BatchWriteCommand({ RequestItems: { [options.table]: pending } })));
      pending = (out.UnprocessedItems?.[options.table] ?? []) as Record<string, unknown>[];
    }
  });

  return {
    shape,
    table: options.table,
    topicArn: topic.TopicArn!,
    expected: expectedChanges(shape),
    seedMs: Date.now() - started,
    seedCalls: calls,
  };
}
