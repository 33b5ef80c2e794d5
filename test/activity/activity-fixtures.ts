/** The recorder wired to the emulator with real SDK clients, and a queue that catches the events it puts. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'crypto';
import { EVENT_SOURCE } from '../../lib/contract';
import { loadAccessLevels } from '../../lib/sweeper/activity/access-levels';
import { DeliveredEvent, RecorderContext, recordBatch } from '../../lib/sweeper/activity/recorder';
import { TEST_LEDGER_TABLE } from '../support/governed-fixtures';
import { clientConfig } from '../support/moto';
import { ACCOUNT } from './cloudtrail-events';

export interface CountingRecorder {
  readonly ctx: RecorderContext;
  /** DynamoDB commands sent, by name (GetItemCommand, PutItemCommand, ...). */
  readonly commands: string[];
}

/** A recorder context on the emulator whose DynamoDB client counts the commands it sends. */
export function recorderOn(endpoint: string, baselineWindowSeconds = 30 * 86400): CountingRecorder {
  const commands: string[] = [];
  const raw = new DynamoDBClient(clientConfig(endpoint));
  raw.middlewareStack.add(
    (next, context) => async args => {
      commands.push(String((context as { commandName?: string }).commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  const ctx: RecorderContext = {
    ddb: DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } }),
    events: new EventBridgeClient(clientConfig(endpoint)),
    ledgerTable: TEST_LEDGER_TABLE,
    eventBusName: 'default',
    accessLevels: loadAccessLevels(),
    baselineWindowSeconds,
    account: ACCOUNT,
  };
  return { ctx, commands };
}

/** Delivers events as one batch (one SQS message each). */
export function batch(...events: unknown[]): DeliveredEvent[] {
  return events.map(event => ({ messageId: randomUUID(), event }));
}

export async function record(r: CountingRecorder, ...events: unknown[]) {
  return recordBatch(r.ctx, batch(...events));
}

/** Every item of a partition. */
export async function partition(ddb: DynamoDBDocumentClient, pk: string): Promise<Record<string, any>[]> {
  const r = await ddb.send(
    new QueryCommand({
      TableName: TEST_LEDGER_TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    }),
  );
  return r.Items ?? [];
}

/** A queue on the emulator with a rule on `bus` that sends it every event whose pattern matches. */
export async function queueForRule(endpoint: string, pattern: object, bus = 'default'): Promise<{ sqs: SQSClient; url: string }> {
  const sqs = new SQSClient(clientConfig(endpoint));
  const events = new EventBridgeClient(clientConfig(endpoint));
  const name = `q-${randomUUID().slice(0, 8)}`;
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await events.send(
    new PutRuleCommand({ Name: `rule-${name}`, EventBusName: bus, EventPattern: JSON.stringify(pattern), State: 'ENABLED' }),
  );
  await events.send(new PutTargetsCommand({ Rule: `rule-${name}`, EventBusName: bus, Targets: [{ Id: 'q', Arn: arn }] }));
  return { sqs, url };
}

/** A queue that receives the governance events (source permission-decay) put on the default bus. */
export async function governanceEventQueue(endpoint: string) {
  return queueForRule(endpoint, { source: [EVENT_SOURCE] });
}

/** Drains a queue: every message body (parsed), with its id. */
export async function drain(q: { sqs: SQSClient; url: string }): Promise<{ messageId: string; body: any }[]> {
  const out: { messageId: string; body: any }[] = [];
  for (;;) {
    const r = await q.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!r.Messages?.length) return out;
    for (const m of r.Messages) {
      out.push({ messageId: m.MessageId!, body: JSON.parse(m.Body!) });
      await q.sqs.send(new DeleteMessageCommand({ QueueUrl: q.url, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
}
