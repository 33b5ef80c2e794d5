/**
 * Contract items the other suites reach only through the AWS-backed code (ledger keys, seals, signing
 * messages) or not at their edges. Every expected value is written out here, not computed by the contract.
 */
import {
  ContractError,
  delegationGrantName,
  formatExpiry,
  ledgerSigningMessage,
  normalizeInstant,
  recordSortKey,
  renewalPartition,
  requestPartition,
  rolePartition,
  sealPartition,
  sealSortKey,
} from '../../lib/contract';

function refusal(fn: () => unknown): { name: string; code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ContractError)) throw e;
    return { name: e.name, code: e.code, message: e.message };
  }
  throw new Error('accepted, expected a refusal');
}

describe('ledger and seal keys, as DynamoDB stores them', () => {
  test.each([
    ['rolePartition', () => rolePartition('agent-a'), 'ROLE#agent-a'],
    ['recordSortKey 7', () => recordSortKey(7), 'REC#000000000007'],
    ['recordSortKey of 12 digits', () => recordSortKey(123456789012), 'REC#123456789012'],
    ['renewalPartition', () => renewalPartition('agent-a', 'read-logs'), 'RENEWAL#agent-a#read-logs'],
    ['requestPartition', () => requestPartition('agent-a', 'read-logs'), 'REQUEST#agent-a#read-logs'],
    ['sealPartition', () => sealPartition('AROAEXAMPLE:alice'), 'SEAL#AROAEXAMPLE:alice'],
    [
      'sealSortKey of a renewal',
      () => sealSortKey({ kind: 'renewal', roleName: 'agent-a', grant: 'read-logs', id: 'r-1' }),
      'RENEWAL#agent-a#read-logs#r-1',
    ],
    ['sealSortKey of a restore', () => sealSortKey({ kind: 'restore', roleName: 'r', grant: 'g', id: 'x' }), 'RESTORE#r#g#x'],
    ['delegationGrantName', () => delegationGrantName('agent-b'), 'delegate-to-agent-b'],
    ['ledgerSigningMessage', () => ledgerSigningMessage('agent-a', 42, 'ab12'), 'permission-decay/ledger/v1\nagent-a\n42\nab12'],
  ])('%s', (_name, fn, expected) => {
    expect(fn()).toBe(expected);
  });
});

describe('ContractError', () => {
  test('is named ContractError (what logs and the CLI print before the message)', () => {
    const e = new ContractError('BAD_EXPIRY', 'why');
    expect([e.name, e.code, e.message, e instanceof Error]).toEqual(['ContractError', 'BAD_EXPIRY', 'why', true]);
    expect(String(e)).toBe('ContractError: why');
  });
});

describe('formatExpiry', () => {
  test('refuses an invalid date instead of printing "Invalid Date"', () => {
    expect(refusal(() => formatExpiry(new Date(Number.NaN)))).toEqual({
      name: 'ContractError',
      code: 'BAD_EXPIRY',
      message: 'cannot format an invalid date',
    });
  });

  test.each([
    [Date.UTC(2030, 0, 20, 1, 2, 3, 999), '2030-01-20T01:02:03Z'],
    [Date.UTC(2030, 11, 31, 23, 59, 59, 0), '2030-12-31T23:59:59Z'],
  ])('%d is %s (milliseconds dropped)', (ms, text) => {
    expect(formatExpiry(new Date(ms))).toBe(text);
  });
});

describe('normalizeInstant', () => {
  test.each([
    ['2030-01-20T00:00:00Z', '2030-01-20T00:00:00Z'],
    ['2030-01-20T01:30:00+01:30', '2030-01-20T00:00:00Z'],
    ['2030-01-19T20:00-04:00', '2030-01-20T00:00:00Z'],
    ['2030-01-20T00:00:00.999999Z', '2030-01-20T00:00:00Z'],
  ])('%s is %s', (text, expected) => {
    expect(normalizeInstant(text)).toBe(expected);
  });

  test('an instant without a zone is refused, named by default as "instant"', () => {
    expect(refusal(() => normalizeInstant('2030-01-20T00:00:00'))).toEqual({
      name: 'ContractError',
      code: 'BAD_INSTANT',
      message: 'instant "2030-01-20T00:00:00" is not an ISO-8601 instant with a time zone, e.g. 2026-12-31T00:00:00Z',
    });
  });

  test('the expiry form is held to the calendar (Date.parse would roll 30 February into March)', () => {
    expect(refusal(() => normalizeInstant('2030-02-30T00:00:00Z', '--at'))).toEqual({
      name: 'ContractError',
      code: 'BAD_EXPIRY',
      message: '--at "2030-02-30T00:00:00Z" is not a real calendar instant',
    });
  });
});
