import { App, Duration, Stack, aws_dynamodb as dynamodb } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { PermissionSweeper, PermissionSweeperProps } from '../../lib/permission-sweeper';
import { LEDGER_TABLE_NAME_PREFIX } from '../../lib/contract';
import { ensureSweeperHandlerBundle } from './sweeper-fixture';

beforeAll(() => ensureSweeperHandlerBundle());

function build(props: PermissionSweeperProps | ((s: Stack) => PermissionSweeperProps)): { stack: Stack; sweeper: PermissionSweeper } {
  const stack = new Stack(new App(), 'Governance');
  const sweeper = new PermissionSweeper(stack, 'Sweeper', typeof props === 'function' ? props(stack) : props);
  return { stack, sweeper };
}

describe('PermissionSweeper validation', () => {
  test.each([
    ['a table name without the ledger prefix', { ledgerTableName: 'audit-ledger' }, /must start with "permission-decay-ledger"/],
    ['a table name DynamoDB rejects', { ledgerTableName: `${LEDGER_TABLE_NAME_PREFIX} with spaces` }, /not a DynamoDB table name/],
    ['a zero drift period', { driftPeriod: Duration.seconds(0) }, /driftPeriod must be whole seconds, at least 1/],
    ['a fractional drift period', { driftPeriod: Duration.millis(1500) }, /driftPeriod must be whole seconds/],
    ['a fractional warning window', { warningWindow: Duration.millis(10) }, /warningWindow must be whole seconds/],
    ['a timeout under a minute', { timeout: Duration.seconds(30) }, /timeout must be between 1 and 15 minutes/],
    ['a timeout over 15 minutes', { timeout: Duration.minutes(16) }, /timeout must be between 1 and 15 minutes/],
    ['too little memory', { memorySize: 64 }, /memorySize must be a whole number of MB from 128 to 10240/],
  ] as [string, PermissionSweeperProps, RegExp][])('rejects %s', (_what, props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  test('rejects an existing table whose name lacks the prefix', () => {
    expect(() => build(s => ({ ledgerTable: dynamodb.Table.fromTableName(s, 'T', 'my-table') }))).toThrow(
      /must start with "permission-decay-ledger"/,
    );
  });

  test('rejects ledgerTable together with ledgerTableName', () => {
    expect(() =>
      build(s => ({
        ledgerTable: dynamodb.Table.fromTableName(s, 'T', `${LEDGER_TABLE_NAME_PREFIX}-x`),
        ledgerTableName: `${LEDGER_TABLE_NAME_PREFIX}-y`,
      })),
    ).toThrow(/either ledgerTable or ledgerTableName/);
  });

  test('accepts a zero warning window (warnings off)', () => {
    expect(() => build({ warningWindow: Duration.seconds(0) })).not.toThrow();
  });

  test("warns when an existing table's name cannot be checked at synth", () => {
    const { stack } = build(s => ({
      ledgerTable: new dynamodb.Table(s, 'Shared', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } }),
    }));
    Annotations.fromStack(stack).hasWarning('/Governance/Sweeper', Match.stringLikeRegexp('must start with "permission-decay-ledger"'));
  });
});
