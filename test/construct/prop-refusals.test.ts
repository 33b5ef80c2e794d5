/** GovernedAgentRole refuses props no governed role can work with, naming the prop and the fix. */
import { Duration } from 'aws-cdk-lib';
import { newAgent, newStack } from './fixtures';

describe('GovernedAgentRole refuses', () => {
  test.each([
    ['an empty owner', { owner: '' }, /GovernedAgentRole 'billing-bot': owner is missing: give a contact for the agent's owner/],
    [
      'a zero maxGrantDuration',
      { maxGrantDuration: Duration.seconds(0) },
      /maxGrantDuration must be a positive whole number of seconds: e\.g\. Duration\.days\(30\)/,
    ],
    ['a negative maxRenewals', { maxRenewals: -1 }, /maxRenewals -1 must be a whole number, 0 or more: e\.g\. 3/],
    ['a fractional maxRenewals', { maxRenewals: 1.5 }, /maxRenewals 1\.5 must be a whole number, 0 or more/],
  ])('%s', (_what, props, message) => {
    expect(() => newAgent(newStack(), props)).toThrow(message);
  });

  test('every problem at once, not the first only', () => {
    expect(() => newAgent(newStack(), { owner: '', maxGrantDuration: Duration.seconds(0), maxRenewals: -1 })).toThrow(
      /owner is missing.*; maxGrantDuration must be.*; maxRenewals -1/,
    );
  });

  test.each([
    ['one second', { maxGrantDuration: Duration.seconds(1) }],
    ['zero renewals (renewals off)', { maxRenewals: 0 }],
  ])('control: accepts %s', (_what, props) => {
    expect(() => newAgent(newStack(), props)).not.toThrow();
  });
});
