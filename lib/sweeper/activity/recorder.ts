/**
 * The activity recorder: folds a batch of CloudTrail events into the ledger
 * table, per role, action, resource and UTC day.
 *
 * Writes are per distinct (role, action, resource, day) in a batch, never per
 * call: a batch's events are aggregated in memory first, then each aggregate
 * is merged into its item with one read and one conditional write (optimistic:
 * the item's `version` must not have moved). The first aggregate of a day also
 * updates what the role has used (novel access is judged there), and a refusal
 * becomes an access request. Each aggregate remembers the token of the events
 * it was built from, so a redelivered batch is not counted twice.
 *
 * Errors are per aggregate: a failed one fails only the messages it came from
 * (the caller reports them to SQS for redelivery); the rest are written.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'crypto';
import { EVENT_SOURCE } from '../../contract';
import {
  ACCESS_REQUEST_PARTITION,
  ACCESS_REQUESTED_DETAIL_TYPE,
  AccessRequestItem,
  ACTIVITY_LIMITS,
  ActivityAccess,
  ActivityAttribution,
  ActivityItem,
  activityPartition,
  activitySeenPartition,
  ActivitySeenItem,
  activitySessionPartition,
  ActivitySessionItem,
  activitySortKey,
  dayOf,
  findingId,
  findingSortKey,
  NOVEL_ACCESS_DETAIL_TYPE,
  NOVEL_ACCESS_PARTITION,
  NovelAccessItem,
  NoveltyKind,
  SESSION_SORT_KEY,
} from '../../contract/activity';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { errorOf } from '../errors';
import { AccessLevels } from './access-levels';
import { accessOf, ObservedAssumption, ObservedCall, observe } from './cloudtrail';

/** What the recorder needs. */
export interface RecorderContext {
  readonly ddb: DynamoDBDocumentClient;
  readonly events: EventBridgeClient;
  readonly ledgerTable: string;
  readonly eventBusName: string;
  readonly accessLevels: AccessLevels;
  /** Seconds of activity a role's baseline covers. */
  readonly baselineWindowSeconds: number;
  /** The recorder's account: roles of other accounts are ignored. */
  readonly account?: string;
}

/** One delivered event: its carrier's id (an SQS message id) and the EventBridge event. */
export interface DeliveredEvent {
  readonly messageId: string;
  readonly event: unknown;
}

export interface RecorderResult {
  /** Carrier ids to deliver again (their aggregate failed). */
  readonly failedMessageIds: string[];
  readonly errors: { code: string; message: string; roleName?: string }[];
  readonly ignored: number;
  readonly calls: number;
  readonly aggregates: number;
  readonly accessRequests: number;
  readonly novelAccesses: number;
}

/** Calls of one (role, action, resource, day, refused or not) in one batch. */
interface Aggregate {
  readonly roleName: string;
  readonly day: string;
  readonly action: string;
  readonly resource: string;
  readonly resourceTruncated: boolean;
  readonly resourceKey: string;
  readonly access: ActivityAccess;
  readonly denied?: ObservedCall['denied'];
  firstSeenAt: string;
  lastSeenAt: string;
  readonly eventIds: Set<string>;
  readonly accessKeyIds: Set<string>;
  readonly messageIds: Set<string>;
}

type Versioned<T> = T & { readonly version: number };

const attributionKey = (a: ActivityAttribution) => `${a.origin ?? ''}\n${a.chain ?? ''}`;

/** The token of a contribution: the events it counts. The same events delivered again give the same token. */
function tokenOf(eventIds: Iterable<string>): string {
  return createHash('sha256')
    .update([...eventIds].sort().join('\n'))
    .digest('hex')
    .slice(0, 16);
}

/** Merges attributions, keeping at most ACTIVITY_LIMITS.attributions (the rest are counted). */
function mergeAttributions(old: readonly ActivityAttribution[], add: readonly ActivityAttribution[], omitted = 0) {
  const seen = new Map(old.map(a => [attributionKey(a), a]));
  let more = omitted;
  for (const a of add) {
    if (!a.origin && !a.chain) continue;
    const k = attributionKey(a);
    if (seen.has(k)) continue;
    if (seen.size >= ACTIVITY_LIMITS.attributions) more++;
    else seen.set(k, a);
  }
  return { attributions: [...seen.values()], ...(more > 0 ? { attributionsOmitted: more } : {}) };
}

function minInstant(a: string, b: string): string {
  return a < b ? a : b;
}
function maxInstant(a: string, b: string): string {
  return a > b ? a : b;
}

function isConditionFailure(e: unknown): boolean {
  return (e as { name?: string }).name === 'ConditionalCheckFailedException';
}

/**
 * Reads an item, lets `merge` build its next version (undefined: nothing to
 * write) and writes it on condition that nobody wrote in between; retries a
 * lost race. Returns the item as it was and as it is now.
 */
async function mergeInto<T extends { pk: string; sk: string }>(
  ctx: RecorderContext,
  key: { pk: string; sk: string },
  merge: (old: Versioned<T> | undefined) => T | undefined,
): Promise<{ old?: Versioned<T>; item?: Versioned<T> }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const got = await ctx.ddb.send(new GetCommand({ TableName: ctx.ledgerTable, Key: key, ConsistentRead: true }));
    const old = got.Item as Versioned<T> | undefined;
    const next = merge(old);
    if (!next) return { old, item: old };
    const item = { ...next, pk: key.pk, sk: key.sk, version: (old?.version ?? 0) + 1 } as Versioned<T>;
    try {
      await ctx.ddb.send(
        new PutCommand({
          TableName: ctx.ledgerTable,
          Item: item,
          ConditionExpression: old ? '#v = :v' : 'attribute_not_exists(pk)',
          ...(old ? { ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': old.version } } : {}),
        }),
      );
      return { old, item };
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }
  throw Object.assign(new Error(`item ${key.pk} ${key.sk} kept changing under the recorder (5 attempts)`), { code: 'ACTIVITY_CONFLICT' });
}

async function putEvent(ctx: RecorderContext, detailType: string, detail: object): Promise<void> {
  const r = await ctx.events.send(
    new PutEventsCommand({
      Entries: [
        { Source: EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail), EventBusName: ctx.eventBusName, Resources: [] },
      ],
    }),
  );
  if ((r.FailedEntryCount ?? 0) > 0) {
    const entry = r.Entries?.find(x => x.ErrorCode);
    throw Object.assign(new Error(`PutEvents refused the ${detailType} event: ${entry?.ErrorCode} ${entry?.ErrorMessage ?? ''}`), {
      code: 'EVENT_FAILED',
    });
  }
}

function withoutKeys<T extends object>(item: T): Omit<T, 'pk' | 'sk' | 'contributions' | 'version'> {
  const {
    pk: _pk,
    sk: _sk,
    contributions: _c,
    version: _v,
    ...rest
  } = item as T & { pk: unknown; sk: unknown; contributions?: unknown; version?: unknown };
  return rest;
}

/** Attribution of each session key: from this batch's assumptions, else the stored session (read once per batch). */
class Sessions {
  private readonly known = new Map<string, ActivityAttribution | undefined>();
  constructor(private readonly ctx: RecorderContext) {}

  async record(a: ObservedAssumption): Promise<void> {
    let attribution = a.attribution;
    // The origin tag is transitive: a later hop does not pass it again, its session inherits it from the caller's.
    if (!attribution.origin && a.callerAccessKeyId) {
      const caller = await this.of(a.callerAccessKeyId);
      if (caller?.origin) attribution = { ...attribution, origin: caller.origin };
    }
    this.known.set(a.accessKeyId, attribution);
    const item: ActivitySessionItem = {
      pk: activitySessionPartition(a.accessKeyId),
      sk: SESSION_SORT_KEY,
      roleName: a.roleName,
      attribution,
      assumedAt: a.at,
    };
    // The same assumption delivered again writes the same item.
    await this.ctx.ddb.send(new PutCommand({ TableName: this.ctx.ledgerTable, Item: item }));
  }

  async of(accessKeyId: string): Promise<ActivityAttribution | undefined> {
    if (!this.known.has(accessKeyId)) {
      const got = await this.ctx.ddb.send(
        new GetCommand({
          TableName: this.ctx.ledgerTable,
          Key: { pk: activitySessionPartition(accessKeyId), sk: SESSION_SORT_KEY },
          ConsistentRead: true,
        }),
      );
      this.known.set(accessKeyId, (got.Item as ActivitySessionItem | undefined)?.attribution);
    }
    return this.known.get(accessKeyId);
  }
}

/** Folds one batch of delivered events into the ledger table. */
export async function recordBatch(ctx: RecorderContext, delivered: readonly DeliveredEvent[]): Promise<RecorderResult> {
  const failed = new Set<string>();
  const errors: RecorderResult['errors'] = [];
  let ignored = 0;
  let calls = 0;
  const assumptions: { messageId: string; a: ObservedAssumption }[] = [];
  const aggregates = new Map<string, Aggregate>();
  for (const o of delivered.flatMap(d => observe(d.event, ctx.account).map(observation => ({ ...observation, messageId: d.messageId })))) {
    if (o.type === 'ignored') {
      ignored++;
      continue;
    }
    if (o.type === 'assumption') {
      assumptions.push({ messageId: o.messageId, a: o });
      continue;
    }
    const day = dayOf(o.at);
    const key = [o.roleName, day, o.action, o.resourceKey, o.denied ? o.denied.errorCode : ''].join('\n');
    let agg = aggregates.get(key);
    if (!agg) {
      agg = {
        roleName: o.roleName,
        day,
        action: o.action,
        resource: o.resource,
        resourceTruncated: o.resourceTruncated,
        resourceKey: o.resourceKey,
        access: accessOf(ctx.accessLevels.of(o.action), o),
        ...(o.denied ? { denied: o.denied } : {}),
        firstSeenAt: o.at,
        lastSeenAt: o.at,
        eventIds: new Set(),
        accessKeyIds: new Set(),
        messageIds: new Set(),
      };
      aggregates.set(key, agg);
    }
    agg.messageIds.add(o.messageId);
    if (agg.eventIds.has(o.eventId)) continue; // delivered twice in one batch
    calls++;
    agg.eventIds.add(o.eventId);
    if (o.accessKeyId) agg.accessKeyIds.add(o.accessKeyId);
    agg.firstSeenAt = minInstant(agg.firstSeenAt, o.at);
    agg.lastSeenAt = maxInstant(agg.lastSeenAt, o.at);
  }

  const sessions = new Sessions(ctx);
  for (const { messageId, a } of assumptions) {
    try {
      await sessions.record(a);
    } catch (e) {
      failed.add(messageId);
      errors.push({ ...errorOf(e), roleName: a.roleName });
    }
  }

  let accessRequests = 0;
  let novelAccesses = 0;
  for (const agg of aggregates.values()) {
    try {
      const attributions: ActivityAttribution[] = [];
      for (const k of agg.accessKeyIds) {
        const a = await sessions.of(k);
        if (a && (a.origin || a.chain)) attributions.push(a);
      }
      if (agg.denied) {
        if (await recordAccessRequest(ctx, agg, attributions)) accessRequests++;
      } else {
        const { first } = await recordActivity(ctx, agg, attributions);
        // The first contribution of the day for this key is where novelty is judged (once per key and day).
        if (first && (await recordNovelty(ctx, agg, attributions))) novelAccesses++;
      }
    } catch (e) {
      for (const m of agg.messageIds) failed.add(m);
      errors.push({ ...errorOf(e), roleName: agg.roleName });
    }
  }
  return { failedMessageIds: [...failed], errors, ignored, calls, aggregates: aggregates.size, accessRequests, novelAccesses };
}

/** Merges the aggregate into its item. `first`: this contribution is the day's first for the key (also when delivered again). */
async function recordActivity(ctx: RecorderContext, agg: Aggregate, attributions: ActivityAttribution[]): Promise<{ first: boolean }> {
  const token = tokenOf(agg.eventIds);
  const { item } = await mergeInto<ActivityItem>(
    ctx,
    { pk: activityPartition(agg.roleName), sk: activitySortKey(agg.day, agg.action, agg.resourceKey) },
    old => {
      if (old?.contributions.includes(token)) return undefined;
      return {
        pk: '',
        sk: '',
        roleName: agg.roleName,
        day: agg.day,
        action: agg.action,
        resource: agg.resource,
        ...(agg.resourceTruncated ? { resourceTruncated: true } : {}),
        access: agg.access,
        firstSeenAt: old ? minInstant(old.firstSeenAt, agg.firstSeenAt) : agg.firstSeenAt,
        lastSeenAt: old ? maxInstant(old.lastSeenAt, agg.lastSeenAt) : agg.lastSeenAt,
        count: (old?.count ?? 0) + agg.eventIds.size,
        ...mergeAttributions(old?.attributions ?? [], attributions, old?.attributionsOmitted),
        contributions: [...(old?.contributions ?? []), token].slice(-ACTIVITY_LIMITS.contributions),
      };
    },
  );
  return { first: item?.contributions[0] === token && item.version === 1 };
}

/** Records a refusal as an access request; puts its event once. True when the event was put now. */
async function recordAccessRequest(ctx: RecorderContext, agg: Aggregate, attributions: ActivityAttribution[]): Promise<boolean> {
  const token = tokenOf(agg.eventIds);
  const id = findingId(agg.roleName, agg.action, agg.resourceKey, agg.day);
  const key = { pk: ACCESS_REQUEST_PARTITION, sk: findingSortKey(agg.roleName, agg.day, id) };
  const { item } = await mergeInto<AccessRequestItem>(ctx, key, old => {
    if (old?.contributions.includes(token)) return undefined;
    return {
      pk: '',
      sk: '',
      id,
      roleName: agg.roleName,
      day: agg.day,
      action: agg.action,
      resource: agg.resource,
      ...(agg.resourceTruncated ? { resourceTruncated: true } : {}),
      access: agg.access,
      errorCode: agg.denied!.errorCode,
      ...(agg.denied!.errorMessage ? { errorMessage: agg.denied!.errorMessage } : {}),
      firstSeenAt: old ? minInstant(old.firstSeenAt, agg.firstSeenAt) : agg.firstSeenAt,
      lastSeenAt: old ? maxInstant(old.lastSeenAt, agg.lastSeenAt) : agg.lastSeenAt,
      count: (old?.count ?? 0) + agg.eventIds.size,
      ...mergeAttributions(old?.attributions ?? [], attributions, old?.attributionsOmitted),
      contributions: [...(old?.contributions ?? []), token].slice(-ACTIVITY_LIMITS.contributions),
      notified: old?.notified ?? false,
    };
  });
  if (!item || item.notified) return false;
  // The event after the item: a failed put leaves notified false, and the redelivered batch puts it.
  await putEvent(ctx, ACCESS_REQUESTED_DETAIL_TYPE, withoutKeys(item));
  await mergeInto<AccessRequestItem>(ctx, key, old => (old && !old.notified ? { ...old, notified: true } : undefined));
  return true;
}

function dayBefore(instant: string, seconds: number): string {
  return new Date(Date.parse(instant) - seconds * 1000).toISOString().slice(0, 10);
}

/**
 * Judges whether the call is novel (once the role has a baseline: its
 * activity began at least a window ago, a use the window does not hold) and
 * records it, then updates what the role has used, by action and by resource.
 * Novelty is judged from what was read before the update, so a batch delivered
 * again after a failure judges the same. True when a novel access was recorded now.
 */
async function recordNovelty(ctx: RecorderContext, agg: Aggregate, attributions: ActivityAttribution[]): Promise<boolean> {
  const pk = activitySeenPartition(agg.roleName);
  const at = agg.firstSeenAt;
  const keys = { start: 'START', action: `ACTION#${agg.action}`, resource: `RESOURCE#${agg.resourceKey}` };
  const read = async (sk: string) =>
    (
      await ctx.ddb.send(
        new GetCommand({
          TableName: ctx.ledgerTable,
          Key: { pk, sk },
          ConsistentRead: true,
        }),
      )
    ).Item as ActivitySeenItem | undefined;
  const [start, action, resource] = [await read(keys.start), await read(keys.action), await read(keys.resource)];
  const windowStart = dayBefore(at, ctx.baselineWindowSeconds);
  const roleStart = start?.firstSeenAt ?? at;
  // Still learning: the role's activity began less than a window ago.
  const learning = Date.parse(roleStart) > Date.parse(at) - ctx.baselineWindowSeconds * 1000;
  const newAction = !action || action.lastSeenDay < windowStart;
  const newResource = !resource || resource.lastSeenDay < windowStart;
  let recorded = false;
  if (!learning && (newAction || newResource)) {
    const novelty: NoveltyKind = newAction && newResource ? 'action-and-resource' : newAction ? 'action' : 'resource';
    const id = findingId(agg.roleName, agg.action, agg.resourceKey, agg.day);
    const key = { pk: NOVEL_ACCESS_PARTITION, sk: findingSortKey(agg.roleName, agg.day, id) };
    const { item } = await mergeInto<NovelAccessItem>(ctx, key, old =>
      old
        ? undefined
        : {
            pk: '',
            sk: '',
            id,
            roleName: agg.roleName,
            day: agg.day,
            action: agg.action,
            resource: agg.resource,
            access: agg.access,
            novelty,
            at,
            baselineWindowSeconds: ctx.baselineWindowSeconds,
            attributions: attributions.slice(0, ACTIVITY_LIMITS.attributions),
            notified: false,
          },
    );
    if (item && !item.notified) {
      await putEvent(ctx, NOVEL_ACCESS_DETAIL_TYPE, withoutKeys(item));
      await mergeInto<NovelAccessItem>(ctx, key, old => (old && !old.notified ? { ...old, notified: true } : undefined));
      recorded = true;
    }
  }
  for (const sk of Object.values(keys)) {
    await mergeInto<ActivitySeenItem>(ctx, { pk, sk }, old => {
      if (old && old.lastSeenDay >= agg.day && old.firstSeenAt <= at) return undefined;
      return {
        pk,
        sk,
        firstSeenAt: old ? minInstant(old.firstSeenAt, at) : at,
        lastSeenDay: old ? maxInstant(old.lastSeenDay, agg.day) : agg.day,
      };
    });
  }
  return recorded;
}
