/** PermissionSweeper checkpointInterval: reaches the function's environment; checked at synth. */
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { SWEEPER_ENV } from '../../lib/contract';
import { sweeperStack } from '../sweeper-construct/sweeper-fixture';

const envOf = (value: string) => ({ Environment: { Variables: Match.objectLike({ [SWEEPER_ENV.checkpointIntervalSeconds]: value }) } });

test.each([
  ['default: 30 days', undefined, String(30 * 86400)],
  ['7 days', Duration.days(7), String(7 * 86400)],
  ['0: checkpoints off', Duration.seconds(0), '0'],
])('%s', (_name, checkpointInterval, expected) => {
  const { template } = sweeperStack(checkpointInterval ? { checkpointInterval } : {});
  template.hasResourceProperties('AWS::Lambda::Function', envOf(expected));
});

test('not whole seconds: throws at once', () => {
  expect(() => sweeperStack({ checkpointInterval: Duration.millis(1500) })).toThrow(/checkpointInterval must be whole seconds/);
});
