import { storeInventory, AgentInventory, StoreModel } from '../../lib/analysis';
import { agent, baseline, bucket, delegateTo, grant, logGroup } from './agent-models';

const JAN = '2027-01-01T00:00:00Z';
const FEB = '2027-02-01T00:00:00Z';
const cards = bucket('Stack/Cards', 'cards', { regime: 'pci', retention: '7 years', owner: 'payments@example.com' });
const agentLogs = logGroup('Stack/AgentLogs', 'agent-logs', { retention: '30 days' });
const table: StoreModel = { key: 'Stack/Memory', kind: 'dynamodb-table', arnPatterns: ['arn:aws:dynamodb:us-east-1:1:table/memory'] };
const stores = [cards, agentLogs, table];

function storesOf(inv: readonly AgentInventory[], id: string) {
  return inv.find(i => i.agentId === id)!.stores;
}

describe('storeInventory', () => {
  test.each([
    ['reads are not writes', [baseline(['s3:GetObject', 's3:ListBucket'], ['arn:aws:s3:::cards', 'arn:aws:s3:::cards/*'])], []],
    ['a write to a known bucket', [baseline(['s3:PutObject'], ['arn:aws:s3:::cards/*'])], ['Stack/Cards']],
    ['a write to a log group by wildcard', [baseline(['logs:Put*'], ['arn:aws:logs:*:*:log-group:agent-logs:*'])], ['Stack/AgentLogs']],
    ['a write to a table', [baseline(['dynamodb:PutItem'], ['arn:aws:dynamodb:us-east-1:1:table/memory'])], ['Stack/Memory']],
    ['a write to a bucket nobody modelled', [baseline(['s3:PutObject'], ['arn:aws:s3:::elsewhere/*'])], ['arn:aws:s3:::elsewhere/*']],
    ['a write on * reaches every known store of the service and the unknown rest', [baseline(['s3:PutObject'])], ['Stack/Cards', '*']],
    ['writes on non-store services are not stores', [baseline(['iam:CreateRole', 'lambda:InvokeFunction'])], []],
  ])('%s', (_, statements, expected) => {
    expect(storesOf(storeInventory([agent('a', statements)], stores), 'a').map(s => s.store)).toEqual(expected);
  });

  test('known stores carry regime, retention and owner; what is not tagged is "unknown"', () => {
    const inv = storesOf(
      storeInventory(
        [
          agent('a', [
            baseline(['s3:PutObject'], ['arn:aws:s3:::cards/*', 'arn:aws:s3:::elsewhere/*']),
            baseline(['logs:PutLogEvents'], ['arn:aws:logs:us-east-1:1:log-group:agent-logs:*']),
            baseline(['sqs:SendMessage'], ['arn:aws:sqs:us-east-1:1:jobs']),
          ]),
        ],
        stores,
      ),
      'a',
    );
    expect(inv.map(e => [e.name, e.kind, e.known, e.regime, e.retention, e.owner])).toEqual([
      ['agent-logs', 'log-group', true, 'unknown', '30 days', 'unknown'],
      ['cards', 's3-bucket', true, 'pci', '7 years', 'payments@example.com'],
      ['arn:aws:s3:::elsewhere/*', 's3-bucket', false, 'unknown', 'unknown', 'unknown'],
      ['arn:aws:sqs:us-east-1:1:jobs', 'sqs-queue', false, 'unknown', 'unknown', 'unknown'],
    ]);
  });

  test('writes through a delegation are listed with their route and the latest expiry of all routes', () => {
    const inv = storeInventory(
      [
        agent('a', [grant('g', ['dynamodb:PutItem'], ['arn:aws:dynamodb:us-east-1:1:table/memory'], JAN)], [delegateTo('b', FEB)]),
        agent('b', [baseline(['dynamodb:UpdateItem', 'dynamodb:GetItem'], ['arn:aws:dynamodb:us-east-1:1:table/memory'])]),
      ],
      stores,
    );
    const [memory] = storesOf(inv, 'a');
    expect(memory.store).toBe('Stack/Memory');
    expect(memory.writeActions).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(memory.routes).toEqual([
      { path: ['a'], source: 'grant', grantName: 'g', expiresAt: JAN },
      { path: ['a', 'b'], source: 'baseline', expiresAt: FEB },
    ]);
    expect(memory.expiresAt).toBe(FEB);
    expect(storesOf(inv, 'b')[0].expiresAt).toBeUndefined();
  });

  test('vector stores, caches and streams are data stores', () => {
    const inv = storesOf(
      storeInventory(
        [
          agent('a', [
            baseline(['s3vectors:PutVectors', 'elasticache:Connect', 'aoss:APIAccessAll', 'kinesis:PutRecord', 'firehose:PutRecord']),
          ]),
        ],
        [],
      ),
      'a',
    );
    expect(inv.map(e => e.kind).sort()).toEqual([
      'elasticache-cache',
      'firehose-stream',
      'kinesis-stream',
      'opensearch-collection',
      's3-vector-bucket',
    ]);
  });
});
