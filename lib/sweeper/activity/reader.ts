/**
 * Readers of what the activity recorder wrote: access requests (refused calls
 * surfaced for review) and a role's activity aggregates over a time range.
 * Read-only, so a reader's grant (GetItem and Query on the ledger table) is
 * all a caller needs.
 */
import { DynamoDBDocumentClient, QueryCommand, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ACCESS_REQUEST_PARTITION, AccessRequestItem, activityPartition, ActivityItem } from '../../contract/activity';

async function queryAll<T>(ddb: DynamoDBDocumentClient, input: QueryCommandInput): Promise<T[]> {
  const items: T[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await ddb.send(new QueryCommand({ ...input, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...((r.Items ?? []) as T[]));
    start = r.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Access requests, oldest day first; with `roleName`, only that role's (one key range: sort keys start with the role). */
export async function readAccessRequests(ddb: DynamoDBDocumentClient, table: string, roleName?: string): Promise<AccessRequestItem[]> {
  return queryAll<AccessRequestItem>(ddb, {
    TableName: table,
    KeyConditionExpression: roleName ? 'pk = :pk AND begins_with(sk, :role)' : 'pk = :pk',
    ExpressionAttributeValues: { ':pk': ACCESS_REQUEST_PARTITION, ...(roleName ? { ':role': `${roleName}#` } : {}) },
  });
}

/**
 * One access request by its id. The id is the last part of its sort key, so
 * this reads the partition (or the role's range of it) and picks it out.
 */
export async function readAccessRequest(
  ddb: DynamoDBDocumentClient,
  table: string,
  id: string,
  roleName?: string,
): Promise<AccessRequestItem | undefined> {
  return (await readAccessRequests(ddb, table, roleName)).find(r => r.id === id);
}

/** A role's aggregates whose day lies in [sinceDay, untilDay] (UTC days, inclusive): one Query, the day leads the sort key. */
export async function readActivity(
  ddb: DynamoDBDocumentClient,
  table: string,
  roleName: string,
  sinceDay: string,
  untilDay: string,
): Promise<ActivityItem[]> {
  // '~' sorts after '#' and every character of an action, so the whole last day is inside the range.
  return queryAll<ActivityItem>(ddb, {
    TableName: table,
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
    ExpressionAttributeValues: { ':pk': activityPartition(roleName), ':from': `${sinceDay}#`, ':to': `${untilDay}#~` },
  });
}
