/**
 * Malformed inputs for the sweeper and the CLI: grant expiry tag values,
 * policy documents and renewal records, hand-written and generated. Each entry
 * says why it is malformed, so a failing test names it.
 */
import { RenewalRecord, renewalPartition } from '../../lib/contract';

export interface CorpusEntry<T> {
  readonly why: string;
  readonly value: T;
}

const NOW = '2030-01-10T00:00:00Z';

/** Expiry instants that are not the one accepted form (YYYY-MM-DDTHH:MM:SSZ, a real UTC instant). */
export function malformedInstants(): CorpusEntry<string>[] {
  const hand: [string, string][] = [
    ['empty', ''],
    ['date only', '2030-01-20'],
    ['no seconds', '2030-01-20T00:00Z'],
    ['milliseconds', '2030-01-20T00:00:00.000Z'],
    ['offset +00:00', '2030-01-20T00:00:00+00:00'],
    ['offset -05:00', '2030-01-20T00:00:00-05:00'],
    ['offset +14:00', '2030-01-20T00:00:00+14:00'],
    ['no zone', '2030-01-20T00:00:00'],
    ['lower-case z', '2030-01-20T00:00:00z'],
    ['lower-case t', '2030-01-20t00:00:00Z'],
    ['space separator', '2030-01-20 00:00:00Z'],
    ['zone name', '2030-01-20T00:00:00UTC'],
    ['February 30', '2030-02-30T00:00:00Z'],
    ['February 29 in a common year', '2031-02-29T00:00:00Z'],
    ['month 13', '2030-13-01T00:00:00Z'],
    ['month 0', '2030-00-10T00:00:00Z'],
    ['day 0', '2030-01-00T00:00:00Z'],
    ['day 32', '2030-01-32T00:00:00Z'],
    ['hour 24', '2030-01-20T24:00:00Z'],
    ['minute 60', '2030-01-20T23:60:00Z'],
    ['leap second', '2030-06-30T23:59:60Z'],
    ['two-digit year', '30-01-20T00:00:00Z'],
    ['five-digit year', '20300-01-20T00:00:00Z'],
    ['year 0099 (Date.UTC maps it to 1999)', '0099-01-20T00:00:00Z'],
    ['negative year', '-2030-01-20T00:00:00Z'],
    ['epoch seconds', '1894060800'],
    ['words', 'never'],
    ['tomorrow', 'tomorrow'],
    ['fullwidth digits', '２０３０-01-20T00:00:00Z'],
    ['arabic-indic digits', '٢٠٣٠-01-20T00:00:00Z'],
    ['trailing space', '2030-01-20T00:00:00Z '],
    ['leading space', ' 2030-01-20T00:00:00Z'],
    ['slashes', '2030/01/20T00:00:00Z'],
    ['week date', '2030-W03-1T00:00:00Z'],
    ['ordinal date', '2030-020T00:00:00Z'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['JSON null', 'null'],
    ['RFC 2822', 'Sun, 20 Jan 2030 00:00:00 GMT'],
    ['zero-width space', '2030-01-20T00:00:00\u200bZ'],
  ];
  const out = hand.map(([why, value]) => ({ why, value }));
  // Generated: every field out of range in turn, across a few years.
  for (const y of [2029, 2030, 2032]) {
    for (const [why, v] of [
      ['month 13', `${y}-13-15T12:00:00Z`],
      ['day 31 in a 30-day month', `${y}-04-31T12:00:00Z`],
      ['hour 25', `${y}-03-15T25:00:00Z`],
      ['second 61', `${y}-03-15T12:00:61Z`],
      ['single-digit month', `${y}-3-15T12:00:00Z`],
      ['single-digit day', `${y}-03-5T12:00:00Z`],
    ] as const)
      out.push({ why: `${why} (${y})`, value: v });
  }
  return out;
}

/** Instants of the right form that are too far away: beyond the maximum grant duration from NOW. */
export function farFutureInstants(): CorpusEntry<string>[] {
  return ['2030-03-01T00:00:00Z', '2031-01-10T00:00:00Z', '2099-12-31T23:59:59Z', '9999-12-31T23:59:59Z'].map(value => ({
    why: `beyond the maximum grant duration (${value})`,
    value,
  }));
}

/** Grant tag values (`expires=<instant> by=<requester> ticket=<ticket>`) that are malformed. */
export function malformedGrantTags(): CorpusEntry<string>[] {
  const out: CorpusEntry<string>[] = malformedInstants().map(e => ({
    why: `expires: ${e.why}`,
    value: `expires=${e.value} by=bob ticket=T-1`,
  }));
  const ok = '2030-01-20T00:00:00Z';
  const hand: [string, string][] = [
    ['empty value', ''],
    ['a single space', ' '],
    ['only the instant', ok],
    ['missing ticket', `expires=${ok} by=bob`],
    ['missing by', `expires=${ok} ticket=T-1`],
    ['missing expires', 'by=bob ticket=T-1'],
    ['empty requester', `expires=${ok} by= ticket=T-1`],
    ['empty ticket', `expires=${ok} by=bob ticket=`],
    ['two spaces', `expires=${ok}  by=bob ticket=T-1`],
    ['tab separator', `expires=${ok}\tby=bob ticket=T-1`],
    ['comma separator', `expires=${ok},by=bob,ticket=T-1`],
    ['semicolons', `expires=${ok};by=bob;ticket=T-1`],
    ['colon instead of =', `expires:${ok} by:bob ticket:T-1`],
    ['unknown key', `expires=${ok} by=bob ticket=T-1 extra=1`],
    ['unknown key only', 'foo=bar'],
    ['duplicate expires', `expires=${ok} expires=2030-01-21T00:00:00Z by=bob ticket=T-1`],
    ['duplicate key, different case', `expires=${ok} Expires=2099-01-01T00:00:00Z by=bob ticket=T-1`],
    ['upper-case keys', `EXPIRES=${ok} BY=bob TICKET=T-1`],
    ['duplicate by', `expires=${ok} by=bob by=eve ticket=T-1`],
    ['unicode requester', `expires=${ok} by=böb ticket=T-1`],
    ['emoji ticket', `expires=${ok} by=bob ticket=🎫`],
    ['right-to-left override', `expires=${ok} by=bob\u202e ticket=T-1`],
    ['NUL byte', `expires=${ok} by=bob\u0000 ticket=T-1`],
    ['newline', `expires=${ok}\nby=bob ticket=T-1`],
    ['quotes', `expires="${ok}" by=bob ticket=T-1`],
    ['JSON', JSON.stringify({ expires: ok, by: 'bob', ticket: 'T-1' })],
    ['256 characters', `expires=${ok} by=bob ticket=${'x'.repeat(256 - `expires=${ok} by=bob ticket=`.length - 1)}!`],
    ['257 characters', `expires=${ok} by=bob ticket=${'x'.repeat(257 - `expires=${ok} by=bob ticket=`.length)}`],
    ['1024 characters', `expires=${ok} by=bob ticket=${'y'.repeat(1000)}`],
    ['leading space', ` expires=${ok} by=bob ticket=T-1`],
    ['trailing space', `expires=${ok} by=bob ticket=T-1 `],
    ['= only', '='],
    ['key without value', 'expires'],
    ['value with spaces in requester', `expires=${ok} by=bob smith ticket=T-1`],
  ];
  out.push(...hand.map(([why, value]) => ({ why, value })));
  // Generated: each field dropped, doubled or renamed, in each order.
  const fields = [`expires=${ok}`, 'by=bob', 'ticket=T-1'];
  for (let i = 0; i < 3; i++) {
    const dropped = fields.filter((_, j) => j !== i);
    out.push({ why: `field ${i + 1} dropped`, value: dropped.join(' ') });
    out.push({ why: `field ${i + 1} doubled`, value: [...fields, fields[i]].join(' ') });
    out.push({ why: `field ${i + 1} renamed`, value: fields.map((f, j) => (j === i ? `x${f}` : f)).join(' ') });
    out.push({
      why: `field ${i + 1} value emptied`,
      value: fields.map((f, j) => (j === i ? f.slice(0, f.indexOf('=') + 1) : f)).join(' '),
    });
  }
  return out;
}

/** Policy documents in every form IAM (or a person) may produce; `valid` false: IAM would refuse it, the sweeper must not crash. */
export function policyDocuments(): (CorpusEntry<string> & { valid: boolean })[] {
  const st = (extra: Record<string, unknown>) => ({ Effect: 'Allow', Resource: '*', Action: 's3:GetObject', ...extra });
  const docs: [string, unknown, boolean][] = [
    ['single statement object', { Version: '2012-10-17', Statement: st({}) }, true],
    ['Action as a list', { Version: '2012-10-17', Statement: [st({ Action: ['s3:GetObject', 's3:PutObject'] })] }, true],
    ['NotAction', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }] }, true],
    [
      'NotResource',
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', NotResource: ['arn:aws:s3:::secret/*'] }] },
      true,
    ],
    ['Deny statement', { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' }] }, true],
    [
      'existing conditions',
      {
        Version: '2012-10-17',
        Statement: [st({ Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' }, DateLessThan: { 'aws:EpochTime': '1' } } })],
      },
      true,
    ],
    ['Sid and no Version', { Statement: [st({ Sid: 'A1' })] }, true],
    [
      'huge: 400 statements',
      {
        Version: '2012-10-17',
        Statement: Array.from({ length: 400 }, (_, i) => st({ Sid: `S${i}`, Resource: `arn:aws:s3:::bucket-${i}/*` })),
      },
      true,
    ],
    [
      'huge: 2,000 actions',
      { Version: '2012-10-17', Statement: [st({ Action: Array.from({ length: 2000 }, (_, i) => `s3:Action${i}`) })] },
      true,
    ],
    [
      'unicode in Sid and resources',
      { Version: '2012-10-17', Statement: [st({ Sid: 'Ünïcødé', Resource: 'arn:aws:s3:::bücket/ключ/*' })] },
      true,
    ],
    ['no Statement', { Version: '2012-10-17' }, false],
    ['Statement null', { Version: '2012-10-17', Statement: null }, false],
    ['Statement a string', { Version: '2012-10-17', Statement: 'Allow everything' }, false],
    ['Statement a number', { Version: '2012-10-17', Statement: 42 }, false],
    ['Statement list of non-objects', { Version: '2012-10-17', Statement: [1, 'x', null] }, false],
    ['empty Statement list', { Version: '2012-10-17', Statement: [] }, false],
    ['Condition a string', { Version: '2012-10-17', Statement: [st({ Condition: 'always' })] }, false],
    ['top-level list', [st({})], false],
    ['JSON null', null, false],
  ];
  const out = docs.map(([why, value, valid]) => ({ why, value: JSON.stringify(value), valid }));
  out.push({ why: 'not JSON', value: '{"Version": "2012-10-17", Statement: [', valid: false });
  out.push({ why: 'empty text', value: '', valid: false });
  out.push({
    why: 'URL-encoded twice',
    value: encodeURIComponent(encodeURIComponent(JSON.stringify({ Statement: st({}) }))),
    valid: false,
  });
  return out;
}

/** Renewal records that must never extend `grant` on `roleName` (requested by bob) at NOW. */
export function invalidRenewals(roleName: string, grant: string): CorpusEntry<RenewalRecord>[] {
  const base: RenewalRecord = {
    pk: renewalPartition(roleName, grant),
    sk: `2030-01-09T00:00:00Z#r0`,
    renewalId: 'r0',
    roleName,
    grant,
    until: '2030-01-15T00:00:00Z',
    ticket: 'T-9',
    requestedBy: 'bob',
    approvedBy: 'arn:aws:iam::123456789012:user/alice',
    createdAt: '2030-01-09T00:00:00Z',
  };
  const r = (why: string, patch: Partial<RenewalRecord>): CorpusEntry<RenewalRecord> => ({ why, value: { ...base, ...patch } });
  return [
    r('already ended', { until: '2030-01-09T12:00:00Z' }),
    r('ends exactly now', { until: NOW }),
    r('self-approved (same user name)', { approvedBy: 'arn:aws:iam::123456789012:user/bob' }),
    r('self-approved (assumed-role session name)', { approvedBy: 'arn:aws:sts::123456789012:assumed-role/Admin/bob' }),
    r('self-approved (case differs)', { approvedBy: 'arn:aws:iam::123456789012:user/BOB' }),
    r('self-approved (email local part)', { approvedBy: 'arn:aws:sts::123456789012:assumed-role/SSO/bob@example.com' }),
    r('for another role', { roleName: `${roleName}-other` }),
    r('for another grant', { grant: `${grant}-other` }),
    r('beyond the maximum grant duration', { until: '2030-03-01T00:00:00Z' }),
    r('malformed until', { until: '2030-01-15' }),
    r('until with an offset', { until: '2030-01-15T00:00:00+01:00' }),
    r('until not a date', { until: 'forever' }),
    r('until far future', { until: '9999-12-31T23:59:59Z' }),
  ];
}
