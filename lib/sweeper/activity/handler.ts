/**
 * The activity recorder Lambda: CloudTrail events of governed roles reach it
 * through an EventBridge rule and an SQS queue (batched, so the ledger sees a
 * write per distinct role, action, resource and day in a batch, never one per
 * call). Messages whose aggregate failed are reported back to SQS
 * (ReportBatchItemFailures) and delivered again; the rest are done.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ACTIVITY_ENV, DEFAULT_BASELINE_WINDOW_SECONDS } from '../../contract/activity';
import { ContractError } from '../../contract';
import { loadAccessLevels } from './access-levels';
import { DeliveredEvent, RecorderContext, RecorderResult, recordBatch } from './recorder';

/** The part of an SQS event the recorder reads. */
export interface SqsBatch {
  readonly Records: readonly { readonly messageId: string; readonly body: string }[];
}

export interface SqsBatchResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

/** The recorder's configuration from its environment; a missing or bad value is an error naming it. */
export function recorderConfigFromEnv(env: NodeJS.ProcessEnv): Omit<RecorderContext, 'ddb' | 'events' | 'accessLevels'> {
  const ledgerTable = env[ACTIVITY_ENV.ledgerTable];
  if (!ledgerTable)
    throw new ContractError('MISSING_CONFIG', `${ACTIVITY_ENV.ledgerTable} is not set: the recorder needs the ledger table's name`);
  const windowText = env[ACTIVITY_ENV.baselineWindowSeconds];
  const baselineWindowSeconds = windowText === undefined || windowText === '' ? DEFAULT_BASELINE_WINDOW_SECONDS : Number(windowText);
  if (!Number.isInteger(baselineWindowSeconds) || baselineWindowSeconds <= 0) {
    throw new ContractError(
      'BAD_CONFIG',
      `${ACTIVITY_ENV.baselineWindowSeconds} "${windowText}" is not a whole number of seconds above zero`,
    );
  }
  return {
    ledgerTable,
    eventBusName: env[ACTIVITY_ENV.eventBusName] || 'default',
    baselineWindowSeconds,
    ...(env[ACTIVITY_ENV.account] ? { account: env[ACTIVITY_ENV.account] } : {}),
  };
}

/** Reads the SQS batch: a body that is not JSON is ignored (it can never become valid by delivering it again). */
export function deliveredEvents(batch: SqsBatch): DeliveredEvent[] {
  return batch.Records.map(r => {
    try {
      return { messageId: r.messageId, event: JSON.parse(r.body) as unknown };
    } catch {
      return { messageId: r.messageId, event: undefined };
    }
  });
}

let clients: { ddb: DynamoDBDocumentClient; events: EventBridgeClient } | undefined;

export async function handler(batch: SqsBatch): Promise<SqsBatchResponse> {
  const config = recorderConfigFromEnv(process.env);
  clients ??= {
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
    events: new EventBridgeClient({}),
  };
  const result: RecorderResult = await recordBatch({ ...config, ...clients, accessLevels: loadAccessLevels() }, deliveredEvents(batch));
  const { failedMessageIds, errors, ...counts } = result;
  console.log(JSON.stringify({ msg: 'permission-decay activity', ...counts, failed: failedMessageIds.length }));
  if (errors.length) console.error(JSON.stringify({ msg: 'permission-decay activity errors', errors: errors.slice(0, 20) }));
  return { batchItemFailures: failedMessageIds.map(itemIdentifier => ({ itemIdentifier })) };
}
