/**
 * The contract's parsers refuse with a code and a message naming the input and
 * the rule, at the exact boundaries: only YYYY-MM-DDTHH:MM:SSZ of a real
 * calendar instant is an expiry; a grant tag is exactly expires, by and ticket.
 */
import { ContractError, parseExpiry, parseGrantTag } from '../../lib/contract';

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ContractError)) throw e;
    return { code: e.code, message: e.message };
  }
  throw new Error('accepted, expected a refusal');
}

describe('parseExpiry', () => {
  test.each([
    ['2030-01-20', 'is not an instant of the form YYYY-MM-DDTHH:MM:SSZ (UTC)'],
    ['2030-02-30T00:00:00Z', 'is not a real calendar instant'],
    ['2030-01-20T24:00:00Z', 'is not a real calendar instant'],
    ['2031-12-32T00:00:00Z', 'is not a real calendar instant'],
    // Date.UTC reads years 0..99 as 1900..1999: only the year check tells this from 1999-01-20.
    ['0099-01-20T00:00:00Z', 'is not a real calendar instant'],
  ])('%s: BAD_EXPIRY, "expiry \\"<text>\\" %s"', (text, rule) => {
    expect(refusal(() => parseExpiry(text))).toEqual({ code: 'BAD_EXPIRY', message: `expiry "${text}" ${rule}` });
  });

  test('names what was being parsed', () => {
    expect(refusal(() => parseExpiry('soon', '--until')).message).toBe(
      '--until "soon" is not an instant of the form YYYY-MM-DDTHH:MM:SSZ (UTC)',
    );
  });
});

describe('parseGrantTag', () => {
  const ok = 'expires=2030-01-20T00:00:00Z by=bob ticket=T-1';
  test.each([
    [
      '=x by=bob ticket=T-1 expires=2030-01-20T00:00:00Z',
      'grant tag "=x by=bob ticket=T-1 expires=2030-01-20T00:00:00Z": "=x" is not a field=value pair',
    ],
    ['expires by=bob ticket=T-1', 'grant tag "expires by=bob ticket=T-1": "expires" is not a field=value pair'],
    [`${ok} owner=x`, `grant tag "${ok} owner=x": unknown field "owner" (expected expires, by, ticket)`],
    [`${ok} by=eve`, `grant tag "${ok} by=eve": field "by" appears twice`],
    [
      'expires=2030-01-20T00:00:00Z by= ticket=T-1',
      'grant tag "expires=2030-01-20T00:00:00Z by= ticket=T-1": field "by" is empty or has characters outside _ . : / = + - @ letters and digits',
    ],
    ['expires=2030-01-20T00:00:00Z by=bob', 'grant tag "expires=2030-01-20T00:00:00Z by=bob": field "ticket" is missing'],
    [
      'expires=2030-02-30T00:00:00Z by=bob ticket=T-1',
      'grant tag "expires=2030-02-30T00:00:00Z by=bob ticket=T-1": expires "2030-02-30T00:00:00Z" is not a real calendar instant',
    ],
  ])('%s', (value, message) => {
    expect(refusal(() => parseGrantTag(value))).toEqual({ code: expect.stringMatching(/^BAD_/), message });
    expect(refusal(() => parseGrantTag(value)).code).toBe(message.includes('expires "') ? 'BAD_EXPIRY' : 'BAD_GRANT_TAG');
  });

  test('256 characters is a tag value IAM holds; 257 is refused as too long', () => {
    const at256 = `${ok} `.trimEnd().replace('T-1', `T-${'1'.repeat(256 - ok.length + 1)}`);
    expect(at256).toHaveLength(256);
    expect(parseGrantTag(at256).ticket).toHaveLength(256 - 'expires=2030-01-20T00:00:00Z by=bob ticket='.length);
    const at257 = at256 + '1';
    expect(refusal(() => parseGrantTag(at257))).toEqual({
      code: 'BAD_GRANT_TAG',
      message: 'grant tag value is longer than 256 characters',
    });
  });
});
