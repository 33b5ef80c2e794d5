/**
 * The ledger (DynamoDB): per-role hash-chained decision records, the per-role
 * STATE item, and renewal records. Appending a record and moving the STATE
 * head happen in one transaction with conditions, so two concurrent writers
 * can never both append record n. The hash chain itself (pure) is
 * lib/contract/ledger-chain.ts.
 */
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import {
  ContractError,
  emptyState,
  hashRecord,
  LEDGER_KEYS,
  LEDGER_TABLE_NAME_PREFIX,
  LedgerRecord,
  LedgerRoleState,
  ledgerSigningMessage,
  recordSortKey,
  rolePartition,
  STATE_PARTITION,
} from '../contract';

// The pure chain lives in the contract; re-exported so the ledger's readers keep one import.
export type { ChainProblem } from '../contract';
export { emptyState, hashRecord, sha256, stableJson, verifyChain } from '../contract';

/** A record before the ledger gives it a place in the chain. */
export type RecordDraft = Omit<LedgerRecord, 'pk' | 'sk' | 'seq' | 'prevHash' | 'hash'>;

/** The part of the STATE item a writer sets (the chain head is the ledger's business). */
export type StateBody = Pick<LedgerRoleState, 'grants' | 'baselineFlags' | 'specError' | 'lastCheckpointAt' | 'foreignMarker'>;

/** Another writer appended to the role first: re-read the role and decide again. */
export class LedgerConflictError extends Error {
  readonly code = 'LEDGER_CONFLICT';
  constructor(roleName: string) {
    super(`another writer appended to the ledger of role ${roleName} first`);
    this.name = 'LedgerConflictError';
  }
}

/** Every role's STATE item: one Query on pk=STATE, paginated. */
export async function readLedgerState(ddb: DynamoDBDocumentClient, table: string): Promise<Map<string, LedgerRoleState>> {
  const out = new Map<string, LedgerRoleState>();
  let key: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': LEDGER_KEYS.partitionKey },
        ExpressionAttributeValues: { ':pk': STATE_PARTITION },
        ExclusiveStartKey: key,
        ConsistentRead: true,
      }),
    );
    for (const item of page.Items ?? []) out.set(item.sk as string, item as LedgerRoleState);
    key = page.LastEvaluatedKey;
  } while (key);
  return out;
}

export async function readRoleState(ddb: DynamoDBDocumentClient, table: string, roleName: string): Promise<LedgerRoleState> {
  const r = await ddb.send(new GetCommand({ TableName: table, Key: { pk: STATE_PARTITION, sk: roleName }, ConsistentRead: true }));
  return (r.Item as LedgerRoleState | undefined) ?? emptyState(roleName);
}

/**
 * Signs records and anchors each role's chain head outside the table. The
 * sweeper has one (lib/sweeper/ledger-evidence.ts); without it records are
 * hash-chained only.
 */
export interface LedgerSealer {
  /** base64 signature of the message. */
  sign(message: string): Promise<string>;
  /** Records the role's new head where the table's writers cannot change it. */
  anchor(roleName: string, seq: number, hash: string): Promise<void>;
}

/**
 * Appends one record to the role's chain and sets the STATE item, in one
 * transaction: the record's key must not exist and the STATE head must still
 * be `head.seq`. Throws LedgerConflictError when another writer got there first.
 * `extraPuts` ride in the same transaction (e.g. a renewal record).
 */
export async function appendRecord(
  ddb: DynamoDBDocumentClient,
  table: string,
  head: LedgerRoleState,
  draft: RecordDraft,
  body: StateBody,
  extraPuts: Record<string, unknown>[] = [],
  sealer?: LedgerSealer,
): Promise<{ record: LedgerRecord; state: LedgerRoleState }> {
  const seq = head.seq + 1;
  const unhashed: Omit<LedgerRecord, 'hash'> = {
    ...(stripUndefined(draft as unknown as Record<string, unknown>) as unknown as RecordDraft),
    pk: rolePartition(draft.roleName),
    sk: recordSortKey(seq),
    seq,
    prevHash: head.hash,
  };
  const hash = hashRecord(unhashed);
  const signature = sealer ? await sealer.sign(ledgerSigningMessage(draft.roleName, seq, hash)) : undefined;
  const record: LedgerRecord = { ...unhashed, hash, ...(signature ? { signature } : {}) };
  // The role's first record is when the ledger first saw it (freeze checkpoints count from it).
  const firstSeenAt = head.firstSeenAt ?? (head.seq === 0 ? draft.at : undefined);
  const state: LedgerRoleState = {
    ...(stripUndefined({ ...body }) as unknown as StateBody),
    pk: STATE_PARTITION,
    sk: draft.roleName,
    roleName: draft.roleName,
    seq,
    hash: record.hash,
    updatedAt: draft.at,
    ...(firstSeenAt !== undefined ? { firstSeenAt } : {}),
  };
  try {
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: table, Item: record, ConditionExpression: 'attribute_not_exists(pk)' } },
          {
            Put: {
              TableName: table,
              Item: state,
              ...(head.seq === 0
                ? {
                    ConditionExpression: 'attribute_not_exists(pk) OR #seq = :zero',
                    ExpressionAttributeNames: { '#seq': 'seq' },
                    ExpressionAttributeValues: { ':zero': 0 },
                  }
                : {
                    ConditionExpression: '#seq = :prev',
                    ExpressionAttributeNames: { '#seq': 'seq' },
                    ExpressionAttributeValues: { ':prev': head.seq },
                  }),
            },
          },
          ...extraPuts.map(item => ({ Put: { TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } })),
        ],
      }),
    );
  } catch (e) {
    const name = (e as { name?: string }).name;
    const reasons = (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    if (
      name === 'TransactionCanceledException' &&
      reasons.some(r => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')
    ) {
      throw new LedgerConflictError(draft.roleName);
    }
    throw e;
  }
  // After the append: a lost race must not move the anchor. A failed anchor fails the step (and is retried);
  // the record stays, signed, and the next append anchors past it.
  if (sealer) await sealer.anchor(draft.roleName, seq, record.hash);
  return { record, state };
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

/** A role's records in chain order. */
export async function readRecords(ddb: DynamoDBDocumentClient, table: string, roleName: string): Promise<LedgerRecord[]> {
  const out: LedgerRecord[] = [];
  let key: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :rec)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': rolePartition(roleName), ':rec': 'REC#' },
        ExclusiveStartKey: key,
        ConsistentRead: true,
      }),
    );
    out.push(...((page.Items ?? []) as LedgerRecord[]));
    key = page.LastEvaluatedKey;
  } while (key);
  return out;
}

/** Creates a ledger table (on demand, pk/sk); the name must start with LEDGER_TABLE_NAME_PREFIX. */
export async function createLedgerTable(ddb: DynamoDBDocumentClient, table: string): Promise<'created' | 'exists'> {
  if (!table.startsWith(LEDGER_TABLE_NAME_PREFIX)) {
    throw new ContractError(
      'BAD_TABLE_NAME',
      `ledger table name "${table}" must start with "${LEDGER_TABLE_NAME_PREFIX}" (governed roles' boundaries deny writing such tables)`,
    );
  }
  try {
    await ddb.send(new DescribeTableCommand({ TableName: table }));
    return 'exists';
  } catch (e) {
    if ((e as { name?: string }).name !== 'ResourceNotFoundException') throw e;
  }
  await ddb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
    }),
  );
  return 'created';
}
