import {
  ContractError,
  canonicalPolicyJson,
  formatExpiry,
  formatGrantTag,
  grantDocumentWithExpiry,
  grantTagKey,
  normalizeInstant,
  parseAgentSpec,
  parseExpiry,
  parseGrantTag,
  policyNameOfGrantTag,
  statementsOf,
  withExpiryCondition,
} from '../../lib/contract';

describe('expiry instants', () => {
  test.each([
    ['2026-12-31T00:00:00Z', Date.UTC(2026, 11, 31)],
    ['2028-02-29T23:59:59Z', Date.UTC(2028, 1, 29, 23, 59, 59)],
  ])('parses %s', (text, ms) => {
    expect(parseExpiry(text).getTime()).toBe(ms);
  });

  test.each([
    '',
    'never',
    '2026-12-31',
    '2026-12-31T00:00Z',
    '2026-12-31T00:00:00',
    '2026-12-31T00:00:00.000Z',
    '2026-12-31T00:00:00+00:00',
    '2026-02-30T00:00:00Z',
    '2027-02-29T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-12-31T24:00:00Z',
    '2026-12-31T00:60:00Z',
    ' 2026-12-31T00:00:00Z',
    '２０２６-12-31T00:00:00Z',
  ])('refuses %j, naming it', text => {
    expect(() => parseExpiry(text)).toThrow(ContractError);
    expect(() => parseExpiry(text)).toThrow(JSON.stringify(text).slice(1, -1));
  });

  test('formats to the second in UTC', () => {
    expect(formatExpiry(new Date('2026-12-31T10:20:30.999+02:00'))).toBe('2026-12-31T08:20:30Z');
  });

  test.each([
    ['2026-12-31T00:00:00Z', '2026-12-31T00:00:00Z'],
    ['2026-12-31T02:00:00+02:00', '2026-12-31T00:00:00Z'],
    ['2026-12-31T00:00Z', '2026-12-31T00:00:00Z'],
  ])('normalizes a person-given instant %s', (text, expected) => {
    expect(normalizeInstant(text)).toBe(expected);
  });

  test.each(['2026-12-31', '2026-12-31T00:00:00', 'tomorrow', '1767139200'])('refuses a zone-less or vague instant %s', text => {
    expect(() => normalizeInstant(text, '--until')).toThrow(/--until/);
  });
});

describe('grant tags', () => {
  const tag = { expiresAt: '2026-12-31T00:00:00Z', requestedBy: 'alice@example.com', ticket: 'SEC-1234' };

  test('key and value round-trip', () => {
    const value = formatGrantTag(tag);
    expect(value).toBe('expires=2026-12-31T00:00:00Z by=alice@example.com ticket=SEC-1234');
    expect(parseGrantTag(value)).toEqual(tag);
    expect(policyNameOfGrantTag(grantTagKey('customer-db-read'))).toBe('customer-db-read');
  });

  test('field order does not matter', () => {
    expect(parseGrantTag('ticket=SEC-1 by=bob expires=2026-12-31T00:00:00Z')).toEqual({
      expiresAt: '2026-12-31T00:00:00Z',
      requestedBy: 'bob',
      ticket: 'SEC-1',
    });
  });

  test.each([
    ['', /not a field=value/],
    ['expires=2026-12-31T00:00:00Z by=alice', /ticket.*missing/],
    ['expires=2026-12-31 by=a ticket=b', /YYYY-MM-DD/],
    ['expires=never by=a ticket=b', /never/],
    ['expires= by=a ticket=b', /expires.*empty/],
    ['expires=2026-12-31T00:00:00Z by=a ticket=b color=red', /unknown field "color"/],
    ['expires=2026-12-31T00:00:00Z expires=2027-12-31T00:00:00Z by=a ticket=b', /appears twice/],
    ['expires=2026-12-31T00:00:00Z  by=a ticket=b', /not a field=value/],
    ['Expires=2026-12-31T00:00:00Z by=a ticket=b', /unknown field "Expires"/],
    ['expires=2026-12-31T00:00:00Z by=ålice ticket=b', /by/],
    [`expires=2026-12-31T00:00:00Z by=a ticket=${'x'.repeat(240)}`, /longer than 256/],
  ])('a malformed value %j is an error, never "no expiry"', (value, message) => {
    expect(() => parseGrantTag(value)).toThrow(message);
  });

  test('formatting refuses what the tag cannot hold', () => {
    expect(() => formatGrantTag({ ...tag, requestedBy: 'alice smith' })).toThrow(/requester "alice smith"/);
    expect(() => formatGrantTag({ ...tag, ticket: '' })).toThrow(/ticket ""/);
    expect(() => formatGrantTag({ ...tag, ticket: 'T'.repeat(250) })).toThrow(/IAM allows 256/);
  });

  test('grant tag keys are recognised case-insensitively, as IAM compares them', () => {
    expect(policyNameOfGrantTag('Governance:Grant:x')).toBe('x');
    expect(policyNameOfGrantTag('governance:grant:')).toBeUndefined();
    expect(policyNameOfGrantTag('governance:agent')).toBeUndefined();
  });
});

describe('the expiry condition', () => {
  test('is merged with the conditions a statement already has', () => {
    const s = withExpiryCondition(
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: '*',
        Condition: { StringEquals: { 'aws:ResourceTag/team': 'a' }, DateLessThan: { 'aws:EpochTime': '1' } },
      },
      '2026-12-31T00:00:00Z',
    );
    expect(s.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/team': 'a' },
      DateLessThan: { 'aws:EpochTime': '1', 'aws:CurrentTime': '2026-12-31T00:00:00Z' },
    });
  });

  test('a renewal moves it rather than adding a second one', () => {
    const doc = grantDocumentWithExpiry({ Statement: { Effect: 'Allow', Action: '*', Resource: '*' } }, '2026-12-31T00:00:00Z');
    const renewed = grantDocumentWithExpiry(doc, '2027-01-31T00:00:00Z');
    expect(statementsOf(renewed)).toHaveLength(1);
    expect(statementsOf(renewed)[0].Condition).toEqual({ DateLessThan: { 'aws:CurrentTime': '2027-01-31T00:00:00Z' } });
  });

  test('a document without statements is refused by name', () => {
    expect(() => statementsOf({} as never)).toThrow(/no Statement/);
  });
});

describe('canonical policy JSON', () => {
  test('treats the forms IAM treats alike as equal', () => {
    const a = { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::b/*' } };
    const b = { Statement: [{ Resource: ['arn:aws:s3:::b/*'], Action: 's3:GetObject', Effect: 'Allow', Sid: 'x' }], Version: '2012-10-17' };
    expect(canonicalPolicyJson(a)).toBe(canonicalPolicyJson(b));
  });

  test('tells different documents apart', () => {
    const a = { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
    const b = { Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }] };
    expect(canonicalPolicyJson(a)).not.toBe(canonicalPolicyJson(b));
  });
});

describe('approved specs', () => {
  const good = { v: 1, agentId: 'a', roleName: 'r', owner: 'o', maxGrantDurationSeconds: 1, maxRenewals: 1, baseline: [], grants: [] };

  test('parses a good spec', () => {
    expect(parseAgentSpec(JSON.stringify(good), '/p').agentId).toBe('a');
  });

  test.each([
    ['not json', /\/p is not JSON/],
    [JSON.stringify({ ...good, v: 2 }), /version 2/],
    [JSON.stringify({ ...good, roleName: '' }), /no roleName/],
    [JSON.stringify({ ...good, grants: {} }), /must list baseline and grants/],
    [JSON.stringify({ ...good, grants: [{ name: 'g', expiresAt: 'soon' }] }), /grant g expiresAt/],
  ])('refuses %s with a message naming the parameter', (text, message) => {
    expect(() => parseAgentSpec(text, '/p')).toThrow(message);
  });
});
