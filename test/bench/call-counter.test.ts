/** The call counter counts SDK calls by command, read/write, against the emulator. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetRoleCommand, IAMClient, ListRolesCommand, TagRoleCommand } from '@aws-sdk/client-iam';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createLedgerTable } from '../../lib/sweeper/ledger';
import { CallCounter, operationKind } from '../support/call-counter';
import { clientConfig, Moto, startMoto } from '../support/moto';

let moto: Moto;
// Every test reads this table: it is made once here, so each test runs alone or in any order.
beforeAll(async () => {
  moto = await startMoto();
  await createLedgerTable(DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(moto.endpoint))), 'permission-decay-ledger-counter');
});
afterAll(async () => {
  await moto?.stop();
});

test.each([
  ['GetAccountAuthorizationDetails', 'read'],
  ['ListRoleTags', 'read'],
  ['QueryCommand', 'read'],
  ['BatchGetItem', 'read'],
  ['PutRolePolicy', 'write'],
  ['TagRole', 'write'],
  ['TransactWriteItems', 'write'],
  ['PutEvents', 'write'],
  ['Publish', 'write'],
])('%s is a %s', (op, kind) => {
  expect(operationKind(op)).toBe(kind);
});

test('counts IAM and DynamoDB (document client) calls by command, reads and writes apart', async () => {
  const counter = new CallCounter();
  const iam = counter.attach(new IAMClient(clientConfig(moto.endpoint)));
  const ddb = counter.attach(DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(moto.endpoint))));

  await iam.send(new ListRolesCommand({}));
  await iam.send(new ListRolesCommand({}));
  await expect(iam.send(new GetRoleCommand({ RoleName: 'absent' }))).rejects.toThrow();
  await expect(iam.send(new TagRoleCommand({ RoleName: 'absent', Tags: [{ Key: 'k', Value: 'v' }] }))).rejects.toThrow();
  await ddb.send(new PutCommand({ TableName: 'permission-decay-ledger-counter', Item: { pk: 'a', sk: 'b' } }));
  await ddb.send(new GetCommand({ TableName: 'permission-decay-ledger-counter', Key: { pk: 'a', sk: 'b' } }));

  expect(counter.byCommand()).toEqual({
    'dynamodb:GetItem': 1,
    'dynamodb:PutItem': 1,
    'iam:GetRole': 1,
    'iam:ListRoles': 2,
    'iam:TagRole': 1,
  });
  expect(counter.total({ service: 'iam', kind: 'read' })).toBe(3);
  expect(counter.total({ service: 'iam', kind: 'write' })).toBe(1);
  expect(counter.total({ kind: 'write' })).toBe(2);
  expect(counter.totalAttempts()).toBeGreaterThanOrEqual(counter.total());
});

test('attaching twice (a document client shares its inner stack) still counts once', async () => {
  const counter = new CallCounter();
  const inner = new DynamoDBClient(clientConfig(moto.endpoint));
  counter.attach(inner);
  const doc = counter.attach(DynamoDBDocumentClient.from(inner));
  await doc.send(new GetCommand({ TableName: 'permission-decay-ledger-counter', Key: { pk: 'a', sk: 'b' } }));
  expect(counter.calls('GetItem')).toBe(1);
});
